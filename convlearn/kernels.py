"""Kernel specs: the built-in table, inline matrices, ImageMagick strings and kernel files.

Every command reads its ``--kernel`` through :func:`parse_kernel`, so a spec
means the same thing everywhere. Kernels are correlation kernels (no flip), as
in the notebook, ``cv2.filter2D`` and ``scipy.ndimage.correlate``.

This module needs only numpy, so listing kernels does not import torch.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from convlearn.errors import KernelSpecError

__all__ = [
    "KERNELS",
    "Kernel",
    "KernelInfo",
    "gaussian_kernel",
    "kernel_to_json",
    "load_kernel_file",
    "log_kernel",
    "parse_kernel",
    "parse_matrix",
]

#: Largest kernel side accepted from a spec; far beyond any sensible filter, it
#: stops a typo such as ``box:100000`` from allocating gigabytes.
MAX_KERNEL_SIDE = 1025


@dataclass(frozen=True)
class Kernel:
    """A correlation kernel with an optional bias and anchor.

    Attributes:
        weight: the kernel, float64, shape :math:`(h, w)`.
        bias: an additive offset, or None.
        name: where it came from (a table name, ``"inline"`` or a path).
        anchor: ``(row, col)`` of the output pixel's position in the kernel,
            used by ``mode="same"``; None means the centre ``(h // 2, w // 2)``,
            as in OpenCV and SciPy.
    """

    weight: np.ndarray
    bias: float | None = None
    name: str = "inline"
    anchor: tuple[int, int] | None = None
    meta: dict = field(default_factory=dict, compare=False)

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.weight.shape)  # type: ignore[return-value]

    @property
    def origin(self) -> tuple[int, int]:
        """The anchor, with the centre filled in."""
        h, w = self.shape
        return self.anchor if self.anchor is not None else (h // 2, w // 2)

    def transpose(self) -> Kernel:
        a = None if self.anchor is None else (self.anchor[1], self.anchor[0])
        return Kernel(self.weight.T.copy(), self.bias, f"{self.name}.T", a)


@dataclass(frozen=True)
class KernelInfo:
    """One row of the built-in table."""

    name: str
    make: Callable[[list[float]], np.ndarray]
    convention: str
    usage: str = ""  # e.g. "box:N" for parameterised kernels
    pair: str | None = None  # the other half of a gradient pair, for --magnitude


def _fixed(rows: list[list[float]]) -> Callable[[list[float]], np.ndarray]:
    matrix = np.array(rows, dtype=np.float64)

    def make(params: list[float]) -> np.ndarray:
        if params:
            raise ValueError("takes no parameters")
        return matrix.copy()

    return make


def _size_arg(params: list[float], default: int, max_params: int) -> int:
    if len(params) > max_params:
        raise ValueError(f"takes at most {max_params} parameters")
    size = params[0] if params else default
    if size != int(size) or not 1 <= size <= MAX_KERNEL_SIDE:
        raise ValueError(f"size must be a whole number from 1 to {MAX_KERNEL_SIDE}")
    return int(size)


def _opencv_sigma(size: int, params: list[float]) -> float:
    sigma = params[1] if len(params) > 1 else 0.0
    if not math.isfinite(sigma):
        raise ValueError("sigma must be finite")
    # OpenCV's getGaussianKernel rule for sigma <= 0 (cv2 docs, "getGaussianKernel").
    return sigma if sigma > 0 else 0.3 * ((size - 1) * 0.5 - 1) + 0.8


def gaussian_kernel(size: int, sigma: float = 0.0) -> np.ndarray:
    """A normalised Gaussian, the outer product of OpenCV's ``getGaussianKernel``.

    Args:
        size: side length.
        sigma: standard deviation; ``<= 0`` picks OpenCV's default for ``size``.

    Returns:
        float64 array of shape :math:`(size, size)` summing to 1.

    >>> gaussian_kernel(3, 0).round(4).tolist()[0]
    [0.0625, 0.125, 0.0625]
    """
    sigma = _opencv_sigma(size, [size, sigma])
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    g /= g.sum()
    return np.outer(g, g)


def log_kernel(size: int, sigma: float = 0.0) -> np.ndarray:
    """Laplacian of Gaussian, sampled and shifted to sum to zero (negative centre).

    >>> k = log_kernel(5, 1.0); bool(abs(k.sum()) < 1e-12 and k[2, 2] < 0)
    True
    """
    sigma = _opencv_sigma(size, [size, sigma])
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    r2 = x[:, None] ** 2 + x[None, :] ** 2
    k = (r2 - 2 * sigma**2) / sigma**4 * np.exp(-r2 / (2 * sigma**2))
    return k - k.mean()


def _box(params: list[float]) -> np.ndarray:
    n = _size_arg(params, 3, 1)
    return np.full((n, n), 1.0 / (n * n))


def _gaussian(params: list[float]) -> np.ndarray:
    n = _size_arg(params, 3, 2)
    return gaussian_kernel(n, _opencv_sigma(n, params))


def _log(params: list[float]) -> np.ndarray:
    n = _size_arg(params, 5, 2)
    return log_kernel(n, _opencv_sigma(n, params))


_SOBEL = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
_SCHARR = [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]]
_PREWITT = [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]


def _t(rows: list[list[float]]) -> list[list[float]]:
    return [list(r) for r in zip(*rows, strict=True)]


_TABLE = [
    KernelInfo("edge", _fixed([[1, -1]]), "the notebook's horizontal-change kernel", pair="edge-t"),
    KernelInfo("edge-t", _fixed([[1], [-1]]), "transpose of edge", pair="edge"),
    KernelInfo("sobel-x", _fixed(_SOBEL), "cv2.Sobel(dx=1, dy=0, ksize=3)", pair="sobel-y"),
    KernelInfo("sobel-y", _fixed(_t(_SOBEL)), "cv2.Sobel(dx=0, dy=1, ksize=3)", pair="sobel-x"),
    KernelInfo("scharr-x", _fixed(_SCHARR), "cv2.Scharr(dx=1, dy=0)", pair="scharr-y"),
    KernelInfo("scharr-y", _fixed(_t(_SCHARR)), "cv2.Scharr(dx=0, dy=1)", pair="scharr-x"),
    KernelInfo(
        "prewitt-x",
        _fixed(_PREWITT),
        "scipy.ndimage.prewitt(axis=1); skimage.filters.prewitt_v x3",
        pair="prewitt-y",
    ),
    KernelInfo(
        "prewitt-y",
        _fixed(_t(_PREWITT)),
        "scipy.ndimage.prewitt(axis=0); skimage.filters.prewitt_h x3",
        pair="prewitt-x",
    ),
    KernelInfo(
        "roberts-x",
        _fixed([[-1, 0], [0, 1]]),
        "skimage.filters.roberts_pos_diag (as correlation)",
        pair="roberts-y",
    ),
    KernelInfo(
        "roberts-y",
        _fixed([[0, -1], [1, 0]]),
        "skimage.filters.roberts_neg_diag (as correlation)",
        pair="roberts-x",
    ),
    KernelInfo("laplacian", _fixed([[0, 1, 0], [1, -4, 1], [0, 1, 0]]), "cv2.Laplacian(ksize=1)"),
    KernelInfo("laplacian8", _fixed([[1, 1, 1], [1, -8, 1], [1, 1, 1]]), "8-neighbour Laplacian"),
    KernelInfo("sharpen", _fixed([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]), "identity - laplacian"),
    KernelInfo("emboss", _fixed([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]), "classic 3x3 emboss"),
    KernelInfo("box", _box, "cv2.blur(ksize=(N, N)); N defaults to 3", usage="box:N"),
    KernelInfo(
        "gaussian",
        _gaussian,
        "cv2.GaussianBlur(ksize=(S, S), sigmaX=SIGMA); SIGMA <= 0 or absent: OpenCV's default",
        usage="gaussian:SIZE[,SIGMA]",
    ),
    KernelInfo(
        "log",
        _log,
        "Laplacian of Gaussian, zero-sum, negative centre like laplacian",
        usage="log:SIZE[,SIGMA]",
    ),
]

#: The built-in kernels by name.
KERNELS: dict[str, KernelInfo] = {info.name: info for info in _TABLE}

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_MAGICK = re.compile(r"^\s*(\d+)(?:x(\d+))?([-+]\d+[-+]\d+)?\s*:(.*)$", re.S)
_NAMED = re.compile(r"^([a-z][a-z0-9-]*)(?::(.*))?$", re.I)


def _numbers(text: str, what: str) -> list[float]:
    tokens = [t for t in re.split(r"[\s,]+", text.strip()) if t]
    values = []
    for token in tokens:
        if not re.fullmatch(_NUMBER, token) and token.lower() not in {"nan", "inf", "-inf", "+inf"}:
            raise KernelSpecError(f"Invalid number {token!r} in {what}")
        values.append(float(token))
    return values


def _check_weight(weight: np.ndarray, spec: str) -> np.ndarray:
    if weight.ndim != 2 or weight.size == 0:
        raise KernelSpecError(f"Kernel {spec!r} must be a non-empty 2-D matrix, got shape {weight.shape}")
    if max(weight.shape) > MAX_KERNEL_SIDE:
        raise KernelSpecError(
            f"Kernel {spec!r} is {weight.shape[0]}x{weight.shape[1]}; the largest side allowed is {MAX_KERNEL_SIDE}"
        )
    if not np.isfinite(weight).all():
        raise KernelSpecError(f"Kernel {spec!r} contains NaN or inf; every value must be finite")
    return weight


def parse_matrix(text: str) -> np.ndarray:
    """Parse an inline matrix: values split by commas or spaces, rows by ``;``.

    Args:
        text: e.g. ``"1,-1"`` (1x2), ``"1;-1"`` (2x1) or ``"1,0,-1;2,0,-2;1,0,-1"``.

    Returns:
        float64 array of shape :math:`(rows, cols)`.

    Raises:
        KernelSpecError: empty values (``"1,,2"``), non-numbers, ragged rows, NaN or inf.

    >>> parse_matrix("1,0,-1;2,0,-2").tolist()
    [[1.0, 0.0, -1.0], [2.0, 0.0, -2.0]]
    """
    if not text.strip():
        raise KernelSpecError(
            "Empty kernel spec. Give a name (see `convlearn kernels`), a matrix such as '1,-1', or a file"
        )
    if re.search(r",\s*,|^\s*,|,\s*(;|$)", text):
        raise KernelSpecError(f"Empty value in kernel {text!r}: two separators in a row")
    rows = [_numbers(row, f"kernel {text!r}") for row in text.split(";")]
    if any(not row for row in rows):
        raise KernelSpecError(f"Empty row in kernel {text!r}")
    widths = sorted({len(row) for row in rows})
    if len(widths) > 1:
        raise KernelSpecError(
            f"Ragged kernel {text!r}: rows have {', '.join(map(str, widths))} values; every row needs the same count"
        )
    return _check_weight(np.array(rows, dtype=np.float64), text)


def _parse_magick(match: re.Match, spec: str) -> Kernel:
    w = int(match.group(1))
    h = int(match.group(2) or w)
    if not (0 < w <= MAX_KERNEL_SIDE and 0 < h <= MAX_KERNEL_SIDE):
        raise KernelSpecError(f"Invalid ImageMagick kernel size in {spec!r}")
    values = _numbers(match.group(4), f"ImageMagick kernel {spec!r}")
    if len(values) != w * h:
        raise KernelSpecError(f"ImageMagick kernel {spec!r} declares {w}x{h} = {w * h} values but has {len(values)}")
    anchor = None
    if match.group(3):
        x, y = (int(v) for v in re.findall(r"[-+]\d+", match.group(3)))
        if not (0 <= x < w and 0 <= y < h):
            raise KernelSpecError(f"Origin +{x}+{y} lies outside the {w}x{h} kernel in {spec!r}")
        anchor = (y, x)
    weight = _check_weight(np.array(values, dtype=np.float64).reshape(h, w), spec)
    return Kernel(weight, None, spec.strip(), anchor)


def load_kernel_file(path: str | os.PathLike) -> Kernel:
    """Load a kernel from ``.json`` (as written by ``learn``) or ``.npy``.

    JSON holds an object with ``"kernel"`` (a list of rows) and optionally
    ``"bias"`` (a number or null), or a bare list of rows. ``.npy`` files are
    loaded with ``allow_pickle=False``; convlearn never unpickles.

    Raises:
        KernelSpecError: a missing or unreadable file, a wrong shape or type.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in {".json", ".npy"}:
        raise KernelSpecError(
            f"Kernel file {str(p)!r} has an unsupported type {suffix or '(none)'!r}. "
            "Use .json or .npy; convlearn never loads pickles"
        )
    if not p.is_file():
        what = "is a directory" if p.is_dir() else "does not exist"
        raise KernelSpecError(f"Kernel file {str(p)!r} {what}")
    bias = None
    meta: dict = {}
    if suffix == ".npy":
        try:
            weight = np.load(p, allow_pickle=False)
        except (ValueError, OSError, EOFError) as e:
            raise KernelSpecError(f"Kernel file {str(p)!r} is not a plain numeric .npy array ({e})") from None
        if weight.dtype.kind not in "biuf":
            raise KernelSpecError(f"Kernel file {str(p)!r} has dtype {weight.dtype}; a numeric array is needed")
        weight = np.asarray(weight, dtype=np.float64)
        if weight.ndim == 1:
            weight = weight[None, :]
    else:
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise KernelSpecError(f"Kernel file {str(p)!r} is not valid JSON ({e})") from None
        rows = data
        if isinstance(data, dict):
            if "kernel" not in data:
                raise KernelSpecError(f'Kernel file {str(p)!r} has no "kernel" key (a list of rows)')
            rows = data["kernel"]
            bias = data.get("bias")
            meta = {k: v for k, v in data.items() if k not in {"kernel", "bias"}}
            if bias is not None and (isinstance(bias, bool) or not isinstance(bias, int | float)):
                raise KernelSpecError(f'Kernel file {str(p)!r}: "bias" must be a number or null')
        ok = (
            isinstance(rows, list)
            and rows
            and all(
                isinstance(r, list) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in r)
                for r in rows
            )
        )
        if not ok:
            raise KernelSpecError(f'Kernel file {str(p)!r}: "kernel" must be a non-empty list of rows of numbers')
        if len({len(r) for r in rows}) != 1:
            raise KernelSpecError(f"Kernel file {str(p)!r}: ragged rows; every row needs the same count")
        weight = np.array(rows, dtype=np.float64)
        if bias is not None and not math.isfinite(bias):
            raise KernelSpecError(f"Kernel file {str(p)!r}: bias must be finite")
    weight = _check_weight(weight, str(p))
    return Kernel(weight, None if bias is None else float(bias), str(p), None, meta)


def kernel_to_json(kernel: Kernel, **meta: object) -> str:
    """Serialise a kernel as the JSON that :func:`load_kernel_file` reads back."""
    data = {"kernel": kernel.weight.tolist(), "bias": kernel.bias, **meta}
    return json.dumps(data, indent=2) + "\n"


def _suggest(word: str) -> str:
    close = difflib.get_close_matches(word.lower(), list(KERNELS), n=1, cutoff=0.5)
    return f" Did you mean {close[0]!r}?" if close else " Run `convlearn kernels` to list them."


def parse_kernel(spec: str) -> Kernel:
    """Turn any kernel spec into a :class:`Kernel`.

    A spec is, tried in this order:

    1. an ImageMagick kernel string, ``"WxH[+X+Y]: v v v ..."``;
    2. a built-in name, with parameters after a colon: ``sobel-x``, ``box:5``,
       ``gaussian:5,1.2`` (see :data:`KERNELS`);
    3. the path of a ``.json`` or ``.npy`` kernel file;
    4. an inline matrix, see :func:`parse_matrix`.

    Args:
        spec: the text the user gave.

    Returns:
        The kernel, with ``weight`` as float64 of shape :math:`(h, w)`.

    Raises:
        KernelSpecError: with a message that names the spec and, for an unknown
            name, the closest built-in.

    >>> parse_kernel("edge").weight.tolist()
    [[1.0, -1.0]]
    >>> parse_kernel("1;-1").shape
    (2, 1)
    """
    if not isinstance(spec, str):
        raise KernelSpecError(f"Kernel spec must be text, got {type(spec).__name__}")
    text = spec.strip()
    magick = _MAGICK.match(text)
    if magick:
        return _parse_magick(magick, spec)
    named = _NAMED.match(text)
    if named and named.group(1).lower() in KERNELS and not os.path.exists(text):
        info = KERNELS[named.group(1).lower()]
        params = _numbers(named.group(2) or "", f"kernel {spec!r}") if named.group(2) else []
        try:
            weight = info.make(params)
        except ValueError as e:
            usage = f" Usage: {info.usage}" if info.usage else ""
            raise KernelSpecError(f"Invalid parameters for kernel {info.name!r}: {e}.{usage}") from None
        return Kernel(_check_weight(weight, spec), None, text.lower())
    if Path(text).suffix.lower() in {".json", ".npy"} or (text and os.path.exists(text)):
        return load_kernel_file(text)
    if named and not re.fullmatch(r"(?i)[-+]?(nan|inf)", text):
        raise KernelSpecError(f"Unknown kernel {text!r}.{_suggest(named.group(1))}")
    return Kernel(parse_matrix(text), None, "inline")
