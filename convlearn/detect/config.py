"""How ``detect`` filters: its settings, their one check, and the tag of default output names.

Nothing here imports torch: text is parsed into values here, once, and
:func:`check_config` checks every setting before :mod:`convlearn.detect.run`
imports torch, so a bad option fails in a fraction of a second.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from pathlib import Path

from convlearn.corr.config import check_border, check_mode
from convlearn.errors import InputError, invalid_choice
from convlearn.images.config import CHANNELS, DEFAULT_MAX_PIXELS, OUTPUT_FORMATS, PNG_COMPRESSION, SCALES
from convlearn.kernels import KERNELS, Kernel, is_magnitude

__all__ = [
    "MAX_CANNY",
    "MAX_SIGMA",
    "DetectConfig",
    "check_config",
    "check_outputs",
    "default_tag",
    "kernel_channels",
    "parse_canny",
    "parse_threshold",
]


@dataclass(frozen=True)
class DetectConfig:
    """How ``detect`` filters. Defaults are the notebook's corr2d on a luma image."""

    mode: str | None = None  # None: valid (the notebook's output shape), or same when a border other than zero is given
    border: str = "zero"  # only used by mode "same"; zero: like nn.Conv2d's padding
    device: str = "auto"  # auto: CUDA when available, else the CPU
    scale: str = "auto"  # picture mapping for .png output, see images.SCALES
    bit_depth: int = 8  # 8: one byte per PNG sample, what every viewer shows
    png_compression: int = PNG_COMPRESSION  # zlib level of PNG output; 1: OpenCV's default, fast
    max_pixels: int | None = DEFAULT_MAX_PIXELS  # Pillow's decompression-bomb limit
    channels: str = "luma"  # luma: one grey plane, as the notebook's image; "each" filters R, G and B apart
    magnitude: bool = False  # sqrt(gx² + gy²) of the kernel's gradient pair
    angle: bool = False  # also compute atan2(gy, gx) (needs magnitude or canny)
    threshold: float | str | None = None  # a number, "otsu", or None for the raw values
    canny: str | tuple[float, float] | None = None  # (low, high) on the gradient magnitude, "LOW,HIGH" or "auto"
    sigma: float | None = None  # Canny's Gaussian; None: skimage.feature.canny's 1.0 (only with canny)
    fmt: str = "png"  # format for stdout and for directories of outputs
    batch_size: int = 8  # files stacked per trip to the device
    workers: int = 2  # decoding threads; 0 decodes in the calling thread
    max_batch_pixels: int = 1 << 25  # 32 Mi values (128 MiB of float32) per batch at most
    raw_orientation: bool = False  # False: turn JPEGs upright by their EXIF orientation, as viewers do


#: The largest Sobel gradient magnitude an image in [0, 1] can have, sqrt(4² + 2²) = 2 sqrt(5)
#: (three pixels of the 3x3 window at 1 on one side, gx = 4, gy = 2): a higher threshold finds no edge.
MAX_CANNY = math.sqrt(20)
#: Largest Canny --sigma: a Gaussian far wider than any image (it is cut to the image) yet finite to compute.
MAX_SIGMA = 1e6


def parse_threshold(text: str | float) -> float | str:
    """``--threshold``'s value: a finite number, or ``otsu``.

    >>> parse_threshold("0.5"), parse_threshold("OTSU")
    (0.5, 'otsu')
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        value = float(text)
    else:
        word = str(text).strip().lower()
        if word == "otsu":
            return "otsu"
        try:
            value = float(word)
        except ValueError:
            raise InputError(f"Invalid threshold {text!r}. Expected a number or 'otsu'") from None
    if not math.isfinite(value):
        raise InputError(f"Invalid threshold {text!r}. Expected a finite number or 'otsu'")
    return value


def parse_canny(value: str | tuple[float, float]) -> tuple[float, float] | str:
    """``--canny``'s ``LOW,HIGH`` (or a pair given from Python), or ``auto``.

    Two finite numbers with ``0 <= LOW <= HIGH <= MAX_CANNY``: a higher
    threshold than the largest gradient magnitude of an image in [0, 1] would
    find no edge, and is most likely OpenCV's 8-bit numbers, so the message
    gives them divided by 255.

    >>> parse_canny("0.1,0.3"), parse_canny((0, 1)), parse_canny("Auto")
    ((0.1, 0.3), (0.0, 1.0), 'auto')
    """
    is_text = isinstance(value, str)
    if is_text and value.strip().lower() == "auto":
        return "auto"
    text = value if is_text else ",".join(map(str, value))  # what a message shows
    parts = [p.strip() for p in value.split(",")] if is_text else list(value)
    try:
        low, high = (float(p) for p in parts)
    except (TypeError, ValueError):
        raise InputError(f"Invalid Canny thresholds {text!r}. Expected LOW,HIGH or auto, for example 0.1,0.3") from None
    if not (math.isfinite(low) and math.isfinite(high)) or not 0 <= low <= high:
        raise InputError(f"Invalid Canny thresholds {text!r}. Expected 0 <= LOW <= HIGH, for example 0.1,0.3")
    if high > MAX_CANNY:
        raise InputError(
            f"Canny thresholds {text!r} are above {MAX_CANNY:.3f}, the largest gradient magnitude of an image "
            f"in [0, 1], so nothing would be an edge. Thresholds are in image units: OpenCV's 8-bit "
            f"{low:g},{high:g} is --canny {low / 255:.3f},{high / 255:.3f} here (or try --canny auto)"
        )
    return low, high


def check_config(config: DetectConfig) -> DetectConfig:
    """Check every choice at once, before any file is read (and before torch is imported).

    Args:
        config: the settings as given; ``threshold`` and ``canny`` may still be text.

    Returns:
        The config, normalised: ``threshold`` a number or ``"otsu"``, ``canny`` a ``(low, high)`` pair or ``"auto"``.

    Raises:
        InputError: a bad choice, or options that do not go together.

    >>> check_config(DetectConfig(canny="0.1,0.3")).canny
    (0.1, 0.3)
    """
    c = config
    _check_choices(c)
    if c.bit_depth == 16 and c.channels == "each":
        raise InputError("--bit-depth 16 writes one plane; with --channels each write .npy or 8-bit .png")
    if c.batch_size < 1 or c.workers < 0:
        raise InputError(f"Invalid batch size {c.batch_size} or workers {c.workers}; need >= 1 and >= 0")
    threshold = None if c.threshold is None else parse_threshold(c.threshold)
    canny = None if c.canny is None else _check_canny(c, threshold)
    if c.angle and not (c.magnitude or canny):
        raise InputError("--angle is the direction of a gradient pair: add --magnitude or --canny")
    binary = "--canny" if canny is not None else "--threshold" if threshold is not None else None
    if binary and c.scale in ("clip", "abs", "minmax"):
        raise InputError(
            f"{binary} writes 0 and 1, which --scale {c.scale} maps to 0 and 255 as auto does: drop --scale "
            "(signed maps 0 to mid-grey)"
        )
    if c.sigma is not None and canny is None:
        raise InputError(
            "--sigma is Canny's smoothing: add --canny LOW,HIGH, or drop --sigma (blur with -k gaussian:s2)"
        )
    return replace(c, threshold=threshold, canny=canny, mode=_mode(c), sigma=1.0 if c.sigma is None else c.sigma)


def _mode(c: DetectConfig) -> str:
    """The output size: a border other than zero implies ``same`` (as in OpenCV), unless ``valid`` was asked for."""
    if c.border == "zero" or c.canny is not None:
        return c.mode or "valid"
    if c.mode == "valid":
        raise InputError(
            f"--border {c.border} pads the input for --mode same; --mode valid uses no border: drop one of them"
        )
    return "same"


def _check_choices(c: DetectConfig) -> None:
    """Each setting one of its choices."""
    if c.mode is not None:
        check_mode(c.mode)
    check_border(c.border)
    for what, value, choices in [
        ("scale", c.scale, SCALES),
        ("channels", c.channels, CHANNELS),
        ("format", c.fmt, OUTPUT_FORMATS),
    ]:
        if value not in choices:
            raise invalid_choice(what, value, choices)
    if c.bit_depth not in (8, 16):
        raise invalid_choice("bit depth", c.bit_depth, ["8", "16"])
    if c.png_compression not in range(10):
        raise invalid_choice("PNG compression", c.png_compression, [str(n) for n in range(10)])


def _check_canny(c: DetectConfig, threshold: float | str | None) -> tuple[float, float] | str:
    """Canny's thresholds and sigma, and the options it replaces left out."""
    canny = parse_canny(c.canny)
    if c.magnitude:
        raise InputError("--canny computes its own gradient magnitude; drop --magnitude")
    if threshold is not None:
        raise InputError("--canny already gives a binary edge map; drop --threshold")
    if c.mode not in (None, "valid") or c.border != "zero":
        raise InputError("--canny always gives the input's size, with its own borders; drop --mode and --border")
    if c.sigma is not None and (not math.isfinite(c.sigma) or not 0 <= c.sigma <= MAX_SIGMA):
        raise InputError(f"Invalid --sigma {c.sigma}. Expected a number from 0 (no smoothing) to {MAX_SIGMA:g}")
    return canny


#: Outputs that are pictures, which --scale maps values into; PNG alone takes --bit-depth 16 and a zlib level.
PICTURES = (".png", ".jpg", ".jpeg", ".bmp")


def check_outputs(config: DetectConfig, outputs: list[str | None]) -> None:
    """Refuse the output settings that no output uses: each would otherwise be ignored in silence.

    Args:
        config: the checked settings.
        outputs: the planned outputs: paths, ``-`` (stdout, of type ``config.fmt``), or None (no file).

    Raises:
        InputError: ``--scale``, ``--bit-depth 16`` or ``--png-compression`` with no picture (or PNG)
            written, or ``--format`` when every output names its own type.

    >>> check_outputs(DetectConfig(scale="abs"), ["out.png"])  # a picture: --scale shapes it
    >>> check_outputs(DetectConfig(scale="abs"), ["out.npy"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    convlearn.errors.InputError: --scale maps values to picture levels; ... (.npy): drop --scale
    """
    suffixes = [f".{config.fmt}" if o == "-" else Path(o).suffix.lower() for o in outputs if o is not None]
    suffixes = [".tif" if s == ".tiff" else s for s in suffixes]
    written = ", ".join(sorted(set(suffixes))) or "no file: --print, --table or --json only"
    if config.scale != "auto" and not set(suffixes) & set(PICTURES):
        raise InputError(
            f"--scale maps values to picture levels; no .png, .jpg or .bmp is written here ({written}): drop --scale"
        )
    for given, option in [
        (config.bit_depth != 8, "--bit-depth"),
        (config.png_compression != PNG_COMPRESSION, "--png-compression"),
    ]:
        if given and ".png" not in suffixes:
            raise InputError(f"{option} shapes PNG files; no .png is written here ({written}): drop {option}")
    if config.fmt != "png" and f".{config.fmt}" not in suffixes:
        raise InputError(
            f"--format {config.fmt} names the type of stdout and of outputs in a directory; every output here "
            f"names its own ({written}): drop --format, or end the --output name in .{config.fmt}"
        )


def kernel_channels(kernel: Kernel, config: DetectConfig) -> DetectConfig:
    """The config a kernel needs: ``sobel``, ``scharr`` and ``prewitt`` ask for ``magnitude``;
    a (3, h, w) kernel asks for ``channels="each"``;
    a (3, 3, h, w) one reads R, G and B whatever ``channels`` says (RGB in, RGB out).

    Raises:
        InputError: a (3, h, w) kernel with luma, or a colour kernel with ``magnitude``.

    >>> import numpy as np
    >>> kernel_channels(Kernel(np.ones((3, 3, 1, 1))), DetectConfig()).channels
    'each'
    """
    if is_magnitude(kernel) and config.canny is None:
        config = replace(config, magnitude=True)  # sobel, scharr, prewitt: the magnitude, as scikit-image means
    if kernel.channels is None or config.canny is not None:
        return config
    if config.magnitude:
        raise InputError(
            f"--magnitude needs a one-plane kernel; {kernel.name!r} is a colour kernel {kernel.weight.shape}"
        )
    if kernel.channels == "each" and config.channels != "each":
        raise InputError(
            f"Kernel {kernel.name!r} has one plane per channel, shape {kernel.weight.shape}: "
            "add --channels each to filter R, G and B with it"
        )
    return replace(config, channels="each")


def _short_hash(kernel: Kernel) -> str:
    """Eight hex digits that tell kernels apart: of the weights (as float64), the bias and the anchor."""
    digest = hashlib.sha256(kernel.weight.astype("<f8").tobytes())
    digest.update(repr((kernel.weight.shape, kernel.bias, kernel.anchor)).encode())
    return digest.hexdigest()[:8]


def default_tag(kernel: Kernel, config: DetectConfig) -> str:
    """The ``TAG`` of default output names ``STEM_TAG.png``: what was computed.

    >>> from convlearn.kernels import parse_kernel
    >>> default_tag(parse_kernel("sobel-x"), DetectConfig(magnitude=True, threshold="otsu"))
    'sobel-x-mag-otsu'
    >>> default_tag(parse_kernel("3x3: 0 1 0 1 -4 1 0 1 0"), DetectConfig())
    'magick-40fc598a'

    An inline matrix or an ImageMagick string would make a poor file name: it
    is ``inline-HASH`` or ``magick-HASH``, eight hex digits of the kernel itself
    (weights, bias and anchor), so different kernels get different names.
    """
    if config.canny is not None:
        return "canny"
    name = kernel.name
    if name == "inline":
        name = f"inline-{_short_hash(kernel)}"
    elif name.split(":", 1)[0] not in KERNELS:
        # A kernel file gives its stem.
        is_file = Path(name).suffix.lower() in (".json", ".npy")
        name = Path(name).stem if is_file else f"magick-{_short_hash(kernel)}"
    tag = name.replace(":", "-").replace(",", "-")
    if config.magnitude:
        tag += "-mag"
    if config.threshold is not None:
        tag += "-otsu" if config.threshold == "otsu" else "-bin"
    return tag
