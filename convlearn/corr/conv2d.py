"""The conv2d engine: ``F.conv2d``, which does not flip, so it is corr2d.

cuDNN on CUDA, inside :func:`~convlearn.runtime.cudnn_exact` (TF32 off,
autotuning on); the CPU's own convolution elsewhere.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from convlearn.corr.tiling import TileFn
from convlearn.runtime import cudnn_exact

__all__ = ["conv2d_tile", "correlate"]


def correlate(Xb: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """The valid correlation of images :math:`(N, H, W)` in one ``F.conv2d`` call, differentiable."""
    with cudnn_exact(Xb.device):
        return F.conv2d(Xb[:, None], K[None, None])[:, 0]  # (N, H - h + 1, W - w + 1)


def conv2d_tile(K: torch.Tensor) -> TileFn:
    """``F.conv2d`` on one tile."""
    weight = K[None, None]  # (1, 1, h, w)

    def tile(x: torch.Tensor, out: torch.Tensor) -> None:
        with cudnn_exact(x.device):
            out.copy_(F.conv2d(x[:, None], weight)[:, 0])  # (n, r, c)

    return tile
