"""Images through ``-``: read from stdin or a file, encoded for stdout or a file.

stdout gets PNG unless another of :data:`~convlearn.images.OUTPUT_FORMATS` is asked for.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import numpy as np

from convlearn.errors import ImageReadError, invalid_choice
from convlearn.files.stdio import STDIO, write_encoded
from convlearn.images.decode import (
    DEFAULT_MAX_PIXELS,
    Decoded,
    decode_image,
    decode_with_levels,
    read_image,
    read_with_levels,
)
from convlearn.images.encode import OUTPUT_FORMATS, PNG_COMPRESSION, encode_image
from convlearn.images.formats import read_capped, read_limit

__all__ = ["encode_output", "read_decoded", "read_input", "write_output"]


def read_input(
    source: str | os.PathLike,
    *,
    channels: str = "luma",
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    exif_orientation: bool = True,
) -> np.ndarray:
    """:func:`~convlearn.images.read_image`, or the bytes of stdin when ``source`` is ``-``.

    stdin is read up to :func:`~convlearn.images.formats.read_limit` bytes, so an endless pipe is refused.

    Returns:
        float32 array, :math:`(H, W)` for luma, :math:`(H, W, 3)` for each.
    """
    options = {"channels": channels, "max_pixels": max_pixels, "exif_orientation": exif_orientation}
    if str(source) != STDIO:
        return read_image(source, **options)
    stream = getattr(sys.stdin, "buffer", sys.stdin)
    try:
        data = read_capped(stream, read_limit(max_pixels), "<stdin>")
    except OSError as e:
        why = "it is closed; pipe an image into it or name a file" if e.errno == errno.EBADF else e.strerror or e
        raise ImageReadError(f"stdin cannot be read: {why}") from None
    return decode_image(data, "<stdin>", **options)


def read_decoded(
    source: str | os.PathLike,
    *,
    channels: str = "luma",
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    exif_orientation: bool = True,
) -> Decoded:
    """:func:`read_input` as a :class:`~convlearn.images.decode.Decoded`: the values and a JPEG's tables, no levels."""
    options = {"channels": channels, "max_pixels": max_pixels, "exif_orientation": exif_orientation}
    if str(source) != STDIO:
        return read_with_levels(source, **options, keep_levels=False)
    stream = getattr(sys.stdin, "buffer", sys.stdin)
    try:
        data = read_capped(stream, read_limit(max_pixels), "<stdin>")
    except OSError as e:
        raise ImageReadError(f"stdin cannot be read: {e.strerror or e}") from None
    return decode_with_levels(data, "<stdin>", **options, keep_levels=False)


def write_output(
    target: str | os.PathLike,
    values: np.ndarray,
    *,
    scale: str = "auto",
    bit_depth: int = 8,
    fmt: str = "png",
    png_compression: int = PNG_COMPRESSION,
) -> str:
    """:func:`~convlearn.images.write_image`, or the encoded bytes on stdout when ``target`` is ``-``.

    Args:
        target: a path, or ``-`` for stdout.
        values: float array :math:`(H, W)` or :math:`(H, W, 3)`.
        scale: picture mapping, one of :data:`~convlearn.images.SCALES`.
        bit_depth: 8 or 16 (PNG only).
        fmt: the format for stdout, one of :data:`~convlearn.images.OUTPUT_FORMATS`
            (a path's suffix picks its own).
        png_compression: zlib level 0-9 of a PNG.

    Returns:
        The target, as text.
    """
    data = encode_output(target, values, scale=scale, bit_depth=bit_depth, fmt=fmt, png_compression=png_compression)
    return write_encoded(target, data)


def encode_output(
    target: str | os.PathLike,
    values: np.ndarray,
    *,
    scale: str = "auto",
    bit_depth: int = 8,
    fmt: str = "png",
    png_compression: int = PNG_COMPRESSION,
) -> bytes:
    """The bytes :func:`write_output` writes to ``target`` (arguments as there), for encoding apart from writing."""
    if str(target) != STDIO:
        suffix = Path(target).suffix
    elif fmt not in OUTPUT_FORMATS:
        raise invalid_choice("format", fmt, OUTPUT_FORMATS)
    else:
        suffix = f".{fmt}"
    return encode_image(values, suffix, scale=scale, bit_depth=bit_depth, png_compression=png_compression)
