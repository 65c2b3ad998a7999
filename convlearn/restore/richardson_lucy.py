"""Richardson–Lucy that knows the borders, stopped by the discrepancy principle.

Each step multiplies the estimate by ``A^T (b / A x) / A^T 1``; ``A^T 1`` is
smaller near the frame, where fewer blurred pixels see an unknown, so the
pixels beyond the frame are estimated rather than wrapped round. The
iteration fits the noise if let run, so it stops as soon as the residual's
root-mean-square reaches the noise's standard deviation (Morozov's
discrepancy principle), or at the cap.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from convlearn.restore.blur import Blur

__all__ = ["RlReport", "richardson_lucy"]

#: Values below this are treated as 0 in the division ``b / A x``.
TINY = 1e-12


@dataclass(frozen=True)
class RlReport:
    """How the iteration ended: steps taken, the residual's RMS, and whether it reached the noise."""

    iterations: int
    residual_rms: float
    reached_noise: bool


def richardson_lucy(b: torch.Tensor, blur: Blur, sigma: float, *, max_iterations: int) -> tuple[torch.Tensor, RlReport]:
    """Richardson–Lucy on one plane, from a flat start, until the residual's RMS is at most ``sigma``.

    Args:
        b: the blurred plane, bias removed; negative values are taken as 0.
        blur: the operator A, with a non-negative kernel.
        sigma: the noise's standard deviation: the residual RMS to stop at.
        max_iterations: a cap on the steps.

    Returns:
        The unknowns and how the iteration ended.

    Shape:
        - b: :math:`(H, W)`
        - Output: ``blur.unknowns``
    """
    b = b.clamp_min(0.0)
    weight = blur.adjoint(torch.ones_like(b))  # (Hx, Wx): A^T 1
    seen = weight > TINY
    x = torch.full(blur.unknowns, float(b.mean()) / max(float(blur.K.sum()), TINY), dtype=b.dtype, device=b.device)
    rms, step = float("inf"), 0
    while step < max_iterations:
        blurred = blur.forward(x)  # (H, W)
        rms = float(torch.sqrt(torch.mean((blurred - b).square())))
        if rms <= sigma:
            break
        step += 1
        ratio = b / blurred.clamp_min(TINY)
        x.mul_(torch.where(seen, blur.adjoint(ratio) / weight.clamp_min(TINY), 1.0))
    return x, RlReport(step, rms, rms <= sigma)
