"""Images out: float values to the bytes of a file, and to a file written atomically.

- ``.npy`` and ``.tif``/``.tiff`` keep exact float32 values (a float TIFF
  holds one plane; colour results go to ``.npy`` or ``.png``);
- ``.png`` (and other picture formats) are a picture of the values, through a
  documented :data:`SCALES` mapping; 16-bit with ``bit_depth=16`` (one plane).
"""

from __future__ import annotations

import io as _bytes_io
import os
from pathlib import Path

import numpy as np
from PIL import Image

from convlearn.errors import InputError, invalid_choice
from convlearn.images.files import write_bytes

__all__ = [
    "IMAGE_SUFFIXES",
    "OUTPUT_FORMATS",
    "SCALES",
    "encode_image",
    "to_picture",
    "write_image",
]

#: Suffixes read and written through Pillow.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
#: Formats for outputs named without a suffix (stdout, a directory of results).
OUTPUT_FORMATS = ("png", "tif", "npy")
#: How values become 8- or 16-bit picture levels (``M`` = the picture's maximum level):
#:   clip    v in [0, 1] -> v * M, values outside clipped;
#:   signed  0 -> mid-grey, +-max|v| -> M / 0;
#:   abs     |v| / max|v| * M;
#:   minmax  (v - min) / (max - min) * M;
#:   auto    clip when every value lies in [0, 1], else signed when any is negative, else minmax.
SCALES = ("auto", "clip", "signed", "abs", "minmax")
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
    """Encode float values as the bytes of a ``suffix`` file (see the module notes).

    Args:
        values: float array :math:`(H, W)` or :math:`(H, W, 3)`.
        suffix: ``.npy``, ``.tif``/``.tiff`` (exact float32), or a picture
            suffix from :data:`IMAGE_SUFFIXES`.
        scale: picture mapping, one of :data:`SCALES`.
        bit_depth: 8 or 16 (PNG only).

    Returns:
        The file's bytes.

    Raises:
        InputError: an unknown suffix, or colour for a format that holds one plane.

    >>> encode_image(np.zeros((1, 1)), ".png")[:4]
    b'\\x89PNG'
    """
    suffix = suffix.lower()
    values = np.asarray(values, dtype=np.float32)
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
        Image.fromarray(levels).save(buffer, format=_PILLOW_FORMATS.get(suffix, "PNG"))
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
