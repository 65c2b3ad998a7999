"""The direct engine: shift-add, one multiply-add per kernel tap over a shifted view.

Every tap runs, zeros included, so NaN and inf spread as in the notebook's loop.
"""

from __future__ import annotations

import torch

from convlearn.corr.tiling import TileFn

__all__ = ["direct_tile", "shift_add"]


def shift_add(x: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Out-of-place shift-add over ``(N, H, W)``: the valid correlation, differentiable in x and K.

    The path corr2d takes with autograd, and the body that ``torch.compile``
    fuses on CUDA (:mod:`convlearn.corr.fused`): there the loop unrolls at
    trace time into one pointwise kernel that reads each input pixel from
    cache ``h * w`` times and from memory once.

    Shape:
        - x: :math:`(N, H, W)`
        - K: :math:`(h, w)`
        - Output: :math:`(N, H - h + 1, W - w + 1)`
    """
    h, w = K.shape
    Ho, Wo = x.shape[-2] - h + 1, x.shape[-1] - w + 1
    out = x[:, 0:Ho, 0:Wo] * K[0, 0]
    for a in range(h):
        for b in range(w):
            if a or b:
                out = out + x[:, a : a + Ho, b : b + Wo] * K[a, b]  # (N, Ho, Wo)
    return out


def direct_tile(K: torch.Tensor) -> TileFn:
    """Shift-add in place into the output tile: ``out = sum_ab K[a, b] * x[a:a+r, b:b+Wo]``."""
    h, w = K.shape
    taps = K.tolist()  # Python floats, exactly K's values (already in the image's dtype)

    def tile(x: torch.Tensor, out: torch.Tensor) -> None:
        r, Wo = out.shape[-2:]
        torch.mul(x[:, 0:r, 0:Wo], taps[0][0], out=out)
        for a in range(h):
            for b in range(w):
                if a or b:
                    out.add_(x[:, a : a + r, b : b + Wo], alpha=taps[a][b])  # (n, r, Wo)

    return tile
