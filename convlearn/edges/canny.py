"""Edges from gradients: magnitude and angle, thresholds (a number or Otsu's) and Canny.

Everything here runs in torch on a stack of planes, :math:`(N, H, W)`, on the
CPU or CUDA, vectorised over pixels and images alike.

Conventions, so that results compare with the libraries users know:

- ``x`` runs along columns (to the right) and ``y`` along rows (downwards), as
  in OpenCV; ``angle = atan2(gy, gx)`` in radians in :math:`(-\\pi, \\pi]`, as
  ``numpy.arctan2``, so it turns clockwise on screen.
- A threshold keeps values strictly above it, as OpenCV's ``THRESH_BINARY``.
- :func:`canny` follows ``cv2.Canny(..., L2gradient=True)``: Sobel gradients
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

from convlearn.corr import as_planes, filter2d
from convlearn.errors import InputError
from convlearn.kernels import KERNELS, gaussian_1d

__all__ = [
    "TAN_22_5",
    "TAN_67_5",
    "CannyConfig",
    "CannyResult",
    "apply_threshold",
    "canny",
    "canny_parts",
    "gradient_angle",
    "gradient_magnitude",
    "hysteresis",
    "non_max_suppression",
    "otsu_threshold",
    "parse_canny",
    "parse_threshold",
    "smooth",
    "sobel_gradients",
]

#: OpenCV's fixed-point tan(22.5°) in Canny (13573 / 2**15), kept so that the
#: direction sectors match cv2.Canny's bit for bit on integer gradients.
TAN_22_5 = 13573 / 32768
#: tan(67.5°) = tan(22.5°) + 2, the same identity OpenCV uses.
TAN_67_5 = TAN_22_5 + 2


@dataclass(frozen=True)
class CannyConfig:
    """Settings of :func:`canny`."""

    low: float  # weak edges: gradient magnitude above this, if connected to a strong one
    high: float  # strong edges: gradient magnitude above this
    sigma: float = 1.0  # Gaussian smoothing first: skimage.feature.canny's default; 0 = none, as cv2.Canny


@dataclass(frozen=True)
class CannyResult:
    """What :func:`canny_parts` computes: the edges and the gradients they came from."""

    edges: torch.Tensor  # (N, H, W) float, 1 on an edge, else 0
    gx: torch.Tensor  # (N, H, W) Sobel x of the smoothed image
    gy: torch.Tensor  # (N, H, W) Sobel y of the smoothed image


def gradient_magnitude(gx: torch.Tensor, gy: torch.Tensor) -> torch.Tensor:
    """``sqrt(gx² + gy²)``, computed without overflow (``torch.hypot``).

    Args:
        gx: the x derivative.
        gy: the y derivative, same shape.

    Returns:
        The magnitude, same shape.

    >>> gradient_magnitude(torch.tensor([3.0]), torch.tensor([4.0]))
    tensor([5.])
    """
    return torch.hypot(gx, gy)


def gradient_angle(gx: torch.Tensor, gy: torch.Tensor) -> torch.Tensor:
    """The gradient's direction ``atan2(gy, gx)`` in radians, in :math:`(-\\pi, \\pi]`.

    y points down the rows, so positive angles turn clockwise on screen.

    >>> gradient_angle(torch.tensor([0.0]), torch.tensor([1.0]))  # brighter downwards
    tensor([1.5708])
    """
    return torch.atan2(gy, gx)


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


def parse_canny(text: str) -> tuple[float, float]:
    """``--canny``'s ``LOW,HIGH``: two finite numbers with ``0 <= LOW <= HIGH``.

    >>> parse_canny("0.1,0.3")
    (0.1, 0.3)
    """
    parts = [p.strip() for p in str(text).split(",")]
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        raise InputError(f"Invalid Canny thresholds {text!r}. Expected LOW,HIGH, for example 0.1,0.3") from None
    if not (math.isfinite(low) and math.isfinite(high)) or not 0 <= low <= high:
        raise InputError(f"Invalid Canny thresholds {text!r}. Expected 0 <= LOW <= HIGH, for example 0.1,0.3")
    return low, high


def otsu_threshold(Y: torch.Tensor, bins: int = 256) -> torch.Tensor:
    """Otsu's threshold of each plane: the split that maximises the between-class variance.

    The values are binned into ``bins`` equal bins between the plane's minimum and
    maximum (256, as scikit-image's ``threshold_otsu``); class means use the
    values themselves, not the bin centres, so on 8-bit data with one level per
    bin the split is exactly OpenCV's ``THRESH_OTSU``. The threshold returned
    lies halfway between the two classes, so ``Y > t`` reproduces the split.

    Args:
        Y: float planes.
        bins: histogram size.

    Returns:
        One threshold per plane, in Y's dtype.

    Shape:
        - Y: :math:`(..., H, W)`
        - Output: :math:`(...)`

    >>> otsu_threshold(torch.tensor([[0.0, 0.1, 0.9, 1.0]]))
    tensor(0.5000)
    """
    if bins < 2:
        raise InputError(f"Otsu needs at least 2 bins, got {bins}")
    Yb, lead = as_planes(Y, "otsu_threshold")
    N = Yb.shape[0]
    v = Yb.reshape(N, -1).double()  # (N, M)
    lo = v.min(dim=1, keepdim=True).values  # (N, 1)
    hi = v.max(dim=1, keepdim=True).values
    span = (hi - lo).clamp_min(torch.finfo(torch.float64).tiny)
    idx = ((v - lo) / span * bins).floor().long().clamp_(0, bins - 1)  # (N, M)
    flat = (idx + bins * torch.arange(N, device=v.device)[:, None]).reshape(-1)  # (N*M,)
    counts = torch.zeros(N * bins, dtype=torch.float64, device=v.device).index_add_(
        0, flat, torch.ones_like(flat, dtype=torch.float64)
    )
    sums = torch.zeros(N * bins, dtype=torch.float64, device=v.device).index_add_(0, flat, v.reshape(-1))
    bin_max = torch.full((N * bins,), -math.inf, dtype=torch.float64, device=v.device)
    bin_max = bin_max.scatter_reduce(0, flat, v.reshape(-1), "amax").reshape(N, bins)
    bin_min = torch.full((N * bins,), math.inf, dtype=torch.float64, device=v.device)
    bin_min = bin_min.scatter_reduce(0, flat, v.reshape(-1), "amin").reshape(N, bins)
    counts, sums = counts.reshape(N, bins), sums.reshape(N, bins)
    w0 = counts.cumsum(1)[:, :-1]  # (N, bins-1): pixels in bins 0..k
    s0 = sums.cumsum(1)[:, :-1]
    n, s = counts.sum(1, keepdim=True), sums.sum(1, keepdim=True)
    w1 = n - w0
    valid = (w0 > 0) & (w1 > 0)
    mu0 = s0 / w0.clamp_min(1)
    mu1 = (s - s0) / w1.clamp_min(1)
    between = torch.where(valid, w0 * w1 * (mu0 - mu1) ** 2, torch.full_like(w0, -1.0))  # (N, bins-1)
    k = between.argmax(dim=1, keepdim=True)  # the first best split, as OpenCV's strict '>' keeps
    below = bin_max.cummax(dim=1).values[:, :-1].gather(1, k)  # largest value in bins <= k
    above = bin_min.flip(1).cummin(dim=1).values.flip(1)[:, 1:].gather(1, k)  # smallest value in bins > k
    t = torch.where(valid.gather(1, k), (below + above) / 2, lo)  # a flat plane: nothing lies above its value
    return t.reshape(lead).to(Y.dtype)


def apply_threshold(Y: torch.Tensor, t: float | str | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A binary map, 1 where ``Y > t`` (OpenCV's ``THRESH_BINARY``), else 0.

    Args:
        Y: float planes.
        t: a number, ``"otsu"`` (one threshold per plane, see :func:`otsu_threshold`),
            or a tensor of one threshold per plane.

    Returns:
        ``(binary, thresholds)``: the map in Y's dtype and shape, and the threshold
        used for each plane, of shape :math:`(...)`.

    >>> apply_threshold(torch.tensor([[0.2, 0.5, 0.7]]), 0.5)[0]
    tensor([[0., 0., 1.]])
    """
    Yb, lead = as_planes(Y, "apply_threshold")
    if isinstance(t, str):
        if parse_threshold(t) != "otsu":
            t = parse_threshold(t)
        else:
            t = otsu_threshold(Yb)
    ts = torch.as_tensor(t, dtype=Y.dtype, device=Y.device).expand(Yb.shape[0]).clone()  # (N,)
    binary = (Yb > ts[:, None, None]).to(Y.dtype)  # (N, H, W)
    return binary.reshape(Y.shape), ts.reshape(lead)


def smooth(X: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian smoothing as ``cv2.GaussianBlur(ksize=(0, 0), sigmaX=sigma)`` does for 8-bit images.

    The kernel has OpenCV's size for 8-bit images, ``round(6 sigma + 1)`` made
    odd, cut down where the image is too small for it; it runs as two 1-D
    passes with OpenCV's default border (``reflect``, BORDER_REFLECT_101).

    Shape:
        - X: :math:`(..., H, W)`
        - Output: the same

    >>> smooth(torch.ones(4, 4), 1.0).allclose(torch.ones(4, 4))
    True
    """
    Xb, _ = as_planes(X, "smooth")
    if sigma <= 0:
        return X
    size = math.floor(6 * sigma + 1 + 0.5) | 1  # cvRound(sigma * 3 * 2 + 1) | 1
    reach = min(size // 2, min(Xb.shape[-2:]) - 1)
    if reach <= 0:
        return X
    g = torch.from_numpy(gaussian_1d(2 * reach + 1, sigma)).to(X)  # (k,)
    out = filter2d(Xb, g[None, :], mode="same", border="reflect")  # rows, then columns
    out = filter2d(out, g[:, None], mode="same", border="reflect")  # (N, H, W)
    return out.reshape(X.shape)


def sobel_gradients(X: torch.Tensor, border: str = "replicate") -> tuple[torch.Tensor, torch.Tensor]:
    """3x3 Sobel derivatives ``(gx, gy)`` of the input's size; replicated borders, as ``cv2.Canny``.

    Shape:
        - X: :math:`(..., H, W)`
        - Output: two tensors of X's shape
    """
    Xb, _ = as_planes(X, "sobel_gradients")
    kx = torch.from_numpy(KERNELS["sobel-x"].make([])).to(X)
    gx = filter2d(Xb, kx, mode="same", border=border)  # (N, H, W)
    gy = filter2d(Xb, kx.T.contiguous(), mode="same", border=border)
    return gx.reshape(X.shape), gy.reshape(X.shape)


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


def hysteresis(strong: torch.Tensor, weak: torch.Tensor) -> torch.Tensor:
    """The weak pixels 8-connected, through weak pixels, to a strong one.

    The candidates' connected components are found in parallel, in the manner
    of FastSV (Zhang, Azad and Hu, 2020): each pixel points at a parent; every
    round hooks trees onto the smallest parent across each edge and halves the
    paths (pointer jumping), so components merge in a few dozen rounds rather
    than one round per pixel of their length. A component is kept when any of
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
    M = int(cand.sum())
    if M == 0:
        return torch.zeros(shape, dtype=torch.bool, device=cand.device)
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
    return out.reshape(shape)


def canny_parts(X: torch.Tensor, low: float, high: float, sigma: float = 1.0) -> CannyResult:
    """Canny edges and the gradients behind them; see :func:`canny`."""
    if not (math.isfinite(low) and math.isfinite(high)) or not 0 <= low <= high:
        raise InputError(f"Invalid Canny thresholds {low}, {high}. Expected 0 <= LOW <= HIGH")
    if not math.isfinite(sigma) or sigma < 0:
        raise InputError(f"Invalid Canny sigma {sigma}. Expected a number >= 0 (0: no smoothing)")
    Xb, _ = as_planes(X, "canny")
    S = smooth(Xb, sigma)  # (N, H, W)
    gx, gy = sobel_gradients(S)  # (N, H, W) each
    mag = gradient_magnitude(gx, gy)
    weak = non_max_suppression(mag, gx, gy) & (mag > low)
    edges = hysteresis(weak & (mag > high), weak)
    shape = X.shape
    return CannyResult(edges.to(X.dtype).reshape(shape), gx.reshape(shape), gy.reshape(shape))


def canny(X: torch.Tensor, low: float, high: float, sigma: float = 1.0) -> torch.Tensor:
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

    Returns:
        float tensor of X's shape: 1 on an edge, 0 elsewhere.

    Shape:
        - X: :math:`(..., H, W)`
        - Output: the same

    >>> X = torch.zeros(7, 7); X[:, 4:] = 1
    >>> canny(X, 0.5, 1.0, sigma=0)[3].tolist()
    [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    """
    return canny_parts(X, low, high, sigma).edges
