"""What Pillow and numpy leave to the reader: byte limits, .npy headers, wide integer samples, EXIF orientation.

- :func:`read_limit` and :func:`read_capped`: at most so many bytes per pixel of
  ``--max-pixels``, so an endless input (``/dev/zero``, a pipe) is refused;
- :func:`check_npy_header`: a ``.npy`` header that claims more pixels than allowed,
  or more data than the file holds, is refused before numpy allocates it;
- :func:`wide_integer_levels`: the one rule for 32-bit (and signed 16-bit) integer TIFFs;
- :func:`png16_colour`: all 16 bits of a 16-bit RGB(A) PNG, which Pillow reads as 8-bit;
- :func:`orientation` and :func:`upright`: the EXIF orientation, applied as
  Pillow's ``ImageOps.exif_transpose`` applies it.
"""

from __future__ import annotations

import io as _bytes_io
import os
import stat
import tokenize
import warnings
from collections.abc import Callable

import numpy as np
from PIL import Image

from convlearn.errors import ImageReadError
from convlearn.files.npy import read_npy_header

__all__ = [
    "BYTES_PER_PIXEL",
    "NPY_MAGIC",
    "check_npy_header",
    "image_size",
    "jpeg_luma",
    "orientation",
    "pillow_levels",
    "png16_colour",
    "read_capped",
    "read_limit",
    "single_frame",
    "tiff_trouble",
    "upright",
    "wide_integer_levels",
]

#: The first bytes of every .npy file.
NPY_MAGIC = b"\x93NUMPY"

#: Bytes read per pixel of ``max_pixels`` at most (float64 grey, 16-bit RGBA), plus
#: :data:`_HEADER_BYTES` for headers and metadata: see :func:`read_limit`.
BYTES_PER_PIXEL = 8
_HEADER_BYTES = 1 << 20
#: Read size for pipes and devices.
_CHUNK = 1 << 22
#: EXIF orientation (tag 0x0112) -> the numpy steps that show the image upright, as
#: Pillow's ImageOps.exif_transpose does: 2 mirror, 3 turn 180, 4 flip, 5 transpose,
#: 6 turn 90 clockwise, 7 transverse, 8 turn 90 anticlockwise.
_ORIENT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
    8: lambda a: np.rot90(a, 1),
}


def read_limit(max_pixels: int | None) -> int | None:
    """The most bytes read for one image: :data:`BYTES_PER_PIXEL` per pixel of ``max_pixels``, plus 1 MiB.

    None (no pixel limit) reads without a limit.

    >>> read_limit(1000)
    1056576
    """
    return None if max_pixels is None else BYTES_PER_PIXEL * max_pixels + _HEADER_BYTES


def read_capped(stream, limit: int | None, name: str) -> bytes:
    """Read ``stream`` to its end, or refuse it once it passes ``limit`` bytes (an endless input).

    A regular file's size is known before reading it; a pipe or a device is read
    in chunks, so no more than ``limit`` bytes are ever held.

    Raises:
        ImageReadError: more than ``limit`` bytes.
    """
    if limit is None:
        return stream.read()
    size = _regular_size(stream)
    if size is not None and size <= limit:
        return stream.read()
    chunks, total = [], 0
    while size is None or size <= limit:
        chunk = stream.read(min(_CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            break
    raise ImageReadError(
        f"{name}: more than {limit} bytes, larger than any image within --max-pixels could be "
        "(an endless input such as /dev/zero?). Raise --max-pixels if you trust it"
    )


def _regular_size(stream) -> int | None:
    """The size of a regular file behind ``stream``; None for a pipe, a device or no file at all."""
    try:
        st = os.fstat(stream.fileno())
    except (OSError, AttributeError, ValueError, _bytes_io.UnsupportedOperation):
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def check_npy_header(data: bytes, name: str, max_pixels: int | None, *, size: int | None = None) -> None:
    """Refuse a .npy whose header claims more pixels than allowed, or more data than it holds, before loading.

    ``data`` holds at least the header; ``size`` is the whole file's size when ``data`` is only its start.
    """
    try:
        header = read_npy_header(_bytes_io.BytesIO(data))
    except (ValueError, OSError, EOFError, SyntaxError, tokenize.TokenError):
        return  # np.load says what is wrong with it
    shape = header.shape
    pixels = int(np.prod(shape[:2], dtype=object)) if len(shape) >= 2 else 0
    if max_pixels is not None and pixels > max_pixels:
        raise ImageReadError(
            f"{name}: the image has {pixels} pixels, more than the limit of {max_pixels}. "
            "Raise it with --max-pixels if you trust the file"
        )
    held = (len(data) if size is None else size) - header.offset
    if header.claims_more_than(held):
        raise ImageReadError(
            f"{name}: the .npy file is damaged or truncated: its header claims shape {shape}, "
            f"but it holds {held} bytes of data"
        )


def wide_integer_levels(image: Image.Image) -> tuple[np.ndarray, int, tuple[int, int]]:
    """Pillow's 32-bit integer mode "I": one rule, by the file's own sample type.

    A TIFF says its bits and signedness (tags 258 and 339): a level is divided by
    its type's maximum, 2**32 - 1 for uint32 and 2**31 - 1 for int32 (65535 and
    32767 for 16 bits), whatever values the file holds. Other formats (16-bit PNG
    on old Pillows) hold 16-bit levels.
    """
    raw = np.asarray(image)
    tags = getattr(image, "tag_v2", None)
    bits = tags.get(258, (16,))[0] if tags is not None else 16
    signed = tags is not None and tags.get(339, (1,))[0] == 2
    if bits == 32 and not signed:
        raw = raw.view(np.uint32)  # Pillow holds uint32 samples in int32
    lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    return raw, hi, (lo, hi)


def png16_colour(data: bytes, image: Image.Image, reopen: Callable[[bytes], Image.Image]) -> np.ndarray | None:
    """A 16-bit RGB(A) PNG's levels, (H, W, 3) uint16; None for any other image.

    Pillow has no 16-bit colour mode and keeps the high byte of each sample. Its
    PNG decoder unfilters by the whole 48- or 64-bit pixel whichever byte it keeps,
    so a second decode that keeps the low byte (``;16L`` read on big-endian data)
    gives the rest. ``reopen`` opens the bytes again (under the caller's size limit).
    """
    tile = image.tile[0] if len(image.tile) == 1 else None
    raw = tile.args if tile is not None and isinstance(tile.args, str) else ""
    if image.format != "PNG" or image.mode not in ("RGB", "RGBA") or raw != f"{image.mode};16B":
        return None
    halves = []
    for rawmode in (raw, f"{image.mode};16L"):
        with reopen(data) as part:
            part.tile = [part.tile[0]._replace(args=rawmode)]
            part.load()
            halves.append(np.asarray(part)[..., :3].astype(np.uint16))
    return (halves[0] << 8) | halves[1]


def orientation(image: Image.Image) -> int:
    """The EXIF orientation, 1 (as stored) to 8; 1 when there is none or it cannot be read."""
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # damaged EXIF: Pillow raises many kinds; the pixels are still good
        return 1
    return value if value in _ORIENT else 1


def upright(array: np.ndarray, orientation: int) -> np.ndarray:
    """``array`` (H, W, ...) turned upright by an EXIF ``orientation`` (1: as it is).

    >>> upright(np.array([[1, 2], [3, 4]]), 6).tolist()  # stored turned 90 degrees anticlockwise
    [[3, 1], [4, 2]]
    """
    turn = _ORIENT.get(orientation)
    return array if turn is None else np.ascontiguousarray(turn(array))


def image_size(path: str | os.PathLike) -> tuple[int, int] | None:
    """``(H, W)`` from an image file's header alone (Pillow's lazy open, or the .npy header); None if unknown.

    >>> import tempfile, os; p = os.path.join(tempfile.mkdtemp(), "x.npy")
    >>> np.save(p, np.zeros((3, 5))); image_size(p)
    (3, 5)
    """
    try:
        with open(path, "rb") as f:
            if f.read(6) == NPY_MAGIC:
                f.seek(0)
                major, _ = np.lib.format.read_magic(f)
                read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
                shape = read(f)[0]
                return (int(shape[0]), int(shape[1])) if len(shape) >= 2 else None
            f.seek(0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with Image.open(f) as image:
                    w, h = image.size
                    return (w, h) if orientation(image) in (5, 6, 7, 8) else (h, w)
    except Exception:  # unreadable here: the full read says why
        return None


def pillow_levels(image: Image.Image) -> tuple[np.ndarray, int, tuple[int, int]]:
    """An integer image's stored levels, the level that means 1.0, and the type's range."""
    mode = image.mode
    if mode.startswith("I;16"):
        return np.asarray(image), 65535, (0, 65535)
    if mode == "I":
        return wide_integer_levels(image)
    if mode == "L":
        return np.asarray(image), 255, (0, 255)
    rgb = image.convert("RGB") if mode != "RGB" else image
    return np.asarray(rgb), 255, (0, 255)  # (H, W, 3)


def jpeg_luma(image: Image.Image, channels: str, keep_levels: bool) -> None:
    """Have libjpeg decode a colour JPEG straight to its luma (Y) plane when luma is all that is wanted.

    Y is the JFIF luma of the colours as encoded, ``0.299 R + 0.587 G + 0.114 B``
    (BT.601), what ``cv2.imread(..., IMREAD_GRAYSCALE)`` reads, rounded to 8 bits.
    It skips the YCbCr -> RGB step and its clipping, so it can differ from the
    luma of the decoded RGB by a few levels where that step clips. Full size
    only (no DCT scaling). Not for readers that keep the levels (``learn``).
    """
    if channels == "luma" and not keep_levels and image.format == "JPEG" and image.mode == "RGB":
        image.draft("L", image.size)


#: TIFF SampleFormat (tag 339) values, in words.
_SAMPLE_FORMATS = {1: "unsigned integer", 2: "signed integer", 3: "float", 6: "complex float"}


def tiff_trouble(data: bytes) -> str | None:
    """Why Pillow cannot read a TIFF, from its own tags (``a TIFF of 64-bit float samples``); None if not a TIFF.

    >>> tiff_trouble(b"\\x89PNG") is None
    True
    """
    if data[:4] not in (b"II*\0", b"MM\0*"):
        return None
    from PIL import TiffImagePlugin

    try:
        ifd = TiffImagePlugin.ImageFileDirectory_v2(ifh=data[:8])
        stream = _bytes_io.BytesIO(data)
        stream.seek(int.from_bytes(data[4:8], "little" if data[:2] == b"II" else "big"))
        ifd.load(stream)
        bits, kind, planes = ifd.get(258, (1,))[0], ifd.get(339, (1,))[0], ifd.get(277, 1)
    except Exception:  # a damaged directory: the caller's general message stands
        return None
    word = _SAMPLE_FORMATS.get(kind, f"sample format {kind}")
    advice = "save it as 32-bit float TIFF or as .npy" if kind in (3, 6) else "save it as 8- or 16-bit TIFF or as .npy"
    return f"a TIFF of {bits}-bit {word} samples ({planes} per pixel), which Pillow cannot read; {advice}"


def single_frame(image: Image.Image, name: str) -> None:
    """Refuse an animated GIF or PNG, or a multi-page TIFF: which frame is meant is not for convlearn to guess.

    Raises:
        ImageReadError: more than one frame.
    """
    frames = getattr(image, "n_frames", 1)
    if isinstance(frames, int) and frames > 1:
        raise ImageReadError(
            f"{name}: holds {frames} frames (an animated GIF or PNG, or a multi-page TIFF), but convlearn reads "
            "one image. Save the frame you want as its own file"
        )
