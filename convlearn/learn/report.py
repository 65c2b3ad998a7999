"""What a solver produced, and how well it fits: the result, the fit report and the warnings."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from convlearn.errors import InputError
from convlearn.learn.normal import CONVERGED_RTOL, NormalEquations
from convlearn.learn.solvers import solver_named

__all__ = ["R2_WARNING", "FitReport", "LearnResult", "fit_notes", "fit_report", "max_abs_difference", "pack", "unpack"]

#: Below this R² the target is not well explained by a linear filter of the input.
R2_WARNING = 0.99


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


def fit_report(ne: NormalEquations, k: torch.Tensor, exact: torch.Tensor | None = None) -> FitReport:
    """Measure a kernel vector k against the normal equations.

    Args:
        ne: from :func:`normal_equations`.
        k: the kernel's values row by row, then the bias when fitted, :math:`(p,)`.
        exact: the least-squares kernel vector, if already solved.

    Returns:
        The :class:`FitReport`.

    >>> from convlearn.learn import Pair, normal_equations
    >>> X = torch.arange(12.0).reshape(3, 4); ne = normal_equations([Pair(X, 2 * X)], (1, 1))
    >>> r = fit_report(ne, torch.tensor([2.0])); (r.loss, r.r2, r.converged)
    (0.0, 1.0, True)
    """
    k = k.detach().to("cpu", torch.float64).reshape(-1)
    exact = ne.solve() if exact is None else exact.detach().to("cpu", torch.float64).reshape(-1)
    n = max(ne.count, 1)
    sst = ne.yy - ne.ysum * ne.ysum / n
    constant = sst <= 1e-12 * max(ne.yy, 1e-300)
    loss = ne.loss(k)
    condition = ne.condition()
    rel = ne.relative_gradient(k)
    return FitReport(
        loss=loss,
        rms=math.sqrt(loss / n),
        r2=None if constant else 1.0 - loss / sst,
        r2_best=None if constant else 1.0 - ne.loss(exact) / sst,
        pixels=ne.count,
        excluded=ne.excluded,
        pairs=ne.pairs,
        relative_gradient=rel,
        converged=rel <= CONVERGED_RTOL,
        condition=condition,
        gap=float((k - exact).abs().max()) if math.isfinite(condition) else None,
    )


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

    def kernel(self, name: str = "learned"):
        """The result as a :class:`convlearn.kernels.Kernel` (float64), with its anchor."""
        from convlearn.kernels import Kernel

        return Kernel(self.weight.detach().to(torch.float64).numpy().copy(), self.bias, name, self.anchor)

    def vector(self) -> torch.Tensor:
        """The kernel's values row by row, then the bias when there is one, as float64, :math:`(p,)`."""
        return pack(self.weight, self.bias)

    def record(self) -> dict:
        """What ``learn --output`` stores beside the kernel, and ``--json`` prints: JSON-ready values.

        Keys: solver, kernel_size, bias_fitted, epochs, step (None for lstsq),
        safe_step, stopped, the :class:`FitReport` fields (loss, rms, r2, ...),
        inputs and targets; ``support`` when the size was found from the data,
        and ``closest`` (a dict or None) when the built-ins were compared; a colour
        kernel adds ``channels`` and ``channel_fits`` (one dict per output channel).
        """
        extra = {} if self.support is None else {"support": self.support}
        if self.channels != "luma":
            extra.update(channels=self.channels, channel_fits=self.channel_fits)
        report = self.report.to_dict() if self.report is not None else {}
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
    """A kernel as one float64 vector on the CPU: its values row by row, then the bias when there is one, (p,)."""
    k = weight.detach().to("cpu", torch.float64).reshape(-1)
    if bias is None:
        return k
    return torch.cat([k, torch.as_tensor([float(bias)], dtype=torch.float64)])


def unpack(k: torch.Tensor, kernel_size: tuple[int, int], bias: bool, dtype: torch.dtype, in_channels: int = 1):
    """``(weight, bias)`` from a kernel vector: the weight (h, w) in ``dtype`` ((C, h, w) for C
    ``in_channels`` > 1), the bias a float or None."""
    h, w = kernel_size
    n = in_channels * h * w
    shape = (h, w) if in_channels == 1 else (in_channels, h, w)
    weight = k[:n].reshape(shape).to(dtype).clone()
    return weight, (float(k[n]) if bias else None)


def fit_notes(result: LearnResult) -> list[str]:
    """Warnings about a result, one sentence each: a poor linear fit, a run that did not converge.

    >>> from convlearn.learn import LearnConfig, learn_kernel
    >>> fit_notes(learn_kernel(config=LearnConfig(solver="lstsq")))
    []
    """
    notes = []
    report = result.report
    if report is None:
        return notes
    if report.r2_best is not None and report.r2_best < R2_WARNING:
        notes.append(
            f"R² is {report.r2_best:.4f} at best (< {R2_WARNING}): the target is not well explained by a linear "
            f"filter of the input (a non-linear filter, a different alignment, or a larger kernel?)"
        )
    solver = solver_named(result.solver)
    if solver.iterative and result.stopped in ("epochs", "stalled") and not report.converged:
        runs = f"{result.epochs_run} epoch{'s' if result.epochs_run != 1 else ''}"
        notes.append(
            f"{result.solver} did not converge in {runs}: the relative gradient is {report.relative_gradient:.2e} "
            f"(converged means <= {CONVERGED_RTOL:g}). --solver lstsq gives the exact kernel in one pass"
            + solver.alternative
        )
    if not math.isfinite(report.condition):
        notes.append(
            "The inputs do not determine the kernel uniquely (their patches are linearly dependent): "
            + (
                "the smallest kernel that fits as well as any is given"
                if not solver.iterative
                else "other kernels fit equally well"
            )
        )
    return notes


def max_abs_difference(result: LearnResult, reference) -> float:
    """The largest absolute difference between a learned kernel and a reference :class:`~convlearn.kernels.Kernel`.

    The bias is compared too when either has one (a missing bias counts as 0).

    Raises:
        InputError: the shapes differ.

    >>> from convlearn.kernels import parse_kernel
    >>> from convlearn.learn import LearnConfig, learn_kernel
    >>> max_abs_difference(learn_kernel(config=LearnConfig(solver="lstsq")), parse_kernel("edge"))
    0.0
    """
    ref = torch.as_tensor(reference.weight, dtype=torch.float64)
    weight = result.weight.detach().to(torch.float64)
    if tuple(ref.shape) != tuple(weight.shape):
        raise InputError(
            f"The reference kernel is {ref.shape[0]}x{ref.shape[1]} but the learned one is "
            f"{weight.shape[0]}x{weight.shape[1]}; give --reference a kernel of --kernel-size"
        )
    diff = float((weight - ref).abs().max())
    if result.bias is not None or reference.bias is not None:
        diff = max(diff, abs((result.bias or 0.0) - (reference.bias or 0.0)))
    return diff
