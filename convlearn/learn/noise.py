"""The noise model of a target: the residual that a perfect linear filter would still leave.

A target another program wrote was rounded, and perhaps JPEG-compressed, after
the filter; no kernel can explain that part, so it is the yardstick of every
choice :mod:`convlearn.learn.select` makes (size, bias, clipping, the linear
verdict, the name). Everything is in *levels of the target's own range*: 1 is
one step of an 8-bit (or 16-bit) file, and for a float target one unit of its values.

- **8- and 16-bit rounding**: uniform in half a level either side, RMS 1/√12 ≈ 0.29 level.
- **float32 rounding**: relative, ``eps32 · |value| / √12`` (eps32 = 2^-23 the spacing at 1),
  RMS over the target's values.
- **JPEG**: from the file's own luma quantisation table. Each of the 64 DCT
  coefficients of a block is quantised with step q; the orthonormal DCT keeps
  energy, so the pixel-domain error variance is the mean over the 64
  coefficients of each one's error variance: within its bin where the
  coefficient was kept (q²/12 at most, less where the Laplacian falls across
  the bin), and, where it was quantised to zero, the variance of a Laplacian
  coefficient inside ``(-q/2, q/2)`` (its scale from the share of zeros, read
  off the decoded image's own DCT). Plus the 8-bit rounding before and after.
  The quality is estimated by matching the table with the IJG tables.
- **Unknown**: a robust estimate from the data, the MAD of a high-pass residual.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace

import numpy as np

__all__ = [
    "ROUNDING",
    "NoiseModel",
    "float32_floor",
    "jpeg_floor",
    "jpeg_quality",
    "noise_model",
    "robust_floor",
    "table_floor",
]

#: RMS of rounding to whole levels, 1/√12.
ROUNDING = 1 / math.sqrt(12)

#: The IJG (libjpeg) luma table at quality 50, natural (row-major) order.
_IJG_LUMA = np.array(
    [
        [16, 11, 10, 16, 24, 40, 51, 61],
        [12, 12, 14, 19, 26, 58, 60, 55],
        [14, 13, 16, 24, 40, 57, 69, 56],
        [14, 17, 22, 29, 51, 87, 80, 62],
        [18, 22, 37, 56, 68, 109, 103, 77],
        [24, 35, 55, 64, 81, 104, 113, 92],
        [49, 64, 78, 87, 103, 121, 120, 101],
        [72, 92, 95, 98, 112, 100, 103, 99],
    ],
    dtype=np.float64,
)


@dataclass(frozen=True)
class NoiseModel:
    """What a perfect linear filter would still leave in the target, in levels of its range.

    Attributes:
        floor_levels: the RMS of that residual.
        source: ``8-bit``, ``16-bit``, ``float32``, ``float64``, ``jpeg`` or ``estimated``.
        description: how it was found, e.g. ``8-bit PNG`` or ``JPEG, quality about 90``.
        quality: the JPEG quality estimated from its table, None otherwise.
        full_scale: the target's range in levels (255, 65535, or 1.0 for float data).

    >>> NoiseModel(ROUNDING, "8-bit", "8-bit PNG").describe()
    'noise floor 0.29 levels (8-bit PNG)'
    """

    floor_levels: float
    source: str
    description: str
    quality: int | None = None
    full_scale: float = 255.0

    def describe(self) -> str:
        """One line for the report: ``noise floor 0.29 levels (8-bit PNG)``, ``about 1.6 levels (JPEG...)``."""
        lossy = self.source in ("jpeg", "estimated")
        amount = f"{self.floor_levels:.2g}" if self.floor_levels < 0.01 else f"{self.floor_levels:.2f}"
        return f"noise floor {'about ' if lossy else ''}{amount} levels ({self.description})"


def float32_floor(values: np.ndarray) -> float:
    """RMS of float32 rounding of ``values``: ``eps32 · |v| / √12``, RMS over v (relative spacing 2^-23).

    >>> f"{float32_floor(np.ones(4)):.3g}"
    '3.44e-08'
    """
    v = np.asarray(values, dtype=np.float64)
    return float(np.finfo(np.float32).eps * math.sqrt(float(np.mean(v * v))) * ROUNDING) if v.size else 0.0


def with_arithmetic(noise: NoiseModel, x: np.ndarray, kernel: np.ndarray) -> NoiseModel:
    """A float target's floor with the filter's own rounding: each product and partial sum of ``kernel``
    over ``x`` rounds too, by up to ``eps · Σ|w x|``; its RMS is taken as ``eps/√12 · rms(x) · Σ|w|``.

    8-bit, 16-bit and JPEG targets are rounded far more coarsely afterwards, and keep their floor.

    >>> n = NoiseModel(3.44e-8, "float32", "float32 NumPy array", full_scale=1.0)
    >>> f"{with_arithmetic(n, np.ones((4, 4)), np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])).floor_levels:.3g}"
    '3.1e-07'
    """
    if noise.source not in ("float32", "float64"):
        return noise
    eps = np.finfo(np.float32 if noise.source == "float32" else np.float64).eps
    v = np.asarray(x, dtype=np.float64)
    arithmetic = float(eps * ROUNDING * math.sqrt(float(np.mean(v * v))) * np.abs(kernel).sum()) if v.size else 0.0
    if arithmetic <= noise.floor_levels:
        return noise
    return replace(noise, floor_levels=arithmetic, description=f"{noise.description}, with the filter's own rounding")


def robust_floor(target: np.ndarray) -> float:
    """The noise RMS estimated from the data: the MAD of the residual after a 4-neighbour mean.

    For white noise of RMS s the residual ``y - mean(4 neighbours)`` has RMS
    ``s·√1.25``; the MAD (times 1.4826) ignores the edges, where the image itself is not smooth.

    >>> rng = np.random.default_rng(0)
    >>> 0.9 < robust_floor(rng.normal(0, 2, (256, 256))) / 2 < 1.1
    True
    """
    y = np.asarray(target, dtype=np.float64)
    r = y[1:-1, 1:-1] - (y[:-2, 1:-1] + y[2:, 1:-1] + y[1:-1, :-2] + y[1:-1, 2:]) / 4
    med = np.median(r)
    return float(1.4826 * np.median(np.abs(r - med)) / math.sqrt(1.25))


def table_floor(table: np.ndarray) -> float:
    """The JPEG error RMS in levels if every coefficient's error were uniform in its step: √(mean q²/12).

    An upper bound for photographs, whose high frequencies mostly quantise to zero.

    >>> round(table_floor(np.full(64, 2.0)), 4)
    0.5774
    """
    q = np.asarray(table, dtype=np.float64).reshape(-1)
    return float(math.sqrt(np.mean(q * q) / 12))


def jpeg_quality(table: np.ndarray) -> int:
    """The IJG quality (1..100) whose luma table is nearest ``table`` (log-ratio distance).

    >>> jpeg_quality(_ijg_table(90))
    90
    """
    q = np.asarray(table, dtype=np.float64).reshape(8, 8)
    errors = [float(np.abs(np.log(_ijg_table(n)) - np.log(q)).mean()) for n in range(1, 101)]
    return int(np.argmin(errors)) + 1


def _ijg_table(quality: int) -> np.ndarray:
    scale = 5000 / quality if quality < 50 else 200 - 2 * quality
    return np.clip(np.floor((_IJG_LUMA * scale + 50) / 100), 1, 255)


def jpeg_floor(decoded: np.ndarray, table: np.ndarray) -> float:
    """The JPEG error RMS in levels, from the luma table and the decoded image's own DCT coefficients.

    Kept coefficients err by q²/12; those quantised to zero by the variance of a
    Laplacian truncated to ``(-q/2, q/2)``, its scale from the share of zeros.
    The 8-bit rounding of the filter output and of the decoder is added.

    Args:
        decoded: the decoded luma levels, :math:`(H, W)`, block grid at (0, 0).
        table: the luma quantisation table, 64 values (the order does not matter for
            the sum but must match the DCT's: natural order, as Pillow gives it).

    Returns:
        The RMS in levels.
    """
    from scipy.fft import dctn

    q = np.asarray(table, dtype=np.float64).reshape(8, 8)
    y = np.asarray(decoded, dtype=np.float64)
    H, W = (y.shape[0] // 8) * 8, (y.shape[1] // 8) * 8
    if H == 0 or W == 0:
        return math.sqrt(table_floor(q) ** 2 + 2 * ROUNDING**2)
    blocks = y[:H, :W].reshape(H // 8, 8, W // 8, 8).transpose(0, 2, 1, 3) - 128
    coef = dctn(blocks, axes=(-2, -1), norm="ortho").reshape(-1, 8, 8)
    zeros = (np.abs(coef) < q / 2).mean(axis=0)  # (8, 8): share of each coefficient quantised to zero
    var = (1 - zeros) * _laplace_bin(q, zeros) + zeros * _laplace_inside(q / 2, zeros)
    return float(math.sqrt(var.mean() + 2 * ROUNDING**2))


def _laplace_inside(a: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """E[c² | |c| < a] for a Laplacian c with P(|c| < a) = ``inside`` (its scale b from that)."""
    inside = np.clip(inside, 1e-9, 1 - 1e-9)
    b = a / -np.log1p(-inside)
    t = a / b
    return b * b * (2 - np.exp(-t) * (t * t + 2 * t + 2)) / (1 - np.exp(-t))


def _laplace_bin(q: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """The error variance inside a kept bin of width q: an exponential of the Laplacian's scale, cut to the bin."""
    inside = np.clip(inside, 1e-9, 1 - 1e-9)
    t = q / (q / 2 / -np.log1p(-inside))  # q / b
    return np.minimum(q * q / 12, (q / t) ** 2 - q * q * np.exp(-t) / (1 - np.exp(-t)) ** 2)


def noise_model(path: str | os.PathLike) -> NoiseModel:
    """The noise model of a target file: JPEG from its tables, 8/16-bit rounding, float rounding, or estimated.

    Args:
        path: the target file (any format Pillow reads, or ``.npy``).

    Returns:
        The :class:`NoiseModel`, in levels of the file's range (255 for 8-bit, 65535 for
        16-bit, 1 for float data).
    """
    path = os.fspath(path)
    if path.lower().endswith(".npy"):
        values = np.load(path, allow_pickle=False)  # read, never memory-mapped (docs/errors.md: changing inputs)
        return _array_model(np.asarray(values), "NumPy array")
    from PIL import Image

    with Image.open(path) as im:
        fmt = im.format or "image"
        tables = getattr(im, "quantization", None)
        if fmt == "JPEG" and tables:
            luma = np.asarray(im.convert("L"), dtype=np.float64)
            table = np.asarray(tables[0], dtype=np.float64)
            quality = jpeg_quality(table)
            floor = jpeg_floor(luma, _natural(table))
            return NoiseModel(floor, "jpeg", f"JPEG, quality about {quality}", quality)
        if im.mode in _EIGHT_BIT_MODES:  # the rounding is known from the header: no second decode of the target
            return NoiseModel(ROUNDING, "8-bit", f"8-bit {fmt}")
        if im.mode.startswith("I;16"):
            return NoiseModel(ROUNDING, "16-bit", f"16-bit {fmt}", full_scale=65535.0)
        values = np.asarray(im)
    return _array_model(values, fmt)


#: Pillow modes whose values are 8-bit levels (or bits), as ``np.asarray`` gives them: uint8 or bool.
_EIGHT_BIT_MODES = ("1", "L", "P", "LA", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV")


def _natural(table: np.ndarray) -> np.ndarray:
    """Pillow gives the tables in natural (row-major) order since 8.3; a reshape is all it needs."""
    return table.reshape(8, 8)


def _array_model(values: np.ndarray, fmt: str) -> NoiseModel:
    if values.dtype == np.uint8 or values.dtype == bool:
        return NoiseModel(ROUNDING, "8-bit", f"8-bit {fmt}")
    if values.dtype == np.uint16 or (values.dtype == np.int32 and fmt != "NumPy array"):
        return NoiseModel(ROUNDING, "16-bit", f"16-bit {fmt}", full_scale=65535.0)
    if values.dtype == np.float32:
        return NoiseModel(float32_floor(values), "float32", f"float32 {fmt}", full_scale=1.0)
    if values.dtype == np.float64:
        v = np.asarray(values, dtype=np.float64)
        floor = float(np.finfo(np.float64).eps * math.sqrt(float(np.mean(v * v))) * ROUNDING)
        return NoiseModel(floor, "float64", f"float64 {fmt}", full_scale=1.0)
    return NoiseModel(robust_floor(values.astype(np.float64)), "estimated", f"estimated from the data, {fmt}")
