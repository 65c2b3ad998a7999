"""Images as values: decoding, encoding, format details and decoding ahead.

- :mod:`~convlearn.images.config`: the words (channels, scales, formats, limits), torch-, NumPy- and Pillow-free;
- :mod:`~convlearn.images.decode`: bytes or a file to float values (and the stored levels);
- :mod:`~convlearn.images.encode`: float values to the bytes of a file, and to a file;
- :mod:`~convlearn.images.formats`: format details (16-bit colour PNG, EXIF, ``.npy`` headers, read caps);
- :mod:`~convlearn.images.prefetch`: decoding ahead on threads, and batches of one shape.

Files on disk (atomic writes, input collection, output planning, ``-`` as
stdin and stdout) are :mod:`convlearn.files`. Nothing here imports torch, and
names are imported lazily (PEP 562): ``from convlearn.images import SCALES``
reads :mod:`~convlearn.images.config` alone.
"""

from __future__ import annotations

# Eager, and light (the standard library only): the function ``prefetch`` shares its
# module's name, and importing the module later would put the module in its place.
from convlearn.images.prefetch import Loaded as Loaded
from convlearn.images.prefetch import group_batches as group_batches
from convlearn.images.prefetch import prefetch as prefetch
from convlearn.lazy import lazy_exports

# public name -> module of this package that defines it
_EXPORTS = {
    "CHANNELS": "config",
    "DEFAULT_MAX_PIXELS": "config",
    "IMAGE_SUFFIXES": "config",
    "OUTPUT_FORMATS": "config",
    "PNG_COMPRESSION": "config",
    "SCALES": "config",
    "LUMA": "decode",
    "Decoded": "decode",
    "decode_image": "decode",
    "decode_with_levels": "decode",
    "integer_range": "decode",
    "read_image": "decode",
    "read_with_levels": "decode",
    "require_file": "decode",
    "encode_image": "encode",
    "encode_png": "encode",
    "to_picture": "encode",
    "write_image": "encode",
    "check_npy_header": "formats",
    "image_size": "formats",
}

__all__ = sorted([*_EXPORTS, "Loaded", "group_batches", "prefetch"])


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
