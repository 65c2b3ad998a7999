"""Images on disk: decoding, encoding, stdin and stdout, atomic files, input collection and output planning.

- :mod:`~convlearn.images.decode`: bytes or a file to float values (and the stored levels);
- :mod:`~convlearn.images.encode`: float values to the bytes of a file, and to a file;
- :mod:`~convlearn.images.stdio`: ``-`` as stdin for an input and stdout for an output;
- :mod:`~convlearn.images.files`: atomic writes and output directories;
- :mod:`~convlearn.images.inputs`: files, directories and globs to inputs, and their outputs;
- :mod:`~convlearn.images.prefetch`: decoding ahead on threads, and batches of one shape.

Nothing here imports torch.
"""

from convlearn.images.decode import (
    CHANNELS,
    DEFAULT_MAX_PIXELS,
    LUMA,
    Decoded,
    decode_image,
    decode_with_levels,
    integer_range,
    read_image,
    read_with_levels,
    require_file,
)
from convlearn.images.encode import (
    IMAGE_SUFFIXES,
    OUTPUT_FORMATS,
    PNG_COMPRESSION,
    SCALES,
    encode_image,
    encode_png,
    to_picture,
    write_image,
)
from convlearn.images.files import (
    atomic_write,
    check_not_input,
    check_output,
    check_outputs,
    make_output_dir,
    write_bytes,
    write_text,
)
from convlearn.images.formats import image_size
from convlearn.images.inputs import (
    INPUT_SUFFIXES,
    Source,
    check_image_suffix,
    collect_inputs,
    make_output_dirs,
    plan_outputs,
)
from convlearn.images.prefetch import (
    Loaded,
    group_batches,
    prefetch,
)
from convlearn.images.stdio import (
    STDIO,
    read_input,
    write_output,
)

__all__ = [
    "CHANNELS",
    "DEFAULT_MAX_PIXELS",
    "IMAGE_SUFFIXES",
    "INPUT_SUFFIXES",
    "LUMA",
    "OUTPUT_FORMATS",
    "PNG_COMPRESSION",
    "SCALES",
    "STDIO",
    "Decoded",
    "Loaded",
    "Source",
    "atomic_write",
    "check_image_suffix",
    "check_not_input",
    "check_output",
    "check_outputs",
    "collect_inputs",
    "decode_image",
    "decode_with_levels",
    "encode_image",
    "encode_png",
    "group_batches",
    "image_size",
    "integer_range",
    "make_output_dir",
    "make_output_dirs",
    "plan_outputs",
    "prefetch",
    "read_image",
    "read_input",
    "read_with_levels",
    "require_file",
    "to_picture",
    "write_bytes",
    "write_image",
    "write_output",
    "write_text",
]
