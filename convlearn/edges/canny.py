"""Canny's edges: non-maximum suppression, hysteresis, and the whole method.

Everything here runs in torch on a stack of planes, :math:`(N, H, W)`, on the
CPU or CUDA, vectorised over pixels and images alike.

:func:`canny` follows ``cv2.Canny(..., L2gradient=True)``: Sobel gradients
with replicated borders, OpenCV's four-direction non-maximum suppression and
8-connected hysteresis; it adds the Gaussian smoothing that
``skimage.feature.canny`` does first (``cv2.Canny`` leaves that to the user).
Thresholds are in the image's units: images are in [0, 1], so OpenCV's
``100, 200`` on 8-bit images are ``100/255, 200/255`` here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from convlearn.corr import as_planes
from convlearn.edges import bands
from convlearn.edges.gradients import gradient_magnitude, smooth, sobel_gradients
from convlearn.edges.labels import kept_components
from convlearn.edges.threshold import otsu_threshold
from convlearn.errors import InputError

__all__ = [
    "TAN_22_5",
    "TAN_67_5",
    "CannyResult",
    "canny",
    "canny_parts",
    "canny_thresholds",
    "hysteresis",
    "non_max_suppression",
]

#: OpenCV's fixed-point tan(22.5°) in Canny (13573 / 2**15), kept so that the
#: direction sectors match cv2.Canny's bit for bit on integer gradients.
TAN_22_5 = 13573 / 32768
#: tan(67.5°) = tan(22.5°) + 2, the same identity OpenCV uses.
TAN_67_5 = TAN_22_5 + 2


@dataclass(frozen=True)
class CannyResult:
    """What :func:`canny_parts` computes: the edges and the gradients they came from."""

    edges: torch.Tensor  # (N, H, W) 1 on an edge, else 0; X's dtype unless asked otherwise
    gx: torch.Tensor | None  # (N, H, W) Sobel x of the smoothed image; None when not asked for
    gy: torch.Tensor | None  # (N, H, W) Sobel y of the smoothed image; None when not asked for


def _neighbours(M: torch.Tensor, fill: float | int) -> dict[tuple[int, int], torch.Tensor]:
    """The 8 shifted copies of M: ``out[(dy, dx)][..., i, j] = M[..., i + dy, j + dx]``, ``fill`` outside."""
    P = F.pad(M, (1, 1, 1, 1), value=fill)  # (N, H+2, W+2)
    H, W = M.shape[-2:]
    return {
        (dy, dx): P[..., 1 + dy : 1 + dy + H, 1 + dx : 1 + dx + W]
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
        if (dy, dx) != (0, 0)
    }


def non_max_suppression(mag: torch.Tensor, gx: torch.Tensor, gy: torch.Tensor) -> torch.Tensor:
    """Keep the pixels whose magnitude peaks across the edge, with OpenCV's Canny rule.

    The gradient direction is put into one of four sectors (horizontal,
    vertical, two diagonals) with OpenCV's tan(22.5°) tests, and a pixel stays
    when its magnitude beats both neighbours along that direction: strictly the
    one before, at least the one after (strictly both on the diagonals), which
    keeps one pixel of a two-pixel plateau, as ``cv2.Canny`` does. Outside the
    image the magnitude counts as 0.

    Shape:
        - mag, gx, gy: :math:`(..., H, W)`
        - Output: bool, the same
    """
    M, _ = as_planes(mag, "non_max_suppression")
    gxb, gyb = gx.reshape(M.shape), gy.reshape(M.shape)
    nb = _neighbours(M, 0.0)
    ax, ay = gxb.abs(), gyb.abs()
    horizontal = ay < ax * TAN_22_5
    vertical = ay > ax * TAN_67_5
    same_sign = (gxb >= 0) == (gyb >= 0)  # OpenCV: (gx ^ gy) >= 0; gradient down-right or up-left
    keep_h = (M > nb[(0, -1)]) & (M >= nb[(0, 1)])
    keep_v = (M > nb[(-1, 0)]) & (M >= nb[(1, 0)])
    keep_d = torch.where(
        same_sign,
        (M > nb[(-1, -1)]) & (M > nb[(1, 1)]),
        (M > nb[(-1, 1)]) & (M > nb[(1, -1)]),
    )
    keep = torch.where(horizontal, keep_h, torch.where(vertical, keep_v, keep_d))  # (N, H, W)
    return keep.reshape(mag.shape)


#: The 4 neighbour offsets (dy, dx) that, with their opposites, make 8-connectivity.
_HALF_NEIGHBOURHOOD = ((0, 1), (1, 0), (1, 1), (1, -1))


def _edges(cand: torch.Tensor, node: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Both directions of every 8-neighbour pair of candidate pixels, as node ids ``(u, v)``."""
    H, W = cand.shape[-2:]
    us, vs = [], []
    for dy, dx in _HALF_NEIGHBOURHOOD:
        x0, x1 = max(0, -dx), W - max(0, dx)  # columns where the neighbour (y+dy, x+dx) exists
        a = (slice(None), slice(0, H - dy), slice(x0, x1))
        b = (slice(None), slice(dy, H), slice(x0 + dx, x1 + dx))
        both = cand[a] & cand[b]  # (N, H-dy, x1-x0)
        us.append(node[a][both])
        vs.append(node[b][both])
    u, v = torch.cat(us), torch.cat(vs)
    return torch.cat([u, v]), torch.cat([v, u])


def _hysteresis_label(cand: torch.Tensor, seeds: torch.Tensor) -> torch.Tensor:
    """:func:`hysteresis` on the CPU: label the 8-connected components of each plane, keep those with a seed."""
    return torch.from_numpy(kept_components(cand.numpy(), seeds.numpy(), bool))


def hysteresis(strong: torch.Tensor, weak: torch.Tensor) -> torch.Tensor:
    """The weak pixels 8-connected, through weak pixels, to a strong one.

    On the CPU the candidates' connected components are labelled by
    ``scipy.ndimage.label`` (one pass in C: 0.03 s on a 12 MP photo and 0.1 s
    on 12 MP of noise, where the parallel method below takes 0.4 s and 11 s).
    On CUDA they are found in parallel, in the manner of FastSV (Zhang, Azad
    and Hu, 2020): each pixel points at a parent; every round hooks trees onto
    the smallest parent across each edge and halves the paths (pointer
    jumping), so components merge in a few dozen rounds rather than one round
    per pixel of their length. A component is kept when any of
    its pixels is strong.

    Args:
        strong: bool, the seeds (counted as weak too).
        weak: bool, the candidates.

    Returns:
        bool mask of the kept pixels.

    Shape:
        - strong, weak: :math:`(..., H, W)`
        - Output: the same

    >>> weak = torch.tensor([[1, 1, 0, 1]], dtype=torch.bool)
    >>> hysteresis(torch.tensor([[1, 0, 0, 0]], dtype=torch.bool), weak).int()
    tensor([[1, 1, 0, 0]], dtype=torch.int32)
    """
    shape = weak.shape
    cand = (weak | strong).reshape(-1, *shape[-2:])  # (N, H, W)
    seeds = strong.reshape(cand.shape) & cand
    if cand.device.type == "cpu":
        return _hysteresis_label(cand, seeds).reshape(shape)
    return _hysteresis_parallel(cand, seeds).reshape(shape)


def _hysteresis_parallel(cand: torch.Tensor, seeds: torch.Tensor) -> torch.Tensor:
    """:func:`hysteresis` on any device, by parallel hooking and pointer jumping (see there)."""
    M = int(cand.sum())
    if M == 0:
        return torch.zeros(cand.shape, dtype=torch.bool, device=cand.device)
    node = torch.full(cand.shape, -1, dtype=torch.long, device=cand.device)
    node[cand] = torch.arange(M, device=cand.device)  # candidate pixels numbered 0..M-1
    u, v = _edges(cand, node)  # (E,) each, both directions
    f = torch.arange(M, device=cand.device)  # parent of each candidate
    gf = f
    while True:
        nxt = f.clone()
        nxt.scatter_reduce_(0, f[u], gf[v], "amin")  # hook u's tree onto v's grandparent
        nxt.scatter_reduce_(0, u, gf[v], "amin")  # and u itself
        nxt = torch.minimum(nxt, gf)  # shortcut: jump to the grandparent
        ngf = nxt[nxt]
        if torch.equal(ngf, gf):
            break
        f, gf = nxt, ngf
    while not torch.equal(f, f[f]):  # every pixel straight to its root, the component's smallest id
        f = f[f]
    lit = torch.zeros(M, dtype=torch.bool, device=cand.device)
    lit[f[node[seeds]]] = True  # components that hold a seed
    out = torch.zeros(cand.shape, dtype=torch.bool, device=cand.device)
    out[cand] = lit[f]
    return out


def _check_thresholds(low, high, N: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``low`` and ``high`` as float64 tensors of one value per plane, checked: finite, ``0 <= low <= high``."""
    lows = torch.as_tensor(low, dtype=torch.float64).reshape(-1).cpu()
    highs = torch.as_tensor(high, dtype=torch.float64).reshape(-1).cpu()
    lows, highs = lows.expand(N) if lows.numel() == 1 else lows, highs.expand(N) if highs.numel() == 1 else highs
    ok = lows.shape == highs.shape == (N,) and bool(torch.isfinite(lows).all() and torch.isfinite(highs).all())
    if not ok or not bool(((lows >= 0) & (lows <= highs)).all()):
        raise InputError(
            f"Invalid Canny thresholds {low}, {high}. Expected 0 <= LOW <= HIGH (one pair or one per plane)"
        )
    return lows, highs


def canny_parts(
    X: torch.Tensor, low, high, sigma: float = 1.0, gradients: bool = True, dtype: torch.dtype | None = None
) -> CannyResult:
    """Canny edges and, with ``gradients``, the Sobel gradients behind them; see :func:`canny`.

    ``low`` and ``high`` are numbers, or one per plane (a tensor or sequence
    of :math:`N` values, as :func:`canny_thresholds` gives). ``dtype``: of the
    edge map, X's by default; ``torch.uint8`` or ``torch.bool`` save memory.

    On the CPU (float32 and float64) the steps before hysteresis run band by
    band in cache (:mod:`convlearn.edges.bands`), with the same arithmetic and
    so the same edges as the whole-image steps used on other devices; the
    hysteresis labels row chunks in parallel (:mod:`convlearn.edges.labels`).
    """
    if not math.isfinite(sigma) or sigma < 0:
        raise InputError(f"Invalid Canny sigma {sigma}. Expected a number >= 0 (0: no smoothing)")
    Xb, _ = as_planes(X, "canny")
    lows, highs = _check_thresholds(low, high, Xb.shape[0])
    dtype = X.dtype if dtype is None else dtype
    gx = gy = None
    if Xb.device.type == "cpu" and Xb.dtype in (torch.float32, torch.float64):
        np_dtype = torch.empty(0, dtype=dtype).numpy().dtype
        # (N, H, W) uint8 levels, 1 weak, 2 strong, handed over (no reference kept here) to be freed once labelled
        edges = torch.from_numpy(kept_components(bands.levels(Xb, lows, highs, sigma), None, np_dtype))
        if gradients:
            gx, gy = sobel_gradients(smooth(Xb, sigma))
    else:
        gx, gy = sobel_gradients(smooth(Xb, sigma))  # (N, H, W) each
        mag = gradient_magnitude(gx, gy)
        lo, hi = (t.to(mag)[:, None, None] for t in (lows, highs))  # (N, 1, 1)
        weak = non_max_suppression(mag, gx, gy) & (mag > lo)
        edges = hysteresis(weak & (mag > hi), weak).to(dtype)
    edges = edges.reshape(X.shape)
    if gx is None or gy is None:
        return CannyResult(edges, None, None)
    return CannyResult(edges, gx.reshape(X.shape), gy.reshape(X.shape))


def canny_thresholds(X: torch.Tensor, sigma: float = 1.0, ratio: float = 0.5) -> torch.Tensor:
    """Canny's thresholds from the image itself: Otsu's threshold of the gradient magnitude, and half of it.

    ``high`` is Otsu's threshold (Otsu, 1979; see :func:`otsu_threshold`) of the
    magnitude of the smoothed image's Sobel gradient, the split between flat
    and edge-like pixels that maximises the between-class variance; ``low`` is
    ``ratio * high``. This is the rule of Fang, Yue and Yu, "The Study on An
    Application of Otsu Method in Canny Operator" (ISIP 2009), with Canny's own
    advice of a low threshold a half to a third of the high one.

    Args:
        X: float image(s) in [0, 1].
        sigma: the Gaussian of :func:`canny`.
        ratio: ``low / high``.

    Returns:
        ``(..., 2)``: ``(low, high)`` for each plane, in float64.

    >>> X = torch.zeros(16, 16); X[:, 8:] = 1
    >>> canny_thresholds(X, sigma=0).tolist()
    [1.0, 2.0]
    """
    Xb, lead = as_planes(X, "canny_thresholds")
    if Xb.device.type == "cpu" and Xb.dtype in (torch.float32, torch.float64):
        mag = bands.magnitude(Xb, sigma)  # the same values, without whole-image gx, gy and smoothing
    else:
        mag = gradient_magnitude(*sobel_gradients(smooth(Xb, sigma)))
    high = otsu_threshold(mag.double())  # (N,); otsu_threshold works in float64 anyway
    return torch.stack([ratio * high, high], dim=-1).reshape(*lead, 2).cpu()


def canny(X: torch.Tensor, low, high, sigma: float = 1.0, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Thin edges by Canny's method: smoothing, gradient, non-maximum suppression, hysteresis.

    1. Gaussian smoothing with ``sigma`` (:func:`smooth`; 0 skips it, as ``cv2.Canny``);
    2. 3x3 Sobel gradients with replicated borders, magnitude ``sqrt(gx² + gy²)``
       (``cv2.Canny(..., L2gradient=True)``);
    3. non-maximum suppression along the gradient (:func:`non_max_suppression`);
    4. hysteresis: pixels above ``high`` are edges, and so are pixels above ``low``
       8-connected to them (:func:`hysteresis`).

    Args:
        X: float image(s), values in [0, 1] for the thresholds to mean what they say.
        low: weak threshold on the gradient magnitude.
        high: strong threshold, ``>= low``. For OpenCV's ``cv2.Canny(img8, 100, 200)``
            use ``100/255, 200/255``.
        sigma: the Gaussian's standard deviation in pixels.
        dtype: of the result; X's by default (``torch.uint8`` or ``torch.bool``: a quarter
            of float32's memory, and faster). :func:`canny_thresholds` finds ``low, high``
            from the image.

    Returns:
        tensor of X's shape: 1 on an edge, 0 elsewhere.

    Shape:
        - X: :math:`(..., H, W)`
        - Output: the same

    >>> X = torch.zeros(7, 7); X[:, 4:] = 1
    >>> canny(X, 0.5, 1.0, sigma=0)[3].tolist()
    [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    """
    return canny_parts(X, low, high, sigma, gradients=False, dtype=dtype).edges
