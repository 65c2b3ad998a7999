"""Files on disk: what a command reads and writes, whatever the file holds.

- :mod:`~convlearn.files.atomic`: atomic, no-clobber writes (images, kernel files, plots) and output checks;
- :mod:`~convlearn.files.inputs`: files, directories and globs to :class:`~convlearn.files.inputs.Source` items;
- :mod:`~convlearn.files.outputs`: every input's output named and checked before the first is written;
- :mod:`~convlearn.files.publish`: temporary names, publication that never replaces a file, stale ``.part`` files;
- :mod:`~convlearn.files.npy`: the header of a ``.npy`` file (images and kernel files), read without its array;
- :mod:`~convlearn.files.stdio`: ``-`` as stdin for an input and stdout for an output (bytes);
- :mod:`~convlearn.files.suffixes`: which names are images, and the formats of outputs named without a suffix.

Nothing here imports torch, and names are imported lazily (PEP 562), so that
:mod:`convlearn.images` (the codecs, one floor up) may write through :mod:`~convlearn.files.atomic`.
Nothing here imports :mod:`convlearn.images`.
"""

from __future__ import annotations

from convlearn.lazy import lazy_exports

# public name -> module of this package that defines it
_EXPORTS = {
    "atomic_write": "atomic",
    "check_not_input": "atomic",
    "check_output": "atomic",
    "check_output_dir": "atomic",
    "check_outputs": "atomic",
    "make_output_dir": "atomic",
    "write_bytes": "atomic",
    "write_text": "atomic",
    "FreshName": "publish",
    "NpyHeader": "npy",
    "read_npy_header": "npy",
    "INPUT_SUFFIXES": "inputs",
    "Source": "inputs",
    "collect_inputs": "inputs",
    "OUTPUT_SUFFIXES": "outputs",
    "check_image_suffix": "outputs",
    "make_output_dirs": "outputs",
    "plan_outputs": "outputs",
    "IMAGE_SUFFIXES": "suffixes",
    "OUTPUT_FORMATS": "suffixes",
    "STDIO": "stdio",
    "write_encoded": "stdio",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
