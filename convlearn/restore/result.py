"""What ``restore`` gives back: the restored planes and, per plane, what was chosen and why."""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["PlaneReport", "RestoreResult"]


@dataclass(frozen=True)
class PlaneReport:
    """One plane's solve.

    Attributes:
        method: ``wiener`` or ``rl``.
        strength: the regularisation used (``wiener``), None for ``rl``.
        why: one line saying where the strength (or the stopping level) came from.
        noise: the noise's standard deviation used, in the image's units.
        noise_source: where that figure came from.
        iterations: the solver's steps.
        converged: conjugate gradients met the tolerance, or RL reached the noise level.
    """

    method: str
    strength: float | None
    why: str
    noise: float
    noise_source: str
    iterations: int
    converged: bool


@dataclass(frozen=True)
class RestoreResult:
    """The restored planes and one report per plane.

    Attributes:
        planes: the restored image: the blurred planes' shape for ``same``, larger by the kernel for ``valid``
            (a NumPy array, channels last, when ``convlearn.restore_planes`` was given one).
        reports: one :class:`PlaneReport` per plane, in order.
    """

    planes: torch.Tensor
    reports: tuple[PlaneReport, ...]

    def summary(self) -> str:
        """The first plane's report in one line (the others differ only where their noise does)."""
        r = self.reports[0]
        state = "converged" if r.converged else "stopped at the cap"
        return f"{r.method}: {r.why}; {r.iterations} iterations, {state}"
