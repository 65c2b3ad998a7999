"""The built-in kernel closest to a learned one: "this is ``gaussian:5,1.2``, to 3.1e-4".

Candidates are every built-in of the learned kernel's shape (see
:data:`convlearn.kernels.KERNELS`):

- the fixed kernels (sobel, scharr, prewitt, roberts, farid, laplacian,
  sharpen, emboss, edge...), each times its least-squares scale;
- the families with their parameters fitted: ``box:N``; ``gaussian:N`` (OpenCV's
  default sigma, which for N <= 7 is its binomial table) and ``gaussian:N,SIGMA``;
  ``log:N,SIGMA``; SIGMA by SciPy's bounded scalar minimiser on the squared difference,
  each times its least-squares scale too.

A scale within 1e-3 of 1 counts as 1; scales and sigmas are rounded to three
significant digits, and the difference is measured to the rounded kernel, so
what is reported is what ``detect -k SPEC`` would apply. The closest is the one
with the smallest largest absolute difference; it is reported as close when
that difference is at most :data:`CLOSE` of the learned kernel's largest
absolute weight, and as nothing otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
from scipy.optimize import minimize_scalar

__all__ = ["CLOSE", "closest_builtin"]

#: "Close": the largest difference is at most this fraction of max |weight|
#: (5%: an 8-bit target's rounding leaves ~1e-3 on a 5x5 blur whose peak is 0.16).
CLOSE = 0.05
#: A fitted scale this near 1 is reported as 1, the built-in itself.
_UNIT = 1e-3


def closest_builtin(weight: np.ndarray) -> dict | None:
    """The closest built-in kernel to ``weight``, or None when none is close.

    Args:
        weight: the learned kernel, :math:`(h, w)`.

    Returns:
        ``{"spec": ..., "max_abs_diff": ...}`` and ``"scale"`` when the built-in
        is scaled (``weight ≈ scale * spec``); None when nothing is within
        :data:`CLOSE` of the kernel's scale.

    >>> closest_builtin(np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]) * 0.25)
    {'spec': 'sobel-x', 'max_abs_diff': 0.0, 'scale': 0.25}
    """
    w = np.asarray(weight, dtype=np.float64)
    peak = float(np.abs(w).max()) if w.size else 0.0
    if peak == 0.0 or not math.isfinite(peak):
        return None
    best = None
    for spec, kernel in _candidates(w):
        scale = _round(_scale(w, kernel))
        scale = 1.0 if abs(scale - 1.0) <= _UNIT else scale
        diff = float(np.abs(w - scale * kernel).max())
        if best is None or diff < best[0]:
            best = (diff, spec, scale)
    if best is None or best[0] > CLOSE * peak:
        return None
    diff, spec, scale = best
    return {"spec": spec, "max_abs_diff": diff} | ({} if scale == 1.0 else {"scale": scale})


def _candidates(w: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
    """Every built-in of ``w``'s shape: the fixed ones, and the families with fitted parameters."""
    from convlearn.kernels import KERNELS, gaussian_kernel, log_kernel

    for name, info in KERNELS.items():
        if not info.usage and not info.magnitude:  # sobel, scharr, prewitt name a magnitude, not one kernel
            fixed = info.make([])
            if fixed.shape == w.shape:
                yield name, fixed
    h, side = w.shape
    if h != side:
        return
    yield f"box:{side}", np.full((side, side), 1.0 / (side * side))
    yield f"gaussian:{side}", gaussian_kernel(side, 0.0)
    if side >= 3:
        for family, make in (("gaussian", gaussian_kernel), ("log", log_kernel)):
            sigma = _round(_fit_sigma(w, lambda s, make=make: make(side, s), 0.2, float(side)))
            yield f"{family}:{side},{sigma:g}", make(side, sigma)


def _scale(w: np.ndarray, kernel: np.ndarray) -> float:
    """The least-squares factor s minimising ``||w - s kernel||``."""
    norm = float((kernel * kernel).sum())
    return float((w * kernel).sum()) / norm if norm > 0 else 1.0


#: How closely the sigma is searched: far below its rounding to three digits.
_SIGMA_TOLERANCE = 1e-10
#: Sigmas tried, evenly on a log scale, before the minimiser refines each dip among them:
#: the squared difference can have more than one (a 3x3 LoG's lie at 0.39 and 0.5).
_SIGMA_GRID = 32


def _fit_sigma(w: np.ndarray, make: Callable[[float], np.ndarray], lo: float, hi: float) -> float:
    """The sigma in ``[lo, hi]`` whose (scaled) kernel is nearest ``w`` in squared difference.

    Every dip of a coarse grid is refined by SciPy's bounded scalar minimiser between
    its neighbours and rounded to three digits; the lowest of those wins.

    >>> from convlearn.kernels import gaussian_kernel
    >>> _fit_sigma(2 * gaussian_kernel(5, 1.3), lambda s: gaussian_kernel(5, s), 0.2, 5.0)
    1.3
    """

    def cost(sigma: float) -> float:
        kernel = make(sigma)
        return float(((w - _scale(w, kernel) * kernel) ** 2).sum())

    grid = np.geomspace(lo, hi, _SIGMA_GRID)
    costs = [cost(float(s)) for s in grid]
    last = _SIGMA_GRID - 1
    dips = [i for i in range(_SIGMA_GRID) if costs[i] <= costs[max(i - 1, 0)] and costs[i] <= costs[min(i + 1, last)]]
    found = []
    for i in dips:
        bounds = (float(grid[max(i - 1, 0)]), float(grid[min(i + 1, last)]))
        best = minimize_scalar(cost, bounds=bounds, method="bounded", options={"xatol": _SIGMA_TOLERANCE})
        found.append(_round(float(best.x)))
    # Judged as reported, rounded: two dips can fit equally well (a 3x3 LoG has one shape parameter).
    return min(found, key=cost)


def _round(value: float) -> float:
    """Three significant digits."""
    return float(f"{value:.3g}")
