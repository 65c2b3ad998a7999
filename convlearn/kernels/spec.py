"""Kernel specs: the built-in table, inline matrices, ImageMagick strings and kernel files.

Every command reads its ``--kernel`` through :func:`parse_kernel`, so a spec
means the same thing everywhere. Kernels are correlation kernels (no flip), as
in the notebook, ``cv2.filter2D`` and ``scipy.ndimage.correlate``:
``Y[i, j] = sum_{a, b} K[a, b] * X[i + a - ay, j + b - ax]`` with the anchor
``(ay, ax)`` (``--mode same``) or ``(0, 0)`` (``--mode valid``).

Signs follow OpenCV where OpenCV has the kernel (``sobel-x`` is
``cv2.Sobel(dx=1, dy=0)``: positive where the image gets brighter to the
right), scikit-image where only it has one (Prewitt, Roberts, Farid), and
each row of :data:`KERNELS` says which.

This module needs only numpy, so listing kernels does not import torch.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from convlearn.errors import KernelSpecError

__all__ = [
    "KERNELS",
    "MAX_KERNEL_SIDE",
    "Kernel",
    "KernelInfo",
    "gaussian_1d",
    "gaussian_kernel",
    "gradient_pair",
    "kernel_to_json",
    "load_kernel_file",
    "log_kernel",
    "opencv_sigma",
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
    """One row of the built-in table.

    Attributes:
        name: the spec's name, e.g. ``sobel-x``.
        make: builds the weights from the spec's parameters (``box:5`` -> ``[5]``).
        convention: which library's kernel and sign this is, in one line.
        usage: the spec's form for parameterised kernels, e.g. ``box:N``.
        pair: the other half of a gradient pair, used by ``--magnitude``.
        axis: ``x`` or ``y`` for a gradient kernel: the direction it differentiates.
    """

    name: str
    make: Callable[[list[float]], np.ndarray]
    convention: str
    usage: str = ""
    pair: str | None = None
    axis: str | None = None


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


def opencv_sigma(size: int, sigma: float = 0.0) -> float:
    """``sigma``, or OpenCV's default for a kernel of ``size`` when ``sigma <= 0``.

    >>> opencv_sigma(5), opencv_sigma(5, 2.0)
    (1.1, 2.0)
    """
    # OpenCV's getGaussianKernel rule for sigma <= 0 (cv2 docs, "getGaussianKernel").
    return sigma if sigma > 0 else 0.3 * ((size - 1) * 0.5 - 1) + 0.8


#: The fixed kernels OpenCV's getGaussianKernel returns for odd sizes up to 7
#: when sigma <= 0 (binomial weights, /4, /16, /64... in OpenCV 4 and 5 alike;
#: OpenCV 5 also tabulates size 9, convlearn computes that one).
_OPENCV_SMALL_GAUSSIANS = {
    1: [1.0],
    3: [0.25, 0.5, 0.25],
    5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
    7: [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125],
}


def gaussian_1d(size: int, sigma: float = 0.0) -> np.ndarray:
    """OpenCV's ``getGaussianKernel(size, sigma)``: normalised 1-D Gaussian weights.

    Odd sizes match OpenCV to rounding (``cv2.GaussianBlur`` takes no others);
    even sizes are sampled at ``i - (size - 1) / 2``, which OpenCV 5 does not do.

    >>> gaussian_1d(3).tolist()
    [0.25, 0.5, 0.25]
    """
    if sigma <= 0 and size in _OPENCV_SMALL_GAUSSIANS:
        return np.array(_OPENCV_SMALL_GAUSSIANS[size], dtype=np.float64)
    sigma = opencv_sigma(size, sigma)
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def gaussian_kernel(size: int, sigma: float = 0.0) -> np.ndarray:
    """A normalised Gaussian, the outer product of OpenCV's ``getGaussianKernel``.

    This is the kernel ``cv2.GaussianBlur(ksize=(size, size), sigmaX=sigma)`` applies.

    Args:
        size: side length.
        sigma: standard deviation; ``<= 0`` picks OpenCV's default for ``size``.

    Returns:
        float64 array of shape :math:`(size, size)` summing to 1.

    >>> gaussian_kernel(3, 0).tolist()[0]
    [0.0625, 0.125, 0.0625]
    """
    g = gaussian_1d(size, sigma)
    return np.outer(g, g)


def log_kernel(size: int, sigma: float = 0.0) -> np.ndarray:
    """Laplacian of Gaussian: SciPy's ``gaussian_laplace`` weights, shifted to sum to zero.

    The weights are those ``scipy.ndimage.gaussian_laplace(sigma=sigma,
    radius=(size - 1) // 2)`` applies (second derivatives of a Gaussian whose
    1-D weights sum to 1), minus their mean, so that flat regions give exactly 0.
    The centre is negative, as in ``cv2.Laplacian`` and :data:`KERNELS` ``laplacian``.

    >>> k = log_kernel(5, 1.0); bool(abs(k.sum()) < 1e-12 and k[2, 2] < 0)
    True
    """
    sigma = opencv_sigma(size, sigma)
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    g /= g.sum()  # (size,)
    d2 = g * (x**2 / sigma**4 - 1 / sigma**2)  # second derivative of g, (size,)
    k = np.outer(d2, g) + np.outer(g, d2)  # d2/dy2 + d2/dx2, (size, size)
    return k - k.mean()


def _box(params: list[float]) -> np.ndarray:
    n = _size_arg(params, 3, 1)
    return np.full((n, n), 1.0 / (n * n))


def _sigma_arg(params: list[float]) -> float:
    sigma = params[1] if len(params) > 1 else 0.0
    if not math.isfinite(sigma):
        raise ValueError("sigma must be finite")
    return sigma


def _gaussian(params: list[float]) -> np.ndarray:
    n = _size_arg(params, 3, 2)
    return gaussian_kernel(n, _sigma_arg(params))


def _log(params: list[float]) -> np.ndarray:
    n = _size_arg(params, 5, 2)
    return log_kernel(n, _sigma_arg(params))


_SOBEL = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
_SCHARR = [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]]
_PREWITT = [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]
# Farid & Simoncelli (2004), Table 1, 5 taps: the values scikit-image's farid_h
# and farid_v use. _FARID_D is the derivative, flipped from skimage's so that,
# as a correlation, it is positive where the image gets brighter (like Sobel).
_FARID_P = [0.0376593171958126, 0.249153396177344, 0.426374573253687, 0.249153396177344, 0.0376593171958126]
_FARID_D = [-0.109603762960254, -0.276690988455557, 0.0, 0.276690988455557, 0.109603762960254]


def _t(rows: list[list[float]]) -> list[list[float]]:
    return [list(r) for r in zip(*rows, strict=True)]


def _outer(col: list[float], row: list[float]) -> list[list[float]]:
    return np.outer(col, row).tolist()


_TABLE = [
    KernelInfo(
        "edge",
        _fixed([[1, -1]]),
        "the notebook's K = [[1, -1]]: X[i, j] - X[i, j+1], so positive where the image gets darker to the right",
        pair="edge-t",
        axis="x",
    ),
    KernelInfo(
        "edge-t",
        _fixed([[1], [-1]]),
        "the notebook's K.T: X[i, j] - X[i+1, j], positive where the image gets darker downwards",
        pair="edge",
        axis="y",
    ),
    KernelInfo(
        "sobel-x",
        _fixed(_SOBEL),
        "OpenCV cv2.Sobel(dx=1, dy=0, ksize=3): positive where the image gets brighter to the right "
        "(skimage.filters.sobel_v is this / 4)",
        pair="sobel-y",
        axis="x",
    ),
    KernelInfo(
        "sobel-y",
        _fixed(_t(_SOBEL)),
        "OpenCV cv2.Sobel(dx=0, dy=1, ksize=3): positive where the image gets brighter downwards "
        "(skimage.filters.sobel_h is this / 4)",
        pair="sobel-x",
        axis="y",
    ),
    KernelInfo(
        "scharr-x",
        _fixed(_SCHARR),
        "OpenCV cv2.Scharr(dx=1, dy=0): positive where the image gets brighter to the right "
        "(skimage.filters.scharr_v is this / 16)",
        pair="scharr-y",
        axis="x",
    ),
    KernelInfo(
        "scharr-y",
        _fixed(_t(_SCHARR)),
        "OpenCV cv2.Scharr(dx=0, dy=1): positive where the image gets brighter downwards "
        "(skimage.filters.scharr_h is this / 16)",
        pair="scharr-x",
        axis="y",
    ),
    KernelInfo(
        "prewitt-x",
        _fixed(_PREWITT),
        "scikit-image (OpenCV has no Prewitt): 3 x skimage.filters.prewitt_v, = scipy.ndimage.prewitt(axis=1); "
        "positive where the image gets brighter to the right",
        pair="prewitt-y",
        axis="x",
    ),
    KernelInfo(
        "prewitt-y",
        _fixed(_t(_PREWITT)),
        "scikit-image (OpenCV has no Prewitt): 3 x skimage.filters.prewitt_h, = scipy.ndimage.prewitt(axis=0); "
        "positive where the image gets brighter downwards",
        pair="prewitt-x",
        axis="y",
    ),
    KernelInfo(
        "roberts-x",
        _fixed([[-1, 0], [0, 1]]),
        "scikit-image (OpenCV has no Roberts): skimage.filters.roberts_pos_diag, whose convolution with "
        "[[1, 0], [0, -1]] is this correlation; X[i+1, j+1] - X[i, j]",
        pair="roberts-y",
        axis="x",
    ),
    KernelInfo(
        "roberts-y",
        _fixed([[0, -1], [1, 0]]),
        "scikit-image (OpenCV has no Roberts): skimage.filters.roberts_neg_diag, whose convolution with "
        "[[0, 1], [-1, 0]] is this correlation; X[i+1, j] - X[i, j+1]",
        pair="roberts-x",
        axis="y",
    ),
    KernelInfo(
        "farid-x",
        _fixed(_outer(_FARID_P, _FARID_D)),
        "scikit-image (OpenCV has no Farid): skimage.filters.farid_v, 5x5 (Farid & Simoncelli 2004); "
        "positive where the image gets brighter to the right",
        pair="farid-y",
        axis="x",
    ),
    KernelInfo(
        "farid-y",
        _fixed(_outer(_FARID_D, _FARID_P)),
        "scikit-image (OpenCV has no Farid): skimage.filters.farid_h, 5x5 (Farid & Simoncelli 2004); "
        "positive where the image gets brighter downwards",
        pair="farid-x",
        axis="y",
    ),
    KernelInfo(
        "laplacian",
        _fixed([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
        "OpenCV cv2.Laplacian(ksize=1): 4-neighbour, negative centre (skimage.filters.laplace has the opposite sign)",
    ),
    KernelInfo(
        "laplacian8",
        _fixed([[1, 1, 1], [1, -8, 1], [1, 1, 1]]),
        "8-neighbour Laplacian with cv2.Laplacian's sign, negative centre (ImageMagick's Laplacian:0 is its negative)",
    ),
    KernelInfo(
        "sharpen",
        _fixed([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
        "identity - laplacian: the sharpening kernel of OpenCV's filter2D tutorial",
    ),
    KernelInfo(
        "emboss",
        _fixed([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
        "the classic 3x3 emboss (no OpenCV or scikit-image built-in): the image plus its slope towards the "
        "bottom-right, so lit from the bottom-right",
    ),
    KernelInfo(
        "box",
        _box,
        "OpenCV cv2.blur(ksize=(N, N)): the mean of an NxN window; N defaults to 3",
        usage="box:N",
    ),
    KernelInfo(
        "gaussian",
        _gaussian,
        "OpenCV cv2.GaussianBlur(ksize=(SIZE, SIZE), sigmaX=SIGMA), the outer product of cv2.getGaussianKernel; "
        "SIGMA <= 0 or absent: OpenCV's default; SIZE defaults to 3",
        usage="gaussian:SIZE[,SIGMA]",
    ),
    KernelInfo(
        "log",
        _log,
        "Laplacian of Gaussian (OpenCV has none): scipy.ndimage.gaussian_laplace(sigma=SIGMA, radius=(SIZE-1)//2) "
        "shifted to sum to 0; negative centre like cv2.Laplacian; SIZE defaults to 5, SIGMA as gaussian",
        usage="log:SIZE[,SIGMA]",
    ),
]

#: The built-in kernels by name.
KERNELS: dict[str, KernelInfo] = {info.name: info for info in _TABLE}

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_MAGICK = re.compile(r"^\s*(\d+)(?:x(\d+))?([-+]\d+[-+]\d+)?\s*:(.*)$", re.S)
#: ImageMagick's marks for "not part of the kernel": a weight of 0 in a correlation.
_MAGICK_MISSING = {"nan", "-"}
_NAMED = re.compile(r"^([a-z][a-z0-9_-]*)(?::(.*))?$", re.I)


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
    """``WxH[+X+Y]: v v v ...`` (rows in order, ``nan`` or ``-`` for "not in the kernel")."""
    w = int(match.group(1))
    h = int(match.group(2) or w)  # "3: ..." is 3x3, as in ImageMagick
    if not (0 < w <= MAX_KERNEL_SIDE and 0 < h <= MAX_KERNEL_SIDE):
        raise KernelSpecError(f"Invalid ImageMagick kernel size in {spec!r}")
    body = match.group(4)
    if ";" in body:
        raise KernelSpecError(
            f"ImageMagick kernel {spec!r} holds ';': convlearn takes one kernel, its rows in order after the ':'"
        )
    tokens = [t for t in re.split(r"[\s,]+", body.strip()) if t]
    # ImageMagick leaves nan/"-" cells out of the sum, which is a weight of 0 here.
    values = _numbers(
        " ".join("0" if t.lower() in _MAGICK_MISSING else t for t in tokens), f"ImageMagick kernel {spec!r}"
    )
    if len(values) != w * h:
        raise KernelSpecError(f"ImageMagick kernel {spec!r} declares {w}x{h} = {w * h} values but has {len(values)}")
    if match.group(3):
        x, y = (int(v) for v in re.findall(r"[-+]\d+", match.group(3)))
        if not (0 <= x < w and 0 <= y < h):
            raise KernelSpecError(f"Origin +{x}+{y} lies outside the {w}x{h} kernel in {spec!r}")
    else:
        # ImageMagick's default origin, ((w-1)/2, (h-1)/2) rounded down: the centre
        # for odd sizes, the cell up-left of it for even ones (OpenCV picks w//2).
        x, y = (w - 1) // 2, (h - 1) // 2
    weight = _check_weight(np.array(values, dtype=np.float64).reshape(h, w), spec)
    return Kernel(weight, None, spec.strip(), (y, x))


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
    anchor = None
    meta: dict = {}
    if suffix == ".npy":
        try:
            weight = np.load(p, allow_pickle=False)
        except (ValueError, OSError, EOFError, SyntaxError, tokenize.TokenError) as e:  # a damaged header
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
            anchor = data.get("anchor")
            meta = {k: v for k, v in data.items() if k not in {"kernel", "bias", "anchor"}}
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
    if anchor is not None:
        h, w = weight.shape
        ok = isinstance(anchor, list) and len(anchor) == 2 and all(type(v) is int for v in anchor)
        if not ok or not (0 <= anchor[0] < h and 0 <= anchor[1] < w):
            raise KernelSpecError(f'Kernel file {str(p)!r}: "anchor" must be [row, col] inside the {h}x{w} kernel')
        anchor = (anchor[0], anchor[1])
    return Kernel(weight, None if bias is None else float(bias), str(p), anchor, meta)


def kernel_to_json(kernel: Kernel, **meta: object) -> str:
    """Serialise a kernel as the JSON that :func:`load_kernel_file` reads back.

    An anchor other than the centre (from an ImageMagick ``+X+Y`` origin) is kept
    as ``"anchor": [row, col]``.
    """
    data = {"kernel": kernel.weight.tolist(), "bias": kernel.bias}
    if kernel.anchor is not None:
        data["anchor"] = list(kernel.anchor)
    data.update(meta)
    return json.dumps(data, indent=2) + "\n"


def _suggest(word: str, params: str | None = None) -> str:
    """ " Did you mean 'sobel-x'?" for the built-in closest to ``word``, keeping any parameters."""
    word = word.lower()
    squashed = re.sub(r"[-_ ]", "", word)
    names = list(KERNELS)  # table order breaks ties: x before y
    # A prefix ("sobel", "rob") or a stray separator ("sobel_x") first, then spelling.
    close = [n for n in names if n.startswith(word) or n.replace("-", "") == squashed]
    if not close:
        scores = [(difflib.SequenceMatcher(None, word, n).ratio(), -i) for i, n in enumerate(names)]
        score, i = max(scores)
        close = [names[-i]] if score >= 0.5 else []
    if not close:
        return " Run `convlearn kernels` to list them."
    guess = close[0] + (f":{params}" if params and KERNELS[close[0]].usage else "")
    return f" Did you mean {guess!r}?"


def gradient_pair(kernel: Kernel) -> tuple[Kernel, Kernel]:
    """The (x, y) kernels that ``--magnitude`` combines for ``kernel``.

    A built-in half of a pair (``sobel-x``, ``scharr-y``, ``edge``...) goes with
    its partner, x first whichever half was given; any other kernel goes with its
    transpose, the kernel itself taking the x role.

    >>> [k.name for k in gradient_pair(parse_kernel("sobel-y"))]
    ['sobel-x', 'sobel-y']
    >>> [k.name for k in gradient_pair(parse_kernel("1,0,-1"))]
    ['inline', 'inline.T']
    """
    info = KERNELS.get(kernel.name)
    if info is not None and info.pair is not None:
        other = Kernel(KERNELS[info.pair].make([]), kernel.bias, info.pair, None)
        return (kernel, other) if info.axis == "x" else (other, kernel)
    return kernel, kernel.transpose()


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
        raise KernelSpecError(f"Unknown kernel {text!r}.{_suggest(named.group(1), named.group(2))}")
    return Kernel(parse_matrix(text), None, "inline")
