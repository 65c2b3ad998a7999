"""Size, bias, clipping, verdict and name chosen from the data, judged by the target's noise floor.

A kernel explains a pair when what it leaves is what the target's noise model
(:mod:`convlearn.learn.noise`) says a perfect filter would leave. So every choice is
measured in squared levels against ``floor²``:

- **Size and bias** by held-out prediction: pixels are sampled from the interior,
  the image is cut into spatial blocks dealt into K folds, and every centred odd
  size up to 15x15, with and without a bias, is fitted on K-1 folds and scored on
  the last. The smallest whose held-out mean squared error is within
  :data:`SIZE_TOLERANCE` · floor² of the best wins; a bias only when it is worth as much.
  Held-out blocks, not per-weight standard errors: JPEG noise is correlated, and
  the errors of many pixels shrink until any weight looks significant.
- **Clipping**: target pixels within a margin of either end are left out when the
  target piles up there; the margin is 0 for rounding (only the end levels) and a
  multiple of the floor for JPEG, whose ringing lifts clipped zeros off 0.
- **The verdict**: linear when the RMS residual is within :data:`LINEAR_RATIO` of the floor.
- **The name**: each built-in of the chosen size or smaller (scale, and σ for the
  families, fitted to the pair) costs at most :data:`NAME_TOLERANCE` · floor² more
  than the free kernel per pixel, and has the free kernel's DC gain.

Every fit is one set of normal equations in float64 over at most
:data:`SAMPLE` pixels, so a 12 MP pair costs what a 512² one does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from convlearn.learn.naming import NAME_TOLERANCE, name_kernel
from convlearn.learn.noise import NoiseModel, with_arithmetic

__all__ = ["NAME_TOLERANCE", "Decision", "FoldSums", "clip_mask", "decide", "fold_sums", "name_kernel", "select_size"]

#: The widest kernel tried, 15x15.
MAX_SIDE = 15
#: Pixels sampled for the selection (and the fit): enough for 226 unknowns many times over.
SAMPLE = 60_000
#: Spatial folds and the side of the blocks dealt into them (a multiple of JPEG's 8).
FOLDS, BLOCK = 4, 64
#: A smaller size (or no bias) is kept while its held-out MSE is within this fraction of the best
#: (plus :data:`SIZE_FLOOR` floor²): the held-out MSE of ~60,000 pixels is itself uncertain by ~1%.
SIZE_TOLERANCE, SIZE_FLOOR = 0.01, 0.002
#: The same floor² share for JPEG and estimated noise, correlated within blocks (see :func:`_tolerance`).
LOSSY_FLOOR = 0.05
#: Linear while the RMS residual is at most this multiple of the noise floor.
LINEAR_RATIO = 2.0
#: JPEG clipping margin, in noise floors; and the share of pixels at an end that says "clipped".
MARGIN_FLOORS, CLIPPED_SHARE = 6.0, 0.005


@dataclass
class FoldSums:
    """Normal equations per fold over the widest window plus a bias column: ``G[f]``, ``b[f]``, ``yy[f]``, ``n[f]``."""

    G: np.ndarray  # (K, p, p), p = MAX_SIDE² + 1
    b: np.ndarray  # (K, p)
    yy: np.ndarray  # (K,)
    n: np.ndarray  # (K,)
    side: int = MAX_SIDE

    def index(self, h: int, w: int, bias: bool) -> np.ndarray:
        """Columns of the centred h x w window (row-major), then the bias column."""
        c = self.side // 2
        rows = np.arange(c - h // 2, c + h // 2 + 1)
        cols = np.arange(c - w // 2, c + w // 2 + 1)
        idx = (rows[:, None] * self.side + cols[None, :]).reshape(-1)
        return np.append(idx, self.side * self.side) if bias else idx


@dataclass
class Decision:
    """What the data say: the kernel, its bias, how it was chosen and whether the filter is linear."""

    kernel: np.ndarray
    bias: float
    rms: float
    noise: NoiseModel
    linear: bool
    name: str | None
    margin: float
    excluded: int
    why: str = ""
    scores: dict = field(default_factory=dict)
    bias_fitted: bool = False  # a bias was fitted (chosen by the data, or asked for)
    nonlinear: float = 0.0  # the share of the residual that non-linear terms of the input predict


def clip_mask(y: np.ndarray, noise: NoiseModel, margin: float | None = None) -> tuple[np.ndarray, float]:
    """True where a target pixel says what the filter gave: not within ``margin`` of either end when clipped there.

    Args:
        y: the target in levels, :math:`(H, W)`.
        noise: its noise model (the range is ``0..noise.full_scale``).
        margin: levels from each end to leave out; None: 0 for rounding noise,
            :data:`MARGIN_FLOORS` floors for JPEG and estimated noise. An end counts as
            clipped when at least :data:`CLIPPED_SHARE` of the pixels lie within the margin of it.

    Returns:
        ``(mask, margin)``.
    """
    if noise.source in ("float32", "float64"):
        return np.ones(y.shape, bool), 0.0
    if margin is None:
        margin = 0.0 if noise.source in ("8-bit", "16-bit") else math.ceil(MARGIN_FLOORS * noise.floor_levels)
    keep = np.ones(y.shape, bool)
    for end in (y <= margin, y >= noise.full_scale - margin):
        if end.mean() >= (CLIPPED_SHARE if margin > 0 else 0.0):
            keep &= ~end
    return keep, float(margin)


def fold_sums(x: np.ndarray, y: np.ndarray, keep: np.ndarray, seed: int = 0) -> FoldSums:
    """Sample interior pixels and accumulate each fold's normal equations over the 15x15 window and a 1.

    Pixels are dealt into folds by the 64x64 block they fall in, so a fold's
    noise is as independent of the others' as the blocks are.
    """
    r = MAX_SIDE // 2
    H, W = y.shape
    ii, jj = np.nonzero(keep[r : H - r, r : W - r])
    if ii.size == 0:
        raise ValueError("no target pixel left to fit")
    pick = np.random.default_rng(seed).choice(ii.size, size=min(SAMPLE, ii.size), replace=False)
    ii, jj = ii[pick] + r, jj[pick] + r
    fold = ((ii // BLOCK) * 7 + (jj // BLOCK) * 3) % FOLDS
    offsets = np.arange(-r, r + 1)
    p = MAX_SIDE * MAX_SIDE + 1
    G, b, yy, n = np.zeros((FOLDS, p, p)), np.zeros((FOLDS, p)), np.zeros(FOLDS), np.zeros(FOLDS)
    for f in range(FOLDS):
        sel = fold == f
        A = np.empty((int(sel.sum()), p))
        A[:, :-1] = x[
            (ii[sel][:, None, None] + offsets[None, :, None]), (jj[sel][:, None, None] + offsets[None, None, :])
        ].reshape(-1, p - 1)
        A[:, -1] = 1.0
        t = y[ii[sel], jj[sel]]
        G[f], b[f], yy[f], n[f] = A.T @ A, A.T @ t, t @ t, t.size
    return FoldSums(G, b, yy, n)


def _solve(G: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(G, b)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(G, b, rcond=None)[0]


def held_out_mse(s: FoldSums, h: int, w: int, bias: bool) -> float:
    """Mean squared error of the h x w (+ bias) fit on pixels of folds it was not fitted on."""
    idx = s.index(h, w, bias)
    Gt, bt = s.G.sum(0)[np.ix_(idx, idx)], s.b.sum(0)[idx]
    sse = 0.0
    for f in range(FOLDS):
        Gf, bf = s.G[f][np.ix_(idx, idx)], s.b[f][idx]
        k = _solve(Gt - Gf, bt - bf)
        sse += k @ Gf @ k - 2 * k @ bf + s.yy[f]
    return max(0.0, float(sse / s.n.sum()))


def select_size(s: FoldSums, noise: NoiseModel, bias: bool | None = None) -> tuple[tuple[int, int], bool, dict]:
    """The smallest centred odd size (and no bias, if as good) whose held-out MSE is near the best.

    Coarse to fine: the squares 1x1 to 15x15 first, then, below the square chosen,
    the rectangles one side narrower (a 1-D or separable filter). A rectangle wider
    than the square is never tried: behind a JPEG target a lopsided size can predict
    a little of the compression error, which is no part of the filter.

    Args:
        s: the folds' normal equations.
        noise: the target's noise model.
        bias: None: with and without a bias tried; True or False: only that.

    Returns:
        ``((h, w), bias, scores)``, scores mapping ``(h, w, bias)`` to held-out MSE.
    """
    scores: dict = {}
    sides = range(1, MAX_SIDE + 1, 2)
    biases = (False, True) if bias is None else (bias,)
    for n in sides:
        for b in biases:
            scores[(n, n, b)] = held_out_mse(s, n, n, b)
    tol = _tolerance(scores, noise, s)
    best = min(scores.values())
    square = min(n for n in sides if min(scores[(n, n, b)] for b in biases) <= best + tol)
    at = min(scores[(square, square, b)] for b in biases)
    ok = [(square, square, b) for b in biases if scores[(square, square, b)] <= best + tol]
    # one side narrower only when it is as good as the square by the rounding tolerance: JPEG's
    # smoothing of the target hides the outer weights of a blur as well as it shows a lopsided size.
    strict = SIZE_TOLERANCE * at + SIZE_FLOOR * noise.floor_levels**2 + 1e-12 * float(s.yy.sum() / s.n.sum())
    for m in range(1, square, 2):
        for b in biases:
            for key in ((m, square, b), (square, m, b)):
                scores[key] = held_out_mse(s, *key)
                if scores[key] <= at + strict:
                    ok.append(key)
    h, w, bias = min(ok, key=lambda key: (key[0] * key[1], max(key[0], key[1]), key[2], scores[key]))
    return (h, w), bias, scores


def _tolerance(scores: dict, noise: NoiseModel, s: FoldSums) -> float:
    """How much more held-out MSE than the best a smaller size (or no bias) may have and still be chosen.

    A share of the best (the held-out MSE of ~60,000 pixels is itself uncertain by
    ~1%), plus a share of floor²: tiny for rounding, whose errors are independent
    from pixel to pixel, but :data:`LOSSY_FLOOR` for JPEG and estimated noise,
    whose errors are correlated within blocks, so a larger kernel predicts some
    of them; and what float64 cancellation in k'Gk - 2k'b + y'y leaves (exact float targets).
    """
    share = LOSSY_FLOOR if noise.source in ("jpeg", "estimated") else SIZE_FLOOR
    best = min(scores.values())
    return SIZE_TOLERANCE * best + share * noise.floor_levels**2 + 1e-12 * float(s.yy.sum() / s.n.sum())


def decide(
    x: np.ndarray,
    y: np.ndarray,
    noise: NoiseModel,
    margin: float | None = None,
    seed: int = 0,
    bias: bool | None = None,
) -> Decision:
    """Size, bias, clipping, kernel, verdict and name for one same-size pair, in levels.

    Args:
        x: the input, :math:`(H, W)`, in levels (any scale; the kernel maps it to y's).
        y: the target, :math:`(H, W)`, in levels of its range (0..255 for 8-bit).
        noise: y's noise model.
        margin: the clipping margin in levels (None: from the noise model, see :func:`clip_mask`).
        seed: for the pixel sample.
        bias: None: fitted when the held-out pixels say so; True or False: as given.

    Returns:
        The :class:`Decision`; the kernel is centred (odd sizes), to be applied as
        ``correlate(x, kernel) + bias``.
    """
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    keep, margin = clip_mask(y, noise, margin)
    asked = bias
    (h, w), bias, scores, s, k = _fit(x, y, keep, noise, seed, asked)
    if margin > 0 and not keep.all():
        # Leaving out by the target's value favours pixels whose noise lifted them: refit on the
        # pixels whose *prediction* is clear of the ends, which the noise did not choose.
        from scipy.ndimage import correlate

        pred = correlate(x, k[: h * w].reshape(h, w), mode="reflect") + (k[-1] if bias else 0.0)
        keep = (pred > margin) & (pred < noise.full_scale - margin) & (y > 0) & (y < noise.full_scale)
        (h, w), bias, scores, s, k = _fit(x, y, keep, noise, seed, asked)
    idx = s.index(h, w, bias)
    G, b, yy, n = s.G.sum(0)[np.ix_(idx, idx)], s.b.sum(0)[idx], float(s.yy.sum()), float(s.n.sum())
    rms = math.sqrt(max(0.0, (k @ G @ k - 2 * k @ b + yy) / n))
    kernel = k[: h * w].reshape(h, w)
    noise = with_arithmetic(noise, x, kernel)  # a float target rounds in the other program's sums too
    name = name_kernel(kernel, G, b, yy, n, bias, noise)
    gain = nonlinear_gain(x, y, keep, kernel, float(k[-1]) if bias else 0.0, seed)
    linear = rms <= LINEAR_RATIO * noise.floor_levels and not (gain > NONLINEAR_GAIN and gain * rms**2 > 0.01)
    why = f"{h}x{w}; RMS {rms:.3g} vs {noise.describe()}; non-linear terms explain {gain:.1%} of it"
    offset = float(k[-1]) if bias else 0.0
    return Decision(kernel, offset, rms, noise, linear, name, margin, int((~keep).sum()), why, scores, bias, gain)


#: Not linear when squares and products of the input's local derivatives predict this share of the residual.
NONLINEAR_GAIN = 0.03


def nonlinear_gain(x, y, keep, kernel, bias, seed: int = 0) -> float:
    """The share of the linear fit's residual MSE that non-linear terms predict on held-out blocks.

    Rounding and JPEG errors have no sign that depends on the local image, so
    squares and products of the input's smoothed derivatives (and of the linear
    prediction) predict nothing of them; a median, bilateral, max/min, threshold
    or tone curve leaves a residual that they do predict.
    """
    from scipy.ndimage import correlate, gaussian_filter

    pred = correlate(x, kernel, mode="reflect") + bias
    s = gaussian_filter(x, 1.0)
    gx, gy = np.gradient(s)
    lap = correlate(s, np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], float), mode="reflect")
    z = (pred - pred.mean()) / (pred.std() + 1e-12)
    feats = [z * z, gx * gx, gy * gy, gx * gy, lap * np.abs(lap), np.abs(lap), np.hypot(gx, gy), z * z * z]
    r = MAX_SIDE // 2
    inner = np.zeros_like(keep)
    inner[r:-r, r:-r] = keep[r:-r, r:-r]
    ii, jj = np.nonzero(inner)
    pick = np.random.default_rng(seed + 1).choice(ii.size, size=min(SAMPLE, ii.size), replace=False)
    ii, jj = ii[pick], jj[pick]
    A = np.stack([f[ii, jj] for f in feats] + [np.ones(ii.size)], 1)
    A[:, :-1] = (A[:, :-1] - A[:, :-1].mean(0)) / (A[:, :-1].std(0) + 1e-12)
    res = y[ii, jj] - pred[ii, jj]
    fold = ((ii // BLOCK) * 7 + (jj // BLOCK) * 3) % FOLDS
    sse = 0.0
    for f in range(FOLDS):
        tr, te = fold != f, fold == f
        c = _solve(A[tr].T @ A[tr], A[tr].T @ res[tr])
        sse += float(((res[te] - A[te] @ c) ** 2).sum())
    base = float(((res - res.mean()) ** 2).sum())
    return 0.0 if base <= 0 else max(0.0, 1 - sse / base)


def _fit(x, y, keep, noise, seed, bias=None):
    s = fold_sums(x, y, keep, seed)
    (h, w), bias, scores = select_size(s, noise, bias)
    idx = s.index(h, w, bias)
    return (h, w), bias, scores, s, _solve(s.G.sum(0)[np.ix_(idx, idx)], s.b.sum(0)[idx])
