"""Thresholds: a number or Otsu's, applied plane by plane.

A threshold keeps values strictly above it, as OpenCV's ``THRESH_BINARY``.
"""

from __future__ import annotations

import math

import torch

from convlearn.corr import as_planes
from convlearn.errors import InputError

__all__ = ["apply_threshold", "otsu_threshold"]


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
    if isinstance(t, str) and t != "otsu":
        raise InputError(f"Invalid threshold {t!r}. Expected a number, 'otsu' or a tensor")
    Yb, lead = as_planes(Y, "apply_threshold")
    if isinstance(t, str):
        t = otsu_threshold(Yb)
    ts = torch.as_tensor(t, dtype=Y.dtype, device=Y.device).expand(Yb.shape[0]).clone()  # (N,)
    binary = (Yb > ts[:, None, None]).to(Y.dtype)  # (N, H, W)
    return binary.reshape(Y.shape), ts.reshape(lead)
