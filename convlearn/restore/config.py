"""How ``restore`` undoes a blur: its choices, the noise levels it can name, and their one check.

Importing this module does not import torch, so the CLI can take its choices
and defaults from here and ``--help`` stays fast.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from convlearn.errors import InputError, invalid_choice
from convlearn.images.config import CHANNELS, OUTPUT_FORMATS, SCALES
from convlearn.kernels import Kernel

__all__ = [
    "BORDERS",
    "METHODS",
    "MODES",
    "NoiseLevel",
    "RestoreConfig",
    "check_config",
    "check_kernel",
    "check_kernel_channels",
    "check_output_settings",
    "jpeg_noise",
    "rounding_noise",
]

#: ``wiener``: Tikhonov-regularised least squares (a Wiener filter that knows the
#: borders); ``rl``: Richardson–Lucy, stopped by the discrepancy principle.
METHODS = ("wiener", "rl")
#: How the blurred image was made from the sharp one: ``valid`` (it is smaller by
#: the kernel) or ``same`` (it kept its size, with the kernel's anchor).
MODES = ("same", "valid")
#: What lay beyond the sharp image's frame. ``unknown``: the scene went on, so
#: the pixels beyond it are unknowns too (a camera's blur); the others are
#: ``detect``'s border rules, when the blur was made by filter2d with one.
BORDERS = ("unknown", "zero", "reflect", "replicate", "circular")
#: A kernel whose weights sum to less than this fraction of their absolute sum
#: loses the image's mean (an edge detector): it cannot be undone.
MIN_DC_GAIN = 1e-3
#: Largest ``--strength``: beyond it the prior alone decides and the answer is flat.
MAX_STRENGTH = 1e6


@dataclass(frozen=True)
class NoiseLevel:
    """The noise in a blurred image: its standard deviation and where that figure comes from.

    Attributes:
        sigma: the standard deviation, in the image's value units ([0, 1] for a decoded image).
        source: why, in words for the report (``"8-bit rounding"``, ``"JPEG quality tables"``, ...).
    """

    sigma: float
    source: str


@dataclass(frozen=True)
class RestoreConfig:
    """How ``restore`` solves. Defaults: the Wiener solve with the strength chosen from the noise."""

    method: str = "wiener"  # wiener: one linear solve, the best on the benchmark's images
    strength: float | None = None  # None: chosen from the image's noise (see restore.strength)
    mode: str = "same"  # same: the blurred image has the sharp one's size, as detect --mode same writes
    border: str = "unknown"  # unknown: the scene goes on beyond the frame, as in a photograph
    max_iterations: int = 200  # a cap only; the solvers stop on their own rules well before it on 8-bit images
    tolerance: float = 1e-4  # conjugate gradients stop here; 1e-3 left the borders 1-7 dB worse on the benchmark


def rounding_noise(bits: int) -> NoiseLevel:
    """The noise of rounding to ``bits``-bit integers, for an image scaled to [0, 1].

    Rounding's error is uniform over one step, so its standard deviation is the
    step over ``sqrt(12)``.

    >>> round(rounding_noise(8).sigma * 255, 4)
    0.2887
    """
    if bits not in (8, 16):
        raise invalid_choice("bit depth", bits, ["8", "16"])
    step = 1.0 / (2**bits - 1)
    return NoiseLevel(step / math.sqrt(12.0), f"{bits}-bit rounding")


def jpeg_noise(tables: Mapping[int, Sequence[int]]) -> NoiseLevel:
    """The noise of a JPEG's quantisation, from its tables (Pillow's ``Image.quantization``).

    Each DCT coefficient is rounded to a multiple of its table entry ``q``, an
    error of variance ``q^2 / 12``; the 8x8 DCT is orthonormal, so a pixel's
    variance is the mean over the 64 coefficients. Coefficients smaller than
    ``q / 2`` round to 0 with a smaller error, so this is an upper bound: a
    blurred image has few large high-frequency coefficients. Table 0 (luma) is used.

    >>> round(jpeg_noise({0: [2] * 64}).sigma * 255, 4)
    0.5774
    """
    if not tables or 0 not in tables or len(tables[0]) != 64:
        raise InputError("A JPEG's quantisation tables need a table 0 of 64 entries")
    q = np.asarray(tables[0], dtype=np.float64)
    sigma = math.sqrt(float(np.mean(q**2)) / 12.0) / 255.0
    return NoiseLevel(sigma, f"JPEG quantisation tables (mean step {q.mean():.1f} levels)")


def check_config(config: RestoreConfig) -> RestoreConfig:
    """Check every choice at once, before any image is read.

    Raises:
        InputError: an unknown method, mode or border; a strength or a cap out of range.

    >>> check_config(RestoreConfig(method="rl")).method
    'rl'
    """
    c = config
    for what, value, choices in [("method", c.method, METHODS), ("mode", c.mode, MODES), ("border", c.border, BORDERS)]:
        if value not in choices:
            raise invalid_choice(what, value, choices)
    if c.strength is not None and not (math.isfinite(c.strength) and 0 < c.strength <= MAX_STRENGTH):
        raise InputError(f"Invalid strength {c.strength}. Expected a number above 0 and at most {MAX_STRENGTH:g}")
    if c.strength is not None and c.method == "rl":
        raise InputError("--strength sets the Wiener solve's regularisation; --method rl stops by the noise instead")
    if c.mode == "valid" and c.border != "unknown":
        raise InputError(f"Border {c.border!r} only applies to mode 'same'; a valid blur has no border")
    if c.max_iterations < 1:
        raise InputError(f"Invalid max iterations {c.max_iterations}. Expected 1 or more")
    if not (math.isfinite(c.tolerance) and 0 < c.tolerance < 1):
        raise InputError(f"Invalid tolerance {c.tolerance}. Expected a number between 0 and 1")
    return c


def check_kernel(kernel: Kernel, method: str, planes: int) -> None:
    """Refuse a kernel that cannot be undone, or that does not fit the planes.

    Raises:
        InputError: weights that sum to about 0 (the mean is lost), negative
            weights for ``rl``, a colour kernel that does not match the planes.

    >>> check_kernel(Kernel(np.array([[1.0, 0.0, -1.0]]), name="diff"), "wiener", 1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    convlearn.errors.InputError: Kernel 'diff' cannot be undone: its weights sum to 0, so the image's mean is lost ...
    """
    w = np.asarray(kernel.weight, dtype=np.float64)
    if kernel.channels == "full":
        raise InputError(
            f"Kernel {kernel.name!r} mixes the colour channels, shape {w.shape}; restore takes a 2-D kernel "
            "or one (h, w) plane per channel, shape (3, h, w)"
        )
    if kernel.channels == "each" and planes != 3:
        raise InputError(f"Kernel {kernel.name!r} has one plane per channel, shape {w.shape}; the image has {planes}")
    for plane in w.reshape(-1, *w.shape[-2:]):
        total, size = float(plane.sum()), float(np.abs(plane).sum())
        if abs(total) <= MIN_DC_GAIN * size:
            raise InputError(
                f"Kernel {kernel.name!r} cannot be undone: its weights sum to {total:.3g}, so the image's mean is lost "
                "(an edge detector, not a blur). Restore needs weights with a clear non-zero sum, such as a blur's 1"
            )
    if method == "rl" and (w < 0).any():
        raise InputError(
            f"Kernel {kernel.name!r} has negative weights; --method rl needs a non-negative blur. Use --method wiener"
        )


def check_kernel_channels(kernel: Kernel, method: str, channels: str) -> None:
    """:func:`check_kernel` for images read with ``--channels`` (``luma``: one plane, ``each``: three).

    >>> check_kernel_channels(Kernel(np.ones((3, 2, 2)) / 4), "wiener", "luma")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    convlearn.errors.InputError: Kernel ... has one plane per channel, shape (3, 2, 2); use --channels each ...
    """
    if channels not in CHANNELS:
        raise invalid_choice("channels", channels, CHANNELS)
    if kernel.channels == "each" and channels == "luma":
        raise InputError(
            f"Kernel {kernel.name!r} has one plane per channel, shape {kernel.weight.shape}; use --channels each "
            "to restore R, G and B apart"
        )
    check_kernel(kernel, method, 3 if channels == "each" else 1)


def check_output_settings(*, channels: str, device: str, bit_depth: int | None, scale: str, fmt: str) -> None:
    """Check how the restored image is written, before any file is read.

    >>> check_output_settings(channels="each", device="cpu", bit_depth=16, scale="clip", fmt="png")
    Traceback (most recent call last):
    ...
    convlearn.errors.InputError: A 16-bit PNG holds one plane; with --channels each use --bit-depth 8 or --format tif
    """
    if channels not in CHANNELS:
        raise invalid_choice("channels", channels, CHANNELS)
    if bit_depth not in (None, 8, 16):
        raise invalid_choice("bit depth", bit_depth, ["8", "16"])
    if scale not in SCALES:
        raise invalid_choice("scale", scale, SCALES)
    if fmt not in OUTPUT_FORMATS:
        raise invalid_choice("format", fmt, OUTPUT_FORMATS)
    if bit_depth == 16 and channels == "each" and fmt == "png":
        raise InputError("A 16-bit PNG holds one plane; with --channels each use --bit-depth 8 or --format tif")
