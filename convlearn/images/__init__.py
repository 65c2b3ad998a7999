"""Images on disk: decoding, encoding, atomic files, input collection and output planning.

Nothing here imports torch.
"""

from convlearn.images.batch import (
    INPUT_SUFFIXES,
    Loaded,
    Source,
    collect_inputs,
    group_batches,
    plan_outputs,
    prefetch,
)
from convlearn.images.codec import (
    CHANNELS,
    DEFAULT_MAX_PIXELS,
    EXACT_SUFFIXES,
    IMAGE_SUFFIXES,
    LUMA,
    OUTPUT_FORMATS,
    SCALES,
    STDIO,
    decode_image,
    encode_image,
    read_image,
    read_input,
    require_file,
    to_picture,
    write_image,
    write_output,
)
from convlearn.images.files import (
    atomic_write,
    check_not_input,
    make_output_dir,
    write_bytes,
    write_text,
)

__all__ = [
    "CHANNELS",
    "DEFAULT_MAX_PIXELS",
    "EXACT_SUFFIXES",
    "IMAGE_SUFFIXES",
    "INPUT_SUFFIXES",
    "LUMA",
    "OUTPUT_FORMATS",
    "SCALES",
    "STDIO",
    "Loaded",
    "Source",
    "atomic_write",
    "check_not_input",
    "collect_inputs",
    "decode_image",
    "encode_image",
    "group_batches",
    "make_output_dir",
    "plan_outputs",
    "prefetch",
    "read_image",
    "read_input",
    "require_file",
    "to_picture",
    "write_bytes",
    "write_image",
    "write_output",
    "write_text",
]
