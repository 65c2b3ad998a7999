"""The built-in kernels: the named table, the box family, gradient pairs (the Gaussian and LoG in :mod:`.gaussian`).

Signs follow OpenCV where OpenCV has the kernel (``sobel-x`` is
``cv2.Sobel(dx=1, dy=0)``: positive where the image gets brighter to the
right), scikit-image where only it has one (Prewitt, Roberts, Farid), and
each row of :data:`KERNELS` says which.

This module needs only numpy, so listing kernels does not import torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from convlearn.kernels.gaussian import gaussian_1d, gaussian_kernel, gaussian_size, log_kernel, opencv_sigma
from convlearn.kernels.kernel import MAX_KERNEL_SIDE, Kernel

__all__ = [
    "KERNELS",
    "KernelInfo",
    "gaussian_1d",
    "gaussian_kernel",
    "gaussian_size",
    "gradient_pair",
    "is_magnitude",
    "log_kernel",
    "opencv_sigma",
]


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
        magnitude: the name means the gradient magnitude of the pair (scikit-image's ``sobel``),
            so ``detect`` computes it without ``--magnitude``.
    """

    name: str
    make: Callable[[list[float]], np.ndarray]
    convention: str
    usage: str = ""
    pair: str | None = None
    axis: str | None = None
    magnitude: bool = False


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
    if not math.isfinite(size) or size != int(size) or not 1 <= size <= MAX_KERNEL_SIDE:
        raise ValueError(f"size must be a whole number from 1 to {MAX_KERNEL_SIDE}")
    return int(size)


def _box(params: list[float]) -> np.ndarray:
    n = _size_arg(params, 3, 1)
    return np.full((n, n), 1.0 / (n * n))


#: The sigmas a Gaussian or LoG takes (besides <= 0, OpenCV's default for the size): below
#: the smallest the kernel is already a single 1 (its weights underflow to 0 one pixel
#: away); above the largest, a flat box. Beyond them the arithmetic overflows.
SIGMA_RANGE = (1e-3, 1e6)


def _sigma_arg(params: list[float]) -> float:
    sigma = params[1] if len(params) > 1 else 0.0
    lo, hi = SIGMA_RANGE
    if not math.isfinite(sigma) or (sigma > 0 and not lo <= sigma <= hi):
        raise ValueError(f"sigma must be <= 0 (OpenCV's default for the size) or from {lo:g} to {hi:g}")
    return sigma


def _gaussian(params: list[float]) -> np.ndarray:
    if params and params[0] == 0:  # OpenCV's ksize 0: the size from sigma
        sigma = _sigma_arg(params)
        if sigma <= 0:
            raise ValueError("size 0 takes its size from sigma: give one, as in gaussian:0,1.5 or gaussian:s1.5")
        n = gaussian_size(sigma)
        if n > MAX_KERNEL_SIDE:
            raise ValueError(f"sigma {sigma:g} makes a {n}x{n} kernel; the largest side allowed is {MAX_KERNEL_SIDE}")
        return gaussian_kernel(n, sigma)
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
        "sobel",
        _fixed(_SOBEL),
        "the gradient magnitude sqrt(sobel-x² + sobel-y²), as skimage.filters.sobel means it (skimage divides "
        "by 4*sqrt(2): its kernels by 4, the sum of squares by 2); detect computes it without --magnitude",
        pair="sobel-y",
        axis="x",
        magnitude=True,
    ),
    KernelInfo(
        "scharr",
        _fixed(_SCHARR),
        "the gradient magnitude sqrt(scharr-x² + scharr-y²), as skimage.filters.scharr means it (skimage "
        "divides by 16*sqrt(2)); detect computes it without --magnitude",
        pair="scharr-y",
        axis="x",
        magnitude=True,
    ),
    KernelInfo(
        "prewitt",
        _fixed(_PREWITT),
        "the gradient magnitude sqrt(prewitt-x² + prewitt-y²), as skimage.filters.prewitt means it (skimage "
        "divides by 3*sqrt(2)); detect computes it without --magnitude",
        pair="prewitt-y",
        axis="x",
        magnitude=True,
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
        "OpenCV cv2.blur(ksize=(N, N)): the mean of an NxN window, N its side (default 3), not a radius: "
        "Pillow's BoxBlur(r) and ImageMagick's radius r are box:2r+1 (BoxBlur(2) is box:5)",
        usage="box:N",
    ),
    KernelInfo(
        "gaussian",
        _gaussian,
        "OpenCV cv2.GaussianBlur(ksize=(SIZE, SIZE), sigmaX=SIGMA), the outer product of cv2.getGaussianKernel; "
        "SIGMA <= 0 or absent: OpenCV's default; SIZE defaults to 3; SIZE 0 (gaussian:0,1.5) or gaussian:s1.5 "
        "takes the size from SIGMA as OpenCV does on 8-bit images, round(6 SIGMA + 1) | 1",
        usage="gaussian:SIZE[,SIGMA] or gaussian:sSIGMA",
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


def is_magnitude(kernel: Kernel) -> bool:
    """Whether the kernel's name means a gradient magnitude (``sobel``, ``scharr``, ``prewitt``), not one kernel.

    >>> from convlearn.kernels import parse_kernel
    >>> is_magnitude(parse_kernel("sobel")), is_magnitude(parse_kernel("sobel-x"))
    (True, False)
    """
    info = KERNELS.get(kernel.name)
    return info is not None and info.magnitude


def gradient_pair(kernel: Kernel) -> tuple[Kernel, Kernel]:
    """The (x, y) kernels that ``--magnitude`` combines for ``kernel``.

    A built-in half of a pair (``sobel-x``, ``scharr-y``, ``edge``...) goes with
    its partner, x first whichever half was given; any other kernel goes with its
    transpose, the kernel itself taking the x role.

    >>> from convlearn.kernels import parse_kernel
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
