"""Images out: float values to the bytes of a file, and to a file written atomically.

- ``.npy`` and ``.tif``/``.tiff`` keep exact float32 values (a float TIFF
  holds one plane; colour results go to ``.npy`` or ``.png``);
- ``.png`` (and other picture formats) are a picture of the values, through a
  documented :data:`SCALES` mapping; 16-bit with ``bit_depth=16`` (one plane).

PNG is written here, not by Pillow: every row with the "up" filter, deflated by
zlib at ``png_compression`` (see :data:`PNG_COMPRESSION`). zlib releases the GIL,
so several files encode at once on threads.
"""

from __future__ import annotations

import io as _bytes_io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from convlearn.errors import InputError, invalid_choice
from convlearn.files.atomic import write_bytes
from convlearn.images.config import IMAGE_SUFFIXES, OUTPUT_FORMATS, PNG_COMPRESSION, SCALES

__all__ = [
    "IMAGE_SUFFIXES",
    "OUTPUT_FORMATS",
    "PNG_COMPRESSION",
    "SCALES",
    "encode_image",
    "encode_png",
    "to_picture",
    "write_image",
]

#: Values mapped to levels per chunk, so the float64 work stays in the cache.
_CHUNK = 1 << 16
#: Pillow's format names for the picture suffixes that are not PNG.
_PILLOW_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP"}


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
    v = np.asarray(values)
    if v.dtype.kind != "f":
        v = v.astype(np.float64)
    lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 0.0)
    if scale == "auto":
        scale = "clip" if lo >= 0 and hi <= 1 else "signed" if lo < 0 else "minmax"
    peak = max(abs(lo), abs(hi)) or 1.0  # max |v|
    flat = np.ascontiguousarray(v).reshape(-1)
    out = np.empty(flat.shape, dtype=np.uint8 if bit_depth == 8 else np.uint16)
    for i in range(0, flat.size, _CHUNK):
        # The steps of the mapping in float64, in place on one chunk, in the order
        # the formulas above give (so the levels do not depend on the chunking).
        c = flat[i : i + _CHUNK].astype(np.float64)
        if scale == "clip":
            np.clip(c, 0, 1, out=c)
        elif scale == "signed":  # 0.5 + 0.5 * v / peak
            np.multiply(c, 0.5, out=c)
            np.divide(c, peak, out=c)
            np.add(c, 0.5, out=c)
        elif scale == "abs":  # |v| / peak
            np.abs(c, out=c)
            np.divide(c, peak, out=c)
        elif hi > lo:  # minmax: (v - lo) / (hi - lo)
            np.subtract(c, lo, out=c)
            np.divide(c, hi - lo, out=c)
        else:
            c[:] = 0.0
        np.multiply(c, top, out=c)
        np.rint(c, out=c)
        out[i : i + _CHUNK] = c
    return out.reshape(v.shape)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(body, zlib.crc32(kind)))


def encode_png(levels: np.ndarray, compression: int = PNG_COMPRESSION) -> bytes:
    """A PNG file of 8- or 16-bit levels, grey or RGB, deflated at zlib level ``compression``.

    Every row carries the "up" filter (the byte-wise difference from the row
    above; none at level 0), which makes smooth images and edge maps compress
    well at the fastest levels.

    Args:
        levels: uint8 or uint16, :math:`(H, W)` or :math:`(H, W, 3)`.
        compression: 0 (stored) to 9 (smallest), see :data:`PNG_COMPRESSION`.

    Returns:
        The file's bytes.

    >>> encode_png(np.zeros((1, 1), np.uint8))[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    if compression not in range(10):
        raise invalid_choice("PNG compression", compression, [str(n) for n in range(10)])
    H, W = levels.shape[:2]
    colour = 0 if levels.ndim == 2 else 2  # PNG colour types: grey, RGB
    depth = 8 * levels.dtype.itemsize
    rows = np.ascontiguousarray(levels, dtype=levels.dtype.newbyteorder(">")).reshape(H, -1).view(np.uint8)
    filtered = np.empty((H, rows.shape[1] + 1), dtype=np.uint8)  # (H, 1 + bytes per row)
    if compression == 0:
        filtered[:, 0] = 0  # none
        filtered[:, 1:] = rows
    else:
        filtered[:, 0] = 2  # up
        filtered[0, 1:] = rows[0]
        np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])  # modulo 256, as PNG's filter
    strategy = zlib.Z_RLE if compression == 1 else zlib.Z_DEFAULT_STRATEGY
    deflate = zlib.compressobj(compression, zlib.DEFLATED, 15, 9, strategy)
    data = deflate.compress(filtered) + deflate.flush()
    header = struct.pack(">IIBBBBB", W, H, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data) + _png_chunk(b"IEND", b"")


def encode_image(
    values: np.ndarray, suffix: str, *, scale: str = "auto", bit_depth: int = 8, png_compression: int = PNG_COMPRESSION
) -> bytes:
    """Encode float values as the bytes of a ``suffix`` file (see the module notes).

    Args:
        values: float array :math:`(H, W)` or :math:`(H, W, 3)`.
        suffix: ``.npy``, ``.tif``/``.tiff`` (exact float32), or a picture
            suffix from :data:`IMAGE_SUFFIXES`.
        scale: picture mapping, one of :data:`SCALES`.
        bit_depth: 8 or 16 (PNG only).
        png_compression: zlib level 0-9 of a PNG, see :data:`PNG_COMPRESSION`.

    Returns:
        The file's bytes.

    Raises:
        InputError: an unknown suffix, or colour for a format that holds one plane.

    >>> encode_image(np.zeros((1, 1)), ".png")[:4]
    b'\\x89PNG'
    """
    suffix = suffix.lower()
    values = np.asarray(values, dtype=np.float32)
    if suffix == ".png":
        if bit_depth == 16 and values.ndim == 3:
            raise InputError("16-bit output needs a single-plane .png")
        return encode_png(to_picture(values, scale, bit_depth), png_compression)
    buffer = _bytes_io.BytesIO()
    if suffix == ".npy":
        np.save(buffer, values, allow_pickle=False)
    elif suffix in (".tif", ".tiff"):
        if values.ndim != 2:
            raise InputError("A float TIFF holds one plane; write colour results as .npy or .png")
        Image.fromarray(values).save(buffer, format="TIFF")
    elif suffix in IMAGE_SUFFIXES:
        levels = to_picture(values, scale, bit_depth)
        if bit_depth == 16 and (suffix != ".png" or levels.ndim == 3):
            raise InputError("16-bit output needs a single-plane .png")
        Image.fromarray(levels).save(buffer, format=_PILLOW_FORMATS[suffix])
    else:
        raise InputError(f"Unknown output type {suffix or '(none)'!r}. Use .png, .tif, .npy, .jpg or .bmp")
    return buffer.getvalue()


def write_image(
    path: str | os.PathLike,
    values: np.ndarray,
    *,
    scale: str = "auto",
    bit_depth: int = 8,
    png_compression: int = PNG_COMPRESSION,
) -> Path:
    """Write float values to ``path`` atomically; the suffix picks the format.

    Args:
        path: ``.npy``/``.tif`` keep exact float32; ``.png`` etc. are pictures.
        values: float array :math:`(H, W)` or :math:`(H, W, 3)`.
        scale: picture mapping, one of :data:`SCALES`.
        bit_depth: 8 or 16 (PNG only).
        png_compression: zlib level 0-9 of a PNG, see :data:`PNG_COMPRESSION`.

    Returns:
        The path written.
    """
    p = Path(path)
    write_bytes(p, encode_image(values, p.suffix, scale=scale, bit_depth=bit_depth, png_compression=png_compression))
    return p
