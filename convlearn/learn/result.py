"""What a fit produced and how it stopped: the result, its fit report, the stop signals, the parameter encoding.

Shared by every solver module, the entry points and the command line, so it
lives below them all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from convlearn.errors import Interrupted, TrainingError

__all__ = ["FitReport", "LearnResult", "TrainingDiverged", "TrainingInterrupted", "pack", "unpack"]


@dataclass
class FitReport:
    """How well a kernel explains the targets, computed exactly from the normal equations.

    Attributes:
        loss: the summed squared error over the pixels used (the notebook's loss).
        rms: the root-mean-square residual per pixel, ``sqrt(loss / pixels)``.
        r2: ``1 - loss / sum((y - mean y)^2)``; None for a constant target.
        r2_best: the R² of the exact least-squares kernel: how well any linear
            filter of this size explains the target.
        pixels: target pixels used; excluded: clipped pixels left out; pairs: pairs used.
        relative_gradient: ``||G k - b|| / ||b||``, 0 at the exact least-squares kernel.
        converged: ``relative_gradient <= CONVERGED_RTOL``.
        condition: G's condition number (inf when singular): gradient descent
            needs about this many steps to converge.
        gap: the largest absolute difference from the exact least-squares kernel
            (weights and bias); None when G is singular and that kernel is not unique.
    """

    loss: float
    rms: float
    r2: float | None
    r2_best: float | None
    pixels: int
    excluded: int
    pairs: int
    relative_gradient: float
    converged: bool
    condition: float
    gap: float | None

    def to_dict(self) -> dict:
        """JSON-ready values (inf becomes None)."""
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in self.__dict__.items()}


@dataclass
class LearnResult:
    """What a solver produced.

    ``weight`` is on the CPU: float64 from lstsq, the training dtype (float32 by
    default) from the others. ``losses`` holds each epoch's loss, computed
    before that epoch's step, as the notebook prints them. ``stopped`` says why
    the run ended: ``solved`` (lstsq), ``epochs`` (the budget ran out),
    ``converged`` (relative gradient under the tolerance), ``stalled`` (L-BFGS
    could improve no further), ``diverged`` or ``interrupted``.
    """

    weight: torch.Tensor  # (h, w); colour: (3, h, w) or (3, 3, h, w)
    bias: float | tuple[float, ...] | None  # colour: one per output channel
    losses: list[float] = field(default_factory=list)
    lr: float | None = 0.0  # the step used; None for lstsq
    epochs_run: int = 0
    solver: str = "sgd"
    stopped: str = "epochs"
    report: FitReport | None = None
    safe_lr: float | None = None  # the safe SGD step for this data, 1 / lambda_max(2 G)
    inputs: list[str] = field(default_factory=list)  # the pairs' names, in order
    targets: list[str] = field(default_factory=list)
    anchor: tuple[int, int] | None = None  # the output pixel's place in the kernel; None: centred
    support: str | None = None  # why this size, when it was found from the data (--kernel-size auto)
    closest: dict | None = None  # the closest built-in kernel, {"spec", "max_abs_diff"}, when one is close
    channels: str = "luma"  # luma, or each / full for a colour kernel (see convlearn.learn.colour)
    channel_fits: list[dict] | None = None  # colour: each output channel's fit (R², RMS, closest for each)
    choice: object | None = None  # what the data chose, a convlearn.learn.choose.DataChoice (size, bias, verdict)

    @property
    def kernel(self):
        """The result as a :class:`convlearn.kernels.Kernel` (float64, with its bias and anchor): what
        :func:`convlearn.export_kernel` and :func:`convlearn.apply_kernel` take."""
        from convlearn.kernels import Kernel

        return Kernel(self.weight.detach().to(torch.float64).numpy().copy(), self.bias, "learned", self.anchor)

    def vector(self) -> torch.Tensor:
        """The kernel's values row by row, then the bias when there is one, as float64, :math:`(p,)`."""
        return pack(self.weight, self.bias)

    def record(self) -> dict:
        """What ``learn --output`` stores beside the kernel, and ``--json`` prints: JSON-ready values.

        Keys: solver, kernel_size, bias_fitted, epochs, step (None for lstsq),
        safe_step, stopped, the :class:`FitReport` fields (loss, rms, r2, ...),
        inputs and targets; ``support`` when the size was found from the data,
        and ``closest`` (a dict or None) when the built-ins were compared; a colour
        kernel adds ``channels`` and ``channel_fits`` (one dict per output channel); when the data chose the
        size, the verdict: ``linear``, ``rms_levels``, ``noise_floor_levels``, ``noise``, ``clip_margin_levels``.
        """
        extra = {} if self.support is None else {"support": self.support}
        if self.channels != "luma":
            extra.update(channels=self.channels, channel_fits=self.channel_fits)
        report = self.report.to_dict() if self.report is not None else {}
        if self.choice is not None:
            extra.update(self.choice.record(report.get("rms") or 0.0))
        return {
            "solver": self.solver,
            "kernel_size": list(self.weight.shape),
            "bias_fitted": self.bias is not None,
            "epochs": self.epochs_run,
            "step": self.lr,
            "safe_step": self.safe_lr,
            "stopped": self.stopped,
            **report,
            "inputs": list(self.inputs),
            "targets": list(self.targets),
            **extra,
            "closest": self.closest,
        }


def pack(weight: torch.Tensor, bias: float | None) -> torch.Tensor:
    """A kernel as one float64 vector on the CPU: its values row by row, then the bias when there is one, (p,).

    >>> pack(torch.tensor([[1.0, -1.0]]), 0.5).tolist()
    [1.0, -1.0, 0.5]
    """
    k = weight.detach().to("cpu", torch.float64).reshape(-1)
    if bias is None:
        return k
    return torch.cat([k, torch.as_tensor([float(bias)], dtype=torch.float64)])


def unpack(k: torch.Tensor, kernel_size: tuple[int, int], bias: bool, dtype: torch.dtype, in_channels: int = 1):
    """``(weight, bias)`` from a kernel vector: the weight (h, w) in ``dtype`` ((C, h, w) for C
    ``in_channels`` > 1), the bias a float or None.

    >>> unpack(torch.tensor([1.0, -1.0, 0.5]), (1, 2), True, torch.float32)
    (tensor([[ 1., -1.]]), 0.5)
    """
    h, w = kernel_size
    n = in_channels * h * w
    shape = (h, w) if in_channels == 1 else (in_channels, h, w)
    weight = k[:n].reshape(shape).to(dtype).clone()
    return weight, (float(k[n]) if bias else None)


class TrainingDiverged(TrainingError):
    """The loss turned non-finite or grew many-fold; ``result`` holds the best kernel reached (exit code 1)."""

    def __init__(self, message: str, result: LearnResult) -> None:
        super().__init__(message)
        self.result = result


class TrainingInterrupted(Interrupted):
    """Ctrl-C during training; ``result`` holds the kernel reached so far (exit code 130)."""

    def __init__(self, message: str, result: LearnResult) -> None:
        super().__init__(message)
        self.result = result
