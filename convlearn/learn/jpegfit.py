"""The kernel behind a JPEG target, fitted where JPEG keeps what it knows: each block's DCT coefficients.

A JPEG target's error is not noise added to the filter's output: every 8x8
block's DCT coefficient ``C`` was replaced by the centre ``q·n`` of its
quantisation bin ``[q(n - 1/2), q(n + 1/2)]``, and most high-frequency
coefficients by 0. A least-squares fit in pixels takes those centres as the
truth, so it learns a smoother kernel than the filter (a sharpen comes back
weaker). Here the target says only which bin each coefficient fell in: the
fit looks for the kernel whose predicted coefficients fall in those bins, by
minimising the squared distance of each prediction to its bin (convex; solved
by Newton steps on the coefficients that fall outside their bins). Blocks
where the prediction clips are left out, since clipping is not linear.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["BLOCKS", "dct_matrix", "refine"]

#: Blocks sampled for the fit (64 coefficients each).
BLOCKS = 1500
#: Newton steps at most, from the pixel fit.
STEPS = 30
#: The bins are widened by this many levels each side: the target's own 8-bit rounding before compression.
SLACK = 0.5


def dct_matrix() -> np.ndarray:
    """The orthonormal 2-D DCT-II of an 8x8 block as a 64x64 matrix acting on the row-major block.

    >>> D = dct_matrix(); bool(np.allclose(D @ D.T, np.eye(64)))
    True
    """
    n = np.arange(8)
    c = np.cos(np.pi * (2 * n[None, :] + 1) * n[:, None] / 16) * math.sqrt(2 / 8)
    c[0] /= math.sqrt(2)
    return np.kron(c, c)


def _blocks(x, y, kernel, bias, keep, top, left, seed):
    """Block corners (on the JPEG grid) inside the kernel's reach, wholly kept and unclipped by the prediction."""
    from scipy.ndimage import correlate

    h, w = kernel.shape
    pred = correlate(x, kernel, mode="reflect") + bias
    ok = keep & (pred > 0.5) & (pred < 254.5)
    H, W = y.shape
    rows = [r for r in range((-top) % 8, H - 7, 8) if r >= h // 2 and r + 8 + h // 2 <= H]
    cols = [c for c in range((-left) % 8, W - 7, 8) if c >= w // 2 and c + 8 + w // 2 <= W]
    corners = [(r, c) for r in rows for c in cols if ok[r : r + 8, c : c + 8].all()]
    rng = np.random.default_rng(seed)
    if len(corners) > BLOCKS:
        corners = [corners[i] for i in rng.choice(len(corners), BLOCKS, replace=False)]
    return corners


def _loss(M, lo, hi, k) -> float:
    r = M @ k
    return float(((r - np.clip(r, lo, hi)) ** 2).sum())


def _bins_fit(M: np.ndarray, lo: np.ndarray, hi: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Minimise the summed squared distance of ``M k`` to the bins ``[lo, hi]`` from k (Newton on the
    coefficients outside their bins, with a halving line search; the loss is convex and piecewise quadratic)."""
    G = M.T @ M
    ridge = 1e-9 * np.trace(G) / len(G)
    f = _loss(M, lo, hi, k)
    for _ in range(STEPS):
        r = M @ k
        c = np.clip(r, lo, hi)
        out = r != c
        if not out.any():
            break
        Ma = M[out]
        step = np.linalg.solve(Ma.T @ Ma + 1e-3 * G / len(M) * out.sum() + ridge * np.eye(len(G)), Ma.T @ (r - c)[out])
        for _ in range(8):
            trial = k - step
            ft = _loss(M, lo, hi, trial)
            if ft < f:
                break
            step = step / 2
        else:
            break
        if f - ft <= 1e-10 * max(f, 1e-300):
            k, f = trial, ft
            break
        k, f = trial, ft
    return k


def refine(
    x: np.ndarray,
    y: np.ndarray,
    table: np.ndarray,
    kernel: np.ndarray,
    bias: float | None,
    keep: np.ndarray,
    origin: tuple[int, int] = (0, 0),
    seed: int = 0,
) -> tuple[np.ndarray, float | None, int, float]:
    """The kernel (and bias) whose blocks' DCT coefficients fall in the target's quantisation bins.

    Args:
        x: the input in levels, :math:`(H, W)`.
        y: the decoded JPEG target in levels (0..255), :math:`(H, W)`.
        table: the luma quantisation table, 64 values in natural (row-major) order.
        kernel: the pixel fit's kernel, :math:`(h, w)`, odd sides, centred; the start.
        bias: its bias, or None when none is fitted.
        keep: True where a target pixel may be used (not clipped).
        origin: where x and y start in the JPEG file's image (their crop's top-left corner).

    Returns:
        ``(kernel, bias, blocks, miss)``: miss is the RMS distance (levels) of the predicted
        coefficients from their bins, widened by :data:`SLACK`, ~0 for a linear filter;
        the start itself (and 0 blocks, miss nan) when too few blocks are usable.
    """
    h, w = kernel.shape
    corners = _blocks(x, y, kernel, bias or 0.0, keep, origin[0], origin[1], seed)
    p = h * w + (bias is not None)
    if len(corners) * 64 < 20 * p:
        return kernel, bias, 0, math.nan
    D = dct_matrix()
    q = np.asarray(table, dtype=np.float64).reshape(-1)
    oy, ox = np.mgrid[0:8, 0:8]
    dy, dx = np.mgrid[-(h // 2) : h // 2 + 1, -(w // 2) : w // 2 + 1]
    r0 = np.array([c[0] for c in corners])[:, None, None] + oy.reshape(1, 64, 1)
    c0 = np.array([c[1] for c in corners])[:, None, None] + ox.reshape(1, 64, 1)
    A = x[r0 + dy.reshape(1, 1, -1), c0 + dx.reshape(1, 1, -1)]  # (B, 64, h*w)
    if bias is not None:
        A = np.concatenate([A, np.ones((*A.shape[:2], 1))], axis=2)
    M = np.matmul(D, A).reshape(-1, p)
    T = (y[r0[..., 0], c0[..., 0]] - 128.0) @ D.T
    n = np.round(T / q)
    shift = (D @ np.full(64, 128.0))[None, :]
    lo = (q * (n - 0.5) - SLACK + shift).reshape(-1)
    hi = (q * (n + 0.5) + SLACK + shift).reshape(-1)
    k = np.append(kernel.reshape(-1), bias) if bias is not None else kernel.reshape(-1).copy()
    k = _bins_fit(M, lo, hi, k)
    out = k[: h * w].reshape(h, w)
    miss = math.sqrt(_loss(M, lo, hi, k) / len(M))
    return out, (float(k[-1]) if bias is not None else None), len(corners), miss
