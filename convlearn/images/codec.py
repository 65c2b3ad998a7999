"""Images in and out.

In: PNG, JPEG, TIFF and BMP through Pillow, and ``.npy``.
  - integer images become float32 in [0, 1]: value / the type's maximum
    (255 for 8-bit, 65535 for 16-bit);
  - colour becomes luma ``Y = 0.299 R + 0.587 G + 0.114 B``, computed in float
    (or three channels with ``channels="each"``);
  - ``.npy`` and 32-bit float TIFF are read exactly as stored.

Out:
  - ``.npy`` and ``.tif``/``.tiff`` keep exact float32 values (a float TIFF
    holds one plane; colour results go to ``.npy`` or ``.png``);
  - ``.png`` (and other picture formats) are a picture of the values, through a
    documented :data:`SCALES` mapping; 16-bit with ``bit_depth=16`` (one plane).

``-`` as a path is stdin (:func:`read_input`) or stdout (:func:`write_output`),
so convlearn fits in shell pipes; stdout gets PNG unless another format is asked for.
"""

from __future__ import annotations

import io as _bytes_io
import os
import sys
import threading
import tokenize
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from convlearn.errors import ImageReadError, InputError, OutputError, invalid_choice
from convlearn.images.files import write_bytes

__all__ = [
    "CHANNELS",
    "DEFAULT_MAX_PIXELS",
    "EXACT_SUFFIXES",
    "IMAGE_SUFFIXES",
    "LUMA",
    "OUTPUT_FORMATS",
    "SCALES",
    "STDIO",
    "decode_image",
    "encode_image",
    "read_image",
    "read_input",
    "require_file",
    "to_picture",
    "write_image",
    "write_output",
]

#: Suffixes read and written through Pillow.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
#: Suffixes that keep exact float32 values when written.
EXACT_SUFFIXES = (".npy", ".tif", ".tiff")
#: ITU-R BT.601 luma weights, the ones Pillow's ``convert("L")`` uses.
LUMA = (0.299, 0.587, 0.114)
#: Colour handling: ``luma`` (one plane) or ``each`` (R, G and B separately).
CHANNELS = ("luma", "each")
#: Formats for outputs named without a suffix (stdout, a directory of results).
OUTPUT_FORMATS = ("png", "tif", "npy")
#: The path that means stdin for inputs and stdout for outputs.
STDIO = "-"
#: Guards Pillow's global size limit while an image is opened (see decode_image).
_PILLOW_LIMIT_LOCK = threading.Lock()
#: Pillow's own decompression-bomb limit (Image.MAX_IMAGE_PIXELS), kept on by default.
DEFAULT_MAX_PIXELS = Image.MAX_IMAGE_PIXELS

#: How values become 8- or 16-bit picture levels (``M`` = the picture's maximum level):
#:   clip    v in [0, 1] -> v * M, values outside clipped;
#:   signed  0 -> mid-grey, +-max|v| -> M / 0;
#:   abs     |v| / max|v| * M;
#:   minmax  (v - min) / (max - min) * M;
#:   auto    clip when every value lies in [0, 1], else signed when any is negative, else minmax.
SCALES = ("auto", "clip", "signed", "abs", "minmax")


def _exact_plane(array: np.ndarray, name: str, channels: str, dtype=np.float32) -> np.ndarray:
    if array.dtype.kind not in "biuf":
        raise ImageReadError(f"{name}: dtype {array.dtype} is not numeric; convlearn never unpickles objects")
    if array.ndim == 3 and array.shape[-1] in (3, 4):
        array = array[..., :3]
        if channels == "luma":
            array = array.astype(np.float64) @ np.array(LUMA)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] != 3):
        raise ImageReadError(f"{name}: expected a 2-D array (H, W) or (H, W, 3), got shape {array.shape}")
    out = np.array(array, dtype=dtype, order="C")  # a writable copy: Pillow's arrays are read-only
    if not np.isfinite(out).all():
        raise ImageReadError(f"{name}: contains NaN or inf; every value must be finite")
    return out


def _scale_integer(array: np.ndarray) -> np.ndarray:
    maximum = np.iinfo(array.dtype).max if array.dtype.kind in "iu" else 1
    return array.astype(np.float64) / maximum


def _from_pillow(image: Image.Image, name: str, channels: str, dtype=np.float32) -> np.ndarray:
    mode = image.mode
    if mode == "F":  # 32-bit float (TIFF): exact
        return _exact_plane(np.asarray(image), name, channels, dtype)
    if mode.startswith("I;16"):
        plane = np.asarray(image).astype(np.float64) / 65535
    elif mode == "I":
        # 32-bit integer mode: Pillow uses it for 16-bit PNG/TIFF on some versions.
        raw = np.asarray(image)
        bits = 16 if raw.min(initial=0) >= 0 and raw.max(initial=0) <= 65535 else 32
        plane = raw.astype(np.float64) / (2**bits - 1)
    elif mode == "1":
        plane = np.asarray(image, dtype=np.float64)
    elif mode == "L":
        plane = np.asarray(image).astype(np.float64) / 255
    else:
        rgb = image.convert("RGB") if mode != "RGB" else image
        planes = np.asarray(rgb).astype(np.float64) / 255  # (H, W, 3)
        if channels == "each":
            return np.ascontiguousarray(planes, dtype=dtype)
        return (planes @ np.array(LUMA)).astype(dtype)
    if channels == "each":
        plane = np.repeat(plane[..., None], 3, axis=-1)
    return plane.astype(dtype)


def decode_image(
    data: bytes,
    name: str = "<stdin>",
    *,
    channels: str = "luma",
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    dtype: type = np.float32,
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

    Returns:
        float array, :math:`(H, W)` for luma, :math:`(H, W, 3)` for each.

    Raises:
        ImageReadError: empty, truncated, unknown or oversized data.
    """
    if channels not in CHANNELS:
        raise invalid_choice("channels", channels, CHANNELS)
    if not data:
        raise ImageReadError(f"{name}: the file is empty")
    if data[:6] == b"\x93NUMPY":
        try:
            array = np.load(_bytes_io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError, EOFError, SyntaxError, tokenize.TokenError) as e:  # a damaged header
            raise ImageReadError(f"{name}: not a readable numeric .npy array ({e})") from None
        array = _exact_plane(array, name, channels, dtype)
        _check_size(array, name, max_pixels)
        return array
    try:
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
                    image = Image.open(_bytes_io.BytesIO(data))
            finally:
                Image.MAX_IMAGE_PIXELS = old_limit
        with image:
            image.load()
            array = _from_pillow(image, name, channels, dtype)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageReadError(
            f"{name}: the image is larger than the limit of {max_pixels} pixels (a decompression-bomb guard). "
            "Raise it with --max-pixels if you trust the file"
        ) from None
    except UnidentifiedImageError:
        raise ImageReadError(f"{name}: not an image Pillow can read (PNG, JPEG, TIFF, BMP) nor a .npy array") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, ZeroDivisionError) as e:
        raise ImageReadError(f"{name}: the image is damaged or truncated ({e})") from None
    _check_size(array, name, max_pixels)
    return array


def _check_size(array: np.ndarray, name: str, max_pixels: int | None) -> None:
    h, w = array.shape[:2]
    if h * w == 0:
        raise ImageReadError(f"{name}: the image has no pixels ({h}x{w})")
    if max_pixels is not None and h * w > max_pixels:
        raise ImageReadError(
            f"{name}: the image has {h * w} pixels, more than the limit of {max_pixels}. "
            "Raise it with --max-pixels if you trust the file"
        )


def require_file(path: str | os.PathLike) -> Path:
    """The path, if it names an existing file; else an ImageReadError saying what is wrong."""
    p = Path(path)
    if not p.exists():
        raise ImageReadError(f"{str(p)!r} does not exist")
    if p.is_dir():
        raise ImageReadError(f"{str(p)!r} is a directory; an image file is needed")
    return p


def read_image(
    path: str | os.PathLike,
    *,
    channels: str = "luma",
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """Read an image file as float32; see :func:`decode_image` and the module notes.

    >>> import tempfile, os; p = os.path.join(tempfile.mkdtemp(), "x.npy")
    >>> np.save(p, np.eye(2, dtype=np.float32)); read_image(p).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    p = require_file(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise ImageReadError(f"{str(p)!r} cannot be read: {e.strerror or e}") from None
    return decode_image(data, str(p), channels=channels, max_pixels=max_pixels)


def read_input(
    source: str | os.PathLike,
    *,
    channels: str = "luma",
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """:func:`read_image`, or the bytes of stdin when ``source`` is ``-``.

    Returns:
        float32 array, :math:`(H, W)` for luma, :math:`(H, W, 3)` for each.
    """
    if str(source) != STDIO:
        return read_image(source, channels=channels, max_pixels=max_pixels)
    stream = getattr(sys.stdin, "buffer", sys.stdin)
    try:
        data = stream.read()
    except OSError as e:
        raise ImageReadError(f"stdin cannot be read: {e.strerror or e}") from None
    return decode_image(data, "<stdin>", channels=channels, max_pixels=max_pixels)


def to_picture(values: np.ndarray, scale: str = "auto", bit_depth: int = 8) -> np.ndarray:
    """Map float values to picture levels with one of :data:`SCALES`.

    Args:
        values: float array, :math:`(H, W)` or :math:`(H, W, 3)`.
        scale: the mapping.
        bit_depth: 8 or 16.

    Returns:
        uint8 or uint16 array of the same shape.

    >>> to_picture(np.array([[-1.0, 0.0, 1.0]]), "signed").tolist()
    [[0, 128, 255]]
    """
    if scale not in SCALES:
        raise invalid_choice("scale", scale, SCALES)
    if bit_depth not in (8, 16):
        raise invalid_choice("bit depth", bit_depth, ["8", "16"])
    top = 255 if bit_depth == 8 else 65535
    v = np.asarray(values, dtype=np.float64)
    if scale == "auto":
        lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 0.0)
        scale = "clip" if lo >= 0 and hi <= 1 else "signed" if lo < 0 else "minmax"
    if scale == "clip":
        unit = np.clip(v, 0, 1)
    elif scale == "signed":
        peak = float(np.abs(v).max(initial=0)) or 1.0
        unit = 0.5 + 0.5 * v / peak
    elif scale == "abs":
        peak = float(np.abs(v).max(initial=0)) or 1.0
        unit = np.abs(v) / peak
    else:  # minmax
        lo, hi = float(v.min()), float(v.max())
        unit = (v - lo) / (hi - lo) if hi > lo else np.zeros_like(v)
    return np.rint(unit * top).astype(np.uint8 if bit_depth == 8 else np.uint16)


def encode_image(values: np.ndarray, suffix: str, *, scale: str = "auto", bit_depth: int = 8) -> bytes:
    """Encode float values as the bytes of a ``suffix`` file (see the module notes)."""
    suffix = suffix.lower()
    values = np.asarray(values, dtype=np.float32)
    buffer = _bytes_io.BytesIO()
    if suffix == ".npy":
        np.save(buffer, values, allow_pickle=False)
    elif suffix in (".tif", ".tiff"):
        if values.ndim != 2:
            raise InputError("A float TIFF holds one plane; write colour results as .npy or .png")
        Image.fromarray(values, mode=None).save(buffer, format="TIFF")
    elif suffix in IMAGE_SUFFIXES:
        levels = to_picture(values, scale, bit_depth)
        if bit_depth == 16:
            if suffix != ".png" or levels.ndim == 3:
                raise InputError("16-bit output needs a single-plane .png")
            image = Image.fromarray(levels)
        else:
            image = Image.fromarray(levels)
        fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP"}.get(suffix, "PNG")
        image.save(buffer, format=fmt)
    else:
        raise InputError(f"Unknown output type {suffix or '(none)'!r}. Use .png, .tif, .npy, .jpg or .bmp")
    return buffer.getvalue()


def write_image(
    path: str | os.PathLike,
    values: np.ndarray,
    *,
    scale: str = "auto",
    bit_depth: int = 8,
) -> Path:
    """Write float values to ``path`` atomically; the suffix picks the format.

    Args:
        path: ``.npy``/``.tif`` keep exact float32; ``.png`` etc. are pictures.
        values: float array :math:`(H, W)` or :math:`(H, W, 3)`.
        scale: picture mapping, one of :data:`SCALES`.
        bit_depth: 8 or 16 (PNG only).

    Returns:
        The path written.
    """
    p = Path(path)
    write_bytes(p, encode_image(values, p.suffix, scale=scale, bit_depth=bit_depth))
    return p


def write_output(
    target: str | os.PathLike,
    values: np.ndarray,
    *,
    scale: str = "auto",
    bit_depth: int = 8,
    fmt: str = "png",
) -> str:
    """:func:`write_image`, or the encoded bytes on stdout when ``target`` is ``-``.

    Args:
        target: a path, or ``-`` for stdout.
        values: float array :math:`(H, W)` or :math:`(H, W, 3)`.
        scale: picture mapping, one of :data:`SCALES`.
        bit_depth: 8 or 16 (PNG only).
        fmt: the format for stdout, one of :data:`OUTPUT_FORMATS` (a path's suffix picks its own).

    Returns:
        The target, as text.
    """
    if str(target) != STDIO:
        return str(write_image(target, values, scale=scale, bit_depth=bit_depth))
    if fmt not in OUTPUT_FORMATS:
        raise invalid_choice("format", fmt, OUTPUT_FORMATS)
    data = encode_image(values, f".{fmt}", scale=scale, bit_depth=bit_depth)
    stream = getattr(sys.stdout, "buffer", sys.stdout)
    try:
        stream.write(data)
        stream.flush()
    except BrokenPipeError:
        raise OutputError("stdout was closed before the image was written (a broken pipe)") from None
    except OSError as e:
        raise OutputError(f"Cannot write to stdout: {e.strerror or e}") from None
    return STDIO
