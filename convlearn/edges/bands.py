"""Canny's first steps on the CPU, one band of rows at a time, in cache.

Smoothing, Sobel gradients, their magnitude, non-maximum suppression and the
two thresholds run on a band of a few dozen rows that stays in the core's
cache, with the few rows around it that the filters reach; bands are shared
among the single-threaded workers of :mod:`convlearn.corr.threads`. Every
pixel gets the operations, in the order and dtype, that the whole-image
functions (:func:`~convlearn.edges.smooth`, :func:`~convlearn.edges.sobel_gradients`,
:func:`~convlearn.edges.gradient_magnitude`, :func:`~convlearn.edges.non_max_suppression`)
give it, so the result is theirs; only no whole-image temporary is made.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from convlearn.corr import threads
from convlearn.kernels import gaussian_1d

__all__ = ["BAND_ELEMENTS", "candidates", "levels", "magnitude"]

#: Output pixels per band: 2^17 float32 (512 KB) per temporary, so that the
#: band's dozen temporaries stay in L2 + L3. Measured on the 2-core sandbox on a
#: 12 MP photo (medians of 7, two threads): 2^15 129 ms, 2^16 99 ms, 2^17 86 ms,
#: 2^18 84 ms, 2^19 91 ms.
BAND_ELEMENTS = 1 << 17
#: OpenCV's fixed-point tan(22.5°) and tan(67.5°), as in :mod:`convlearn.edges.canny`.
_TAN_22_5 = 13573 / 32768
_TAN_67_5 = _TAN_22_5 + 2


def _reflect(i: torch.Tensor, n: int) -> torch.Tensor:
    """Row indices reflected into ``[0, n)`` as BORDER_REFLECT_101 does (``-1 -> 1``, ``n -> n - 2``)."""
    i = i.abs()
    return torch.where(i >= n, 2 * (n - 1) - i, i)


def _taps(sigma: float, H: int, W: int, dtype: torch.dtype) -> list[float]:
    """:func:`~convlearn.edges.smooth`'s Gaussian taps in the image's dtype, or [] when it does not smooth."""
    if sigma <= 0:
        return []
    size = math.floor(6 * sigma + 1 + 0.5) | 1  # cvRound(sigma * 3 * 2 + 1) | 1
    reach = min(size // 2, min(H, W) - 1)
    if reach <= 0:
        return []
    return torch.from_numpy(gaussian_1d(2 * reach + 1, sigma)).to(dtype).tolist()


def _shift_add(x: torch.Tensor, taps: list[float], out: torch.Tensor, dim: int) -> torch.Tensor:
    """``out = sum_b taps[b] * x shifted by b along dim``, in the direct engine's order of operations."""
    n = out.shape[dim]
    torch.mul(x.narrow(dim, 0, n), taps[0], out=out)
    for b in range(1, len(taps)):
        out.add_(x.narrow(dim, b, n), alpha=taps[b])
    return out


def _rows(X: torch.Tensor, r0: int, r1: int, clamp: bool) -> torch.Tensor:
    """Rows ``r0..r1-1`` of X: a view when they lie inside, else a copy with the outside rows
    reflected (BORDER_REFLECT_101) or, with ``clamp``, replicated."""
    H = X.shape[0]
    if r0 >= 0 and r1 <= H:
        return X[r0:r1]
    i = torch.arange(r0, r1)
    return X[i.clamp(0, H - 1) if clamp else _reflect(i, H)]


def _across(x: torch.Tensor, taps: list[float]) -> torch.Tensor:
    """The row pass of the smoothing, reflected at the side columns: only those are copied."""
    R, W = len(taps) // 2, x.shape[1]
    out = x.new_empty(x.shape[0], W)
    if W <= 4 * R:  # a narrow image: reflect every column
        return _shift_add(x[:, _reflect(torch.arange(-R, W + R), W)], taps, out, 1)
    _shift_add(x, taps, out[:, R : W - R], 1)  # the inner columns straight from the rows
    _shift_add(x[:, _reflect(torch.arange(-R, 2 * R), W)], taps, out[:, :R], 1)
    _shift_add(x[:, _reflect(torch.arange(W - 2 * R, W + R), W)], taps, out[:, W - R :], 1)
    return out


def _smoothed(X: torch.Tensor, taps: list[float], s0: int, s1: int) -> torch.Tensor:
    """Rows ``s0..s1-1`` of the smoothed plane X :math:`(H, W)`: a row pass, then a column pass."""
    if not taps:
        return X[s0:s1]
    R = len(taps) // 2
    across = _across(_rows(X, s0 - R, s1 + R, clamp=False), taps)  # (r + 2 R, W)
    return _shift_add(across, taps, X.new_empty(s1 - s0, X.shape[1]), 0)  # (r, W)


def _gradients(X: torch.Tensor, taps: list[float], m0: int, m1: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Sobel gx and gy on rows ``m0..m1-1``, as :func:`sobel_gradients` with replicated borders."""
    H, W = X.shape
    s0, s1 = max(m0 - 1, 0), min(m1 + 1, H)
    S = _smoothed(X, taps, s0, s1)  # (s1 - s0, W)
    S = _rows(S, m0 - 1 - s0, m1 + 1 - s0, clamp=True)  # (r + 2, W): the rows replicated only at the ends
    if W == 1:  # one column: its replicas on both sides, then the middle column of the result
        gx, gy = _gradients_of_rows(S[:, [0, 0, 0]])
        return gx[:, 1:2], gy[:, 1:2]
    return _gradients_of_rows(S)


def _gradients_of_rows(S: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sobel gx and gy of the inner rows of S :math:`(r + 2, W)`, W >= 2, columns replicated at the sides."""
    # The separable engine's sums for Sobel x and y, whose factors are exact: x2 - x0 then
    # (e0 + 2 e1) + e2; and (x0 + 2 x1) + x2 then s2 - s0. Columns replicated at the sides.
    e = S.new_empty(S.shape)  # (r + 2, W)
    torch.sub(S[:, 2:], S[:, :-2], out=e[:, 1:-1])
    torch.sub(S[:, 1], S[:, 0], out=e[:, 0])
    torch.sub(S[:, -1], S[:, -2], out=e[:, -1])
    gx = torch.add(e[:-2], e[1:-1], alpha=2).add_(e[2:])  # (r, W)
    s = S.new_empty(S.shape)
    torch.add(S[:, :-2], S[:, 1:-1], alpha=2, out=s[:, 1:-1]).add_(S[:, 2:])
    torch.add(S[:, 0], S[:, 0], alpha=2, out=s[:, 0]).add_(S[:, 1])
    torch.add(S[:, -2], S[:, -1], alpha=2, out=s[:, -1]).add_(S[:, -1])
    return gx, s[2:] - s[:-2]


def _band(X: torch.Tensor, taps: list[float], r0: int, r1: int, thresholds: tuple[float, float], out) -> None:
    """Fill rows ``r0..r1-1`` of ``out``, a uint8 array of :func:`levels`, for the plane X :math:`(H, W)`.

    The comparisons run in NumPy, several times faster than torch's on the CPU; both are exact.
    """
    H, W = X.shape
    m0, m1 = max(r0 - 1, 0), min(r1 + 1, H)
    gx, gy = _gradients(X, taps, m0, m1)  # (m1 - m0, W)
    M = np.zeros((r1 - r0 + 2, W + 2), dtype=gx.numpy().dtype)
    torch.hypot(gx, gy, out=torch.from_numpy(M[m0 - r0 + 1 : m1 - r0 + 1, 1:-1]))  # 0 outside the image
    c = M[1:-1, 1:-1]  # (r, W)
    gx, gy = gx[r0 - m0 : r1 - m0].numpy(), gy[r0 - m0 : r1 - m0].numpy()
    ax, ay = np.abs(gx), np.abs(gy)
    # OpenCV's sectors and tie rules, as in non_max_suppression.
    horizontal = ay < ax * _TAN_22_5  # the two sectors never overlap
    vertical = ay > ax * _TAN_67_5
    same_sign = (gx >= 0) == (gy >= 0)
    keep = horizontal & (c > M[1:-1, :-2]) & (c >= M[1:-1, 2:])
    keep |= vertical & (c > M[:-2, 1:-1]) & (c >= M[2:, 1:-1])
    diagonal = ~(horizontal | vertical)
    keep |= diagonal & same_sign & (c > M[:-2, :-2]) & (c > M[2:, 2:])
    keep |= diagonal & ~same_sign & (c > M[:-2, 2:]) & (c > M[2:, :-2])
    low, high = thresholds
    weak = np.logical_and(keep, c > low, out=keep)
    np.add(weak, np.logical_and(weak, c > high), out=out[r0:r1], dtype=np.uint8)  # 1 weak, 2 strong


def candidates(X: torch.Tensor, low, high, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Canny's weak and strong pixels of CPU planes, before hysteresis, as two bool arrays.

    ``weak``: the local maxima of the gradient magnitude above ``low``;
    ``strong``: those above ``high`` too (see :func:`~convlearn.edges.canny`).
    ``low`` and ``high`` are numbers, or sequences of one number per plane.

    Shape:
        - X: :math:`(N, H, W)`, float, on the CPU
        - Output: two bool arrays of X's shape
    """
    L = levels(X, low, high, sigma)
    return L > 0, L == 2


def levels(X: torch.Tensor, low, high, sigma: float) -> np.ndarray:
    """:func:`candidates` in one uint8 array, a byte a pixel: 0 neither, 1 weak only, 2 strong (and weak)."""
    N, H, W = X.shape
    X = X.detach().contiguous()
    taps = _taps(sigma, H, W, X.dtype)
    out = np.empty(X.shape, dtype=np.uint8)
    rows = max(8, BAND_ELEMENTS // max(W, 1))
    jobs = [(n, r0, min(H, r0 + rows)) for n in range(N) for r0 in range(0, H, rows)]

    lows, highs = _per_plane(low, N), _per_plane(high, N)

    def fill(n: int, r0: int, r1: int) -> None:
        _band(X[n], taps, r0, r1, (lows[n], highs[n]), out[n])

    threads.share(threads.worker_pool() if len(jobs) > 1 else None, jobs, fill)
    return out


def _per_plane(t, N: int) -> list[float]:
    """A threshold for each of N planes, from one number or one per plane."""
    values = [float(v) for v in (t.reshape(-1).tolist() if isinstance(t, torch.Tensor) else np.ravel(t))]
    return values * N if len(values) == 1 else values


def magnitude(X: torch.Tensor, sigma: float) -> torch.Tensor:
    """The gradient magnitude of the smoothed planes, band by band: :func:`~convlearn.edges.smooth`,
    :func:`~convlearn.edges.sobel_gradients` and :func:`~convlearn.edges.gradient_magnitude` without
    their whole-image temporaries, the same values up to the last bits of rounding.

    Shape:
        - X: :math:`(N, H, W)`, float, on the CPU
        - Output: the same
    """
    N, H, W = X.shape
    X = X.detach().contiguous()
    taps = _taps(sigma, H, W, X.dtype)
    out = torch.empty(X.shape, dtype=X.dtype)
    rows = max(8, BAND_ELEMENTS // max(W, 1))
    jobs = [(n, r0, min(H, r0 + rows)) for n in range(N) for r0 in range(0, H, rows)]

    def fill(n: int, r0: int, r1: int) -> None:
        gx, gy = _gradients(X[n], taps, r0, r1)
        torch.hypot(gx, gy, out=out[n, r0:r1])

    threads.share(threads.worker_pool() if len(jobs) > 1 else None, jobs, fill)
    return out
