"""The iterative loop: an optimizer stepping a :class:`Conv2D` over the pixels, epoch by epoch.

It runs the ``plain-sgd``, ``adam`` and ``lbfgs`` methods (see :mod:`convlearn.learn.solvers`).
Each epoch computes the notebook's loss, the summed squared error over every
pair, then steps the method's optimizer (see :mod:`convlearn.learn.steppers`).
The normal equations, accumulated before the first epoch, tell the loop
exactly how far each kernel is from the least-squares one, so it stops once
converged, and give the report.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from convlearn.learn.config import LearnConfig, Solver
from convlearn.learn.hooks import LearnHooks
from convlearn.learn.normal import CONVERGED_RTOL, NormalEquations
from convlearn.learn.pairs import Pair
from convlearn.learn.problem import Conv2D
from convlearn.learn.report import fit_report
from convlearn.learn.result import LearnResult, TrainingDiverged, TrainingInterrupted
from convlearn.learn.steppers import Stepper
from convlearn.learn.task import Task
from convlearn.runtime import distributed

__all__ = ["DIVERGE_FACTOR", "train"]

#: SGD stops as diverged when the loss grows to this many times its first value.
DIVERGE_FACTOR = 100.0


def train(task: Task, config: LearnConfig, solver: Solver, hooks: LearnHooks, *, stepper: Stepper) -> LearnResult:
    """Step ``stepper``'s optimizer over the task's aligned pairs.

    Args:
        task: the normal equations of every pair and this rank's aligned pairs.
        config: the checked settings.
        solver: the ``--solver`` choice: its default step and its name.
        hooks: told the step and each epoch.
        stepper: the optimizer and the loop's rules for it.

    Returns:
        The kernel, its losses and its :class:`FitReport`.

    Raises:
        TrainingDiverged: the loss turned non-finite or grew many-fold.
        TrainingInterrupted: Ctrl-C.
    """
    dtype = getattr(torch, config.dtype)
    safe = task.safe_lr  # refuses constant-zero inputs before any work
    lr = config.lr if config.lr is not None else solver.default_lr(safe, task.notebook)
    torch.manual_seed(config.seed)
    # nn.Conv2d(1, 1, kernel_size)'s start, as the notebook's training cell; the forward pass is corr2d.
    layer = Conv2D(config.kernel_size, bias=config.bias, init="kaiming", in_channels=config.in_channels)
    layer = layer.to(device=task.device, dtype=dtype)
    trainer = stepper.make(list(layer.parameters()), lr)
    closure = _loss_closure(layer, trainer, task.pairs, task.device, dtype)
    run = _Run(task=task, config=config, solver=solver, stepper=stepper, lr=lr, dtype=dtype, layer=layer)
    epochs = config.epochs_for_solver()
    how = "given by --lr" if config.lr is not None else solver.step_rule
    hooks.start(task.started(solver, lr, how, epochs))
    try:
        for epoch in range(epochs):
            run.epoch(epoch, trainer, closure)
            hooks.epoch(epoch, run.losses[-1])
            stopped = run.stop(layer.vector())
            if stopped is not None:
                return stopped
    except KeyboardInterrupt:
        result = run.finish(run.best.of(layer.vector()), "interrupted")
        message = f"Interrupted at epoch {len(run.losses)} of {epochs}; the kernel reached so far was kept"
        raise TrainingInterrupted(message, result) from None
    now = layer.vector()
    return run.finish(run.best.of(now) if stepper.patience is not None else now, "epochs")


@dataclass
class _Run:
    """One training run's settings and state: each epoch's step, when to stop, and the result it ends with."""

    task: Task
    config: LearnConfig
    solver: Solver
    stepper: Stepper
    lr: float
    dtype: torch.dtype
    layer: Conv2D
    losses: list[float] = field(default_factory=list)
    best: _Best = field(init=False)

    def __post_init__(self) -> None:
        self.best = _Best(self.task.ne, self.layer.vector())

    def epoch(self, epoch: int, trainer, closure: Callable[[], torch.Tensor]) -> None:
        """Compute the loss and step; stop as diverged on a non-finite loss, or one grown many-fold."""
        before = self.layer.vector()  # (p,) the kernel this epoch's loss belongs to
        value = float(trainer.step(closure)) if self.stepper.closure_step else float(closure())
        first = self.losses[0] if self.losses else value
        grew = self.stepper.stop_on_growth and first > 0 and value > DIVERGE_FACTOR * first
        if not math.isfinite(value) or grew:
            message = _divergence_message(self.solver, epoch, value, first, self.lr, self.task.safe_lr, self.best.loss)
            raise TrainingDiverged(message, self.finish(self.best.of(), "diverged"))
        if not self.stepper.closure_step:
            trainer.step()
        self.losses.append(value)
        self.best.see(value, before)

    def stop(self, now: torch.Tensor) -> LearnResult | None:
        """The result when the run stops after this epoch (converged, or no new low for a while); else None."""
        ne = self.task.ne
        if ne.relative_gradient(now) <= self.stepper.tolerance:
            return self.finish(now, "converged")
        if self.stepper.patience is not None and self.best.since >= self.stepper.patience:
            # No new low: the training dtype's rounding is reached.
            k = self.best.of(now)
            return self.finish(k, "converged" if ne.relative_gradient(k) <= CONVERGED_RTOL else "stalled")
        return None

    def finish(self, k: torch.Tensor, stopped: str) -> LearnResult:
        """The result for kernel vector k, with its fit report."""
        return self.task.result(
            k,
            config=self.config,
            solver=self.solver,
            dtype=self.dtype,
            stopped=stopped,
            report=fit_report(self.task.ne, k),
            losses=self.losses,
            lr=self.lr,
            epochs_run=len(self.losses),
        )


class _Best:
    """The kernel with the lowest loss so far, and how many epochs ago it was reached."""

    def __init__(self, ne: NormalEquations, start: torch.Tensor) -> None:
        self.ne, self.loss, self.k, self.since = ne, math.inf, start, 0

    def see(self, loss: float, k: torch.Tensor) -> None:
        if loss < self.loss:
            self.loss, self.k, self.since = loss, k, 0
        else:
            self.since += 1

    def of(self, *candidates: torch.Tensor) -> torch.Tensor:
        """Of the candidates and the best kernel so far, the finite one with the lowest exact loss.

        When none is finite: the best kernel so far.
        """
        finite = [k for k in (*candidates, self.k) if bool(torch.isfinite(k).all())]
        return min(finite, key=self.ne.loss) if finite else self.k


def _loss_closure(
    layer: Conv2D, trainer, pairs: Sequence[Pair], device: torch.device, dtype: torch.dtype
) -> Callable[[], torch.Tensor]:
    """The summed squared error over every pair, with its gradient in the layer's parameters."""
    inputs = [p.input.to(device, dtype) for p in pairs]  # (H, W) each
    targets = [p.target.to(device, dtype) for p in pairs]  # (Ho, Wo) each
    masks = [None if p.mask is None else p.mask.to(device, dtype) for p in pairs]
    params = list(layer.parameters())
    # Under torchrun every rank holds the same start (same seed) and, below, the
    # same summed loss and gradient, so all take identical steps and stop together.
    shared = distributed.current().active

    def closure() -> torch.Tensor:
        total = torch.zeros((), device=device, dtype=dtype)
        trainer.zero_grad()
        for X, Y, M in zip(inputs, targets, masks, strict=True):
            squared = (layer(X) - Y) ** 2  # (Ho, Wo)
            loss = (squared if M is None else squared * M).sum()
            loss.backward()
            total = total + loss.detach()
        if shared:  # the loss is a sum over pairs: summing every rank's part gives one process's
            grads = [q.grad if q.grad is not None else torch.zeros_like(q) for q in params]
            total, *grads = distributed.summed(total, *grads)
            for q, g in zip(params, grads, strict=True):
                q.grad = g
        return total

    return closure


def _divergence_message(
    solver: Solver, epoch: int, value: float, first: float, lr: float, safe: float, best_loss: float
) -> str:
    what = f"became {value}" if not math.isfinite(value) else f"grew from {first:.4g} to {value:.4g}"
    kept = "The starting kernel was kept"
    if math.isfinite(best_loss):
        kept = f"The best kernel so far (loss {best_loss:.4g}) was kept"
    if solver.lr is None:  # its default step is the safe step: name it
        return (
            f"The loss {what} by epoch {epoch}: step {lr:.4g} is too large for this data. A safe step is "
            f"{safe:.4g} (1 / the loss's largest curvature); rerun with --lr {safe:.3g} or without --lr. {kept}"
        )
    return f"The loss {what} at epoch {epoch} ({solver.name}, lr {lr:.4g}); try a smaller --lr. {kept}"
