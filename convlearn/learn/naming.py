"""The closest built-in by the data: the one that explains a pair about as well as the free kernel.

Each built-in that fits in the kernel's size (the fixed ones, ``box:N``,
OpenCV's default ``gaussian:N``, and ``gaussian:N,SIGMA``, ``log:N,SIGMA`` with
σ fitted to the pair), with its scale (and bias) fitted, is judged by its loss on
the pair's normal equations against the free kernel's, in units of the target's
noise floor² (see :mod:`convlearn.learn.noise`), and must have the kernel's DC gain.
"""

from __future__ import annotations

import math

import numpy as np

from convlearn.learn.noise import NoiseModel

__all__ = ["NAME_TOLERANCE", "name_kernel"]

#: A built-in is named while it costs at most this many floor² per pixel more than the free kernel.
NAME_TOLERANCE = 0.1


def _solve(G: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(G, b)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(G, b, rcond=None)[0]


def _builtins(h: int, w: int):
    """Built-ins that fit in h x w, each with its free parameter's maker (None for fixed kernels)."""
    from convlearn.kernels import KERNELS, gaussian_kernel, log_kernel, parse_kernel

    for name, info in KERNELS.items():
        if not info.usage and not info.magnitude:  # sobel, scharr, prewitt name a magnitude, not one kernel
            fixed = info.make([])
            if fixed.shape[0] <= h and fixed.shape[1] <= w and fixed.shape[0] % 2 and fixed.shape[1] % 2:
                yield name, (lambda _s, k=fixed: k), None
    for side in range(3, min(h, w) + 1, 2):
        yield f"box:{side}", (lambda _s, n=side: np.full((n, n), 1.0 / (n * n))), None
        default = parse_kernel(f"gaussian:{side}").weight  # OpenCV's default sigma (its fixed 1 4 6 4 1 for 5)
        yield f"gaussian:{side}", (lambda _s, k=default: k), None
        yield f"gaussian:{side}", (lambda s, n=side: gaussian_kernel(n, s)), (0.2, float(side))
        yield f"log:{side}", (lambda s, n=side: log_kernel(n, s)), (0.2, float(side))


def _embed(k: np.ndarray, h: int, w: int) -> np.ndarray:
    out = np.zeros((h, w))
    a, c = (h - k.shape[0]) // 2, (w - k.shape[1]) // 2
    out[a : a + k.shape[0], c : c + k.shape[1]] = k
    return out


def _scaled_loss(
    v: np.ndarray, G: np.ndarray, b: np.ndarray, yy: float, bias: bool, scale: float | None = None
) -> tuple[float, float]:
    """Least-squares scale s (or the given one) and bias of kernel vector v; returns (loss, s)."""
    if bias:
        B = np.zeros((G.shape[0], 2))
        B[:-1, 0], B[-1, 1] = v, 1.0
    else:
        B = v[:, None]
    if scale is None:
        c = _solve(B.T @ G @ B, B.T @ b)
    elif bias:  # only the bias is fitted
        c = np.array([scale, (b[-1] - scale * (G[-1, :-1] @ v)) / G[-1, -1]])
    else:
        c = np.array([scale])
    full = B @ c
    return float(full @ G @ full - 2 * full @ b + yy), float(c[0])


def name_kernel(kernel, G, b, yy, n, bias, noise: NoiseModel) -> str | None:
    """The built-in that explains the pair about as well as the free kernel, with the same DC gain; or None.

    The one that costs least; but a kernel with no shape parameter when it costs at most
    0.01 floor² per pixel more (``box:3`` before ``gaussian:3,2.9``). A σ at the end of its search span is no
    fit, and a scale that the data cannot tell from 1 is not printed.
    """
    h, w = kernel.shape
    k_free = _solve(G, b)
    free_loss = float(k_free @ G @ k_free - 2 * k_free @ b + yy)
    budget = free_loss + NAME_TOLERANCE * noise.floor_levels**2 * n
    gain = float(kernel.sum())
    found = []
    for name, make, span in _builtins(h, w):
        sigma = _fit_sigma(make, span, G, b, yy, bias, h, w) if span else None
        if span and not span[0] * 1.02 < sigma < span[1] * 0.98:
            continue
        v = _embed(make(sigma) if span else make(0), h, w).reshape(-1)
        loss, scale = _scaled_loss(v, G, b, yy, bias)
        if abs(scale * v.sum() - gain) > 0.01 + 0.01 * abs(gain) or loss > budget:
            continue
        label = f"{name},{sigma:.3g}" if span else name
        unit = f"{abs(scale):.3g}" == "1" or min(_scaled_loss(v, G, b, yy, bias, s)[0] for s in (1.0, -1.0)) <= budget
        if not unit:
            label = f"{scale:.3g} x {label}"
        elif scale < 0:
            label = f"-1 x {label}"
        found.append((loss, span is None, label))
    if not found:
        return None
    least = min(loss for loss, _, _ in found)
    # a kernel with no shape parameter when it is as good, by a hundredth of floor² per pixel
    tie = [f for f in found if f[1] and f[0] <= least + 0.01 * noise.floor_levels**2 * n]
    return min(tie or found)[2]


def _fit_sigma(make, span, G, b, yy, bias, h, w) -> float:
    """Golden-section search of σ on the pair's loss (scale fitted at each σ)."""
    lo, hi = span
    g = (math.sqrt(5) - 1) / 2

    def cost(sig: float) -> float:
        return _scaled_loss(_embed(make(sig), h, w).reshape(-1), G, b, yy, bias)[0]

    c, d = hi - g * (hi - lo), lo + g * (hi - lo)
    fc, fd = cost(c), cost(d)
    for _ in range(40):
        if fc < fd:
            hi, d, fd = d, c, fc
            c = hi - g * (hi - lo)
            fc = cost(c)
        else:
            lo, c, fc = c, d, fd
            d = lo + g * (hi - lo)
            fd = cost(d)
    return float(f"{(lo + hi) / 2:.3g}")
