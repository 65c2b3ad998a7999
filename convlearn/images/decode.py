"""Images in: bytes or a file, through Pillow or ``.npy``, to float values.

- integer images become float in [0, 1]: value / the type's maximum
  (255 for 8-bit, 65535 for 16-bit, 16-bit colour PNG included; a 32-bit
  integer TIFF by 2**32 - 1 when unsigned, 2**31 - 1 when signed, whatever
  its values);
- colour becomes luma ``Y = 0.299 R + 0.587 G + 0.114 B``, computed in float
  (or three channels with ``channels="each"``, which a grey image refuses);
- ``.npy`` and 32-bit float TIFF are read exactly as stored;
- a JPEG's (or TIFF's) EXIF orientation is applied, as viewers do, unless
  ``exif_orientation=False`` keeps the pixels as stored;
- at most :func:`read_limit` bytes are read, so an endless input (``/dev/zero``,
  a pipe that never ends) is refused instead of filling the memory.

One decoder handles every Pillow mode. It can also keep the stored integer
levels and their type's range (:class:`Decoded`), for callers that need to know
which pixels sit at the type's minimum or maximum, so no file is decoded twice.
"""

from __future__ import annotations

import io as _bytes_io
import os
import threading
import tokenize
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from convlearn.errors import ImageReadError, invalid_choice
from convlearn.images.config import CHANNELS, DEFAULT_MAX_PIXELS
from convlearn.images.formats import (
    NPY_MAGIC,
    check_npy_header,
    jpeg_luma,
    orientation,
    pillow_levels,
    png16_colour,
    read_capped,
    read_limit,
    single_frame,
    tiff_trouble,
    upright,
)
from convlearn.images.memory import check_memory
from convlearn.images.planes import LUMA, exact_plane, one_plane

__all__ = [
    "CHANNELS",
    "DEFAULT_MAX_PIXELS",
    "LUMA",
    "Decoded",
    "decode_image",
    "decode_with_levels",
    "integer_range",
    "read_image",
    "read_with_levels",
    "require_file",
]

#: Guards Pillow's global size limit while an image is opened (see _open).
_PILLOW_LIMIT_LOCK = threading.Lock()
#: The first bytes of every ``.npy`` file.
#: Enough of a .npy file to hold its header (version 1's is at most 65,535 bytes; version 2's is seldom longer).
_NPY_HEADER_BYTES = 1 << 17


@dataclass(frozen=True)
class Decoded:
    """An image as decoded: its float values and, for integer data, its stored levels.

    Attributes:
        values: float array, :math:`(H, W)` for luma, :math:`(H, W, 3)` for each.
        levels: the integer levels as stored, :math:`(H, W)` for grey and
            :math:`(H, W, 3)` for colour (alpha dropped); None for float and
            bilevel data, which were not rounded to an integer type.
        bounds: the smallest and largest level the stored type holds, e.g.
            ``(0, 255)``; None when ``levels`` is None.
        quantization: a JPEG's quantisation tables (Pillow's ``Image.quantization``,
            table number -> 64 steps); None for other formats.
    """

    values: np.ndarray
    levels: np.ndarray | None = None
    bounds: tuple[int, int] | None = None
    quantization: dict[int, list[int]] | None = None


def integer_range(dtype: np.dtype) -> tuple[int, int] | None:
    """The smallest and largest value of an integer dtype; None for float and bool.

    >>> integer_range(np.dtype(np.uint8)), integer_range(np.dtype(np.float32))
    ((0, 255), None)
    """
    dtype = np.dtype(dtype)
    if dtype.kind not in "iu":
        return None
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def _from_npy(data: bytes | Path, name: str, channels: str, dtype, max_pixels: int | None) -> Decoded:
    """A ``.npy`` array from its bytes, or read from its file (its header checked first)."""
    size = None
    try:
        if not isinstance(data, Path):
            check_npy_header(data, name, max_pixels)
            array = np.load(_bytes_io.BytesIO(data), allow_pickle=False)
        else:
            size = data.stat().st_size
            with data.open("rb") as f:  # the header, checked before anything is read
                check_npy_header(f.read(_NPY_HEADER_BYTES), name, max_pixels, size=size)
            # Read, never memory-mapped: a mapped file cut short while it is read kills the
            # process (SIGBUS); a read comes back short instead, an error for this file alone.
            array = np.load(data, allow_pickle=False)
    except (ValueError, OSError, EOFError, SyntaxError, tokenize.TokenError) as e:  # a damaged header
        now = _size_now(data) if size is not None else None
        if now is not None and now != size:
            raise ImageReadError(
                f"{name}: the file changed while it was read (from {size} to {now} bytes); read it again once "
                "it is complete"
            ) from None
        raise ImageReadError(f"{name}: not a readable numeric .npy array ({e})") from None
    values = exact_plane(array, name, channels, dtype)
    bounds = integer_range(array.dtype)
    if bounds is None:
        return Decoded(values)
    return Decoded(values, np.array(array), bounds)


def _size_now(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return -1  # gone: it changed too


def _npy_file(path: str | os.PathLike) -> Path | None:
    """The path when it names a regular ``.npy`` file (by its magic bytes), read straight into its array; else None."""
    p = require_file(path)
    if not p.is_file():
        return None  # a FIFO or a device: read as a stream, with its cap
    try:
        with p.open("rb") as f:
            return p if f.read(6) == NPY_MAGIC else None
    except OSError:
        return None  # the ordinary read says what is wrong


def _from_levels(levels: np.ndarray, top: int, bounds, name: str, channels: str, dtype, keep: bool) -> Decoded:
    """Integer levels -> float values (level / ``top``), as luma or as R, G and B."""
    plane = levels.astype(np.float64) / top  # (H, W), or (H, W, 3) for colour
    if not keep:
        levels = bounds = None  # let the levels go before the float work below
    if plane.ndim == 3:
        if channels == "each":
            return Decoded(np.ascontiguousarray(plane, dtype=dtype), levels, bounds)
        return Decoded((plane @ np.array(LUMA)).astype(dtype), levels, bounds)
    if channels == "each":
        raise one_plane(name)
    return Decoded(plane.astype(dtype), levels, bounds)


def _from_pillow(image: Image.Image, name: str, channels: str, dtype, keep_levels: bool) -> Decoded:
    if image.mode == "L" and channels == "luma" and not keep_levels:
        # 8-bit grey in one pass. level / 255 rounded once to float32 equals the float64
        # quotient rounded to float32 (float64 has more than 2 * 24 + 2 bits: no double rounding).
        return Decoded(np.divide(np.asarray(image), np.dtype(dtype).type(255), dtype=dtype))
    if image.mode == "F":  # 32-bit float (TIFF): exact
        return Decoded(exact_plane(np.asarray(image), name, channels, dtype))
    if image.mode == "1":  # bilevel: 0 or 1, not levels of an integer type
        if channels == "each":
            raise one_plane(name)
        return Decoded(np.asarray(image, dtype=np.float64).astype(dtype))
    levels, top, bounds = pillow_levels(image)
    return _from_levels(levels, top, bounds, name, channels, dtype, keep_levels)


def _open(data: bytes, max_pixels: int | None) -> Image.Image:
    # Pillow checks the size against a global limit, and warns through the
    # global warning filters, when it opens an image: both are set for this
    # call under a lock, so decoding threads do not undo each other's limit.
    # The decoding itself (load) runs outside the lock, in parallel.
    with _PILLOW_LIMIT_LOCK:
        old_limit = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = max_pixels
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                return Image.open(_bytes_io.BytesIO(data))
        finally:
            Image.MAX_IMAGE_PIXELS = old_limit


def _decode(
    data: bytes | Path, name: str, channels: str, max_pixels: int | None, dtype, keep_levels: bool, orient: bool = True
) -> Decoded:
    """Bytes of any format; or the path of a ``.npy`` file (:func:`_npy_file`), read without a copy of its bytes."""
    if channels not in CHANNELS:
        raise invalid_choice("channels", channels, CHANNELS)
    if not data:
        raise ImageReadError(f"{name}: the file is empty")
    if isinstance(data, Path) or data[:6] == NPY_MAGIC:
        decoded = _from_npy(data, name, channels, dtype, max_pixels)
        _check_size(decoded.values, name, max_pixels)
        return decoded if keep_levels else Decoded(decoded.values)
    try:
        with _open(data, max_pixels) as image:
            single_frame(image, name)
            check_memory(image.height, image.width, image.mode, name, dtype)
            wide = png16_colour(data, image, lambda again: _open(again, max_pixels))
            if wide is not None:
                decoded = _from_levels(wide, 65535, (0, 65535), name, channels, dtype, keep_levels)
            else:
                jpeg_luma(image, channels, keep_levels)
                image.load()
                decoded = _from_pillow(image, name, channels, dtype, keep_levels)
            turn = orientation(image) if orient else 1
            tables = _tables(image)
        if turn != 1:
            levels = None if decoded.levels is None else upright(decoded.levels, turn)
            decoded = Decoded(upright(decoded.values, turn), levels, decoded.bounds)
        if tables is not None:
            decoded = Decoded(decoded.values, decoded.levels, decoded.bounds, tables)
    except ImageReadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageReadError(
            f"{name}: the image is larger than the limit of {max_pixels} pixels (a decompression-bomb guard). "
            "Raise it with --max-pixels if you trust the file"
        ) from None
    except UnidentifiedImageError:
        why = tiff_trouble(data) or "not an image Pillow can read (PNG, JPEG, TIFF, BMP) nor a .npy array"
        raise ImageReadError(f"{name}: {why}") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, ZeroDivisionError) as e:
        raise ImageReadError(f"{name}: the image is damaged or truncated ({e})") from None
    _check_size(decoded.values, name, max_pixels)
    return decoded


def _tables(image: Image.Image) -> dict[int, list[int]] | None:
    """A JPEG's quantisation tables, read once as it is decoded; None for other formats."""
    tables = getattr(image, "quantization", None) if image.format == "JPEG" else None
    return {int(k): [int(q) for q in v] for k, v in tables.items()} if tables else None


def _check_size(array: np.ndarray, name: str, max_pixels: int | None) -> None:
    h, w = array.shape[:2]
    if h * w == 0:
        raise ImageReadError(f"{name}: the image has no pixels ({h}x{w})")
    if max_pixels is not None and h * w > max_pixels:
        raise ImageReadError(
            f"{name}: the image has {h * w} pixels, more than the limit of {max_pixels}. "
            "Raise it with --max-pixels if you trust the file"
        )


def decode_image(
    data: bytes,
    name: str = "<stdin>",
    *,
    channels: str = "luma",
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    dtype: type = np.float32,
    exif_orientation: bool = True,
) -> np.ndarray:
    """Decode image bytes (any format Pillow reads, or ``.npy``) to float32 (or ``dtype``).

    Args:
        data: the file's bytes.
        name: used in error messages.
        channels: ``luma`` or ``each``.
        max_pixels: refuse images larger than this (Pillow's decompression-bomb
            guard); None lifts the limit.
        dtype: ``np.float32``, or ``np.float64`` where exactness matters more
            than memory (``learn`` reads pairs so: 8-bit levels / 255 in float64).
        exif_orientation: turn the image upright by its EXIF orientation, as
            viewers do; False keeps the pixels as stored.

    Returns:
        float array, :math:`(H, W)` for luma, :math:`(H, W, 3)` for each.

    Raises:
        ImageReadError: empty, truncated, unknown or oversized data.

    >>> import io; buffer = io.BytesIO(); np.save(buffer, np.array([[0, 2]], np.uint8))
    >>> decode_image(buffer.getvalue()).tolist()
    [[0.0, 2.0]]
    """
    return _decode(data, name, channels, max_pixels, dtype, keep_levels=False, orient=exif_orientation).values


def decode_with_levels(
    data: bytes,
    name: str = "<stdin>",
    *,
    channels: str = "luma",
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    dtype: type = np.float32,
    exif_orientation: bool = True,
    keep_levels: bool = True,
) -> Decoded:
    """:func:`decode_image`, keeping the stored integer levels and their type's range, and a JPEG's tables.

    Args:
        data, name, channels, max_pixels, dtype, exif_orientation: as for :func:`decode_image`.
        keep_levels: False keeps only the values and a JPEG's quantisation tables (``restore``'s noise).

    Returns:
        The :class:`Decoded` image: ``values`` as :func:`decode_image` returns
        them, and ``levels`` and ``bounds`` for integer data.

    Raises:
        ImageReadError: empty, truncated, unknown or oversized data.

    >>> import io; buffer = io.BytesIO(); np.save(buffer, np.array([[0, 7, 255]], np.uint8))
    >>> decoded = decode_with_levels(buffer.getvalue()); decoded.levels.tolist(), decoded.bounds
    ([[0, 7, 255]], (0, 255))
    """
    return _decode(data, name, channels, max_pixels, dtype, keep_levels=keep_levels, orient=exif_orientation)


def require_file(path: str | os.PathLike) -> Path:
    """The path, if it names an existing file; else an ImageReadError saying what is wrong."""
    p = Path(path)
    if not p.exists():
        raise ImageReadError(f"{str(p)!r} does not exist")
    if p.is_dir():
        raise ImageReadError(f"{str(p)!r} is a directory; an image file is needed")
    return p


def _read_bytes(path: str | os.PathLike, max_pixels: int | None) -> tuple[bytes, str]:
    """The file's bytes, at most :func:`read_limit` of them (a device or a FIFO may never end)."""
    p = require_file(path)
    limit = read_limit(max_pixels)
    try:
        with p.open("rb") as f:
            return read_capped(f, limit, str(p)), str(p)
    except OSError as e:
        raise ImageReadError(f"{str(p)!r} cannot be read: {e.strerror or e}") from None


def read_image(
    path: str | os.PathLike,
    *,
    channels: str = "luma",
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    exif_orientation: bool = True,
) -> np.ndarray:
    """Read an image file as float32; see :func:`decode_image` and the module notes.

    >>> import tempfile, os; p = os.path.join(tempfile.mkdtemp(), "x.npy")
    >>> np.save(p, np.eye(2, dtype=np.float32)); read_image(p).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    npy = _npy_file(path)
    if npy is not None:
        return _decode(npy, str(npy), channels, max_pixels, np.float32, keep_levels=False).values
    data, name = _read_bytes(path, max_pixels)
    return decode_image(data, name, channels=channels, max_pixels=max_pixels, exif_orientation=exif_orientation)


def read_with_levels(
    path: str | os.PathLike,
    *,
    channels: str = "luma",
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    dtype: type = np.float32,
    exif_orientation: bool = True,
    keep_levels: bool = True,
) -> Decoded:
    """Read an image file once, for its values and its stored levels; see :func:`decode_with_levels`.

    >>> import tempfile, os; p = os.path.join(tempfile.mkdtemp(), "x.npy")
    >>> np.save(p, np.array([[0, 9]], np.int8)); read_with_levels(p, dtype=np.float64).bounds
    (-128, 127)
    """
    npy = _npy_file(path)
    if npy is not None:
        return _decode(npy, str(npy), channels, max_pixels, dtype, keep_levels=keep_levels)
    data, name = _read_bytes(path, max_pixels)
    options = {"channels": channels, "max_pixels": max_pixels, "dtype": dtype, "exif_orientation": exif_orientation}
    return decode_with_levels(data, name, **options, keep_levels=keep_levels)
