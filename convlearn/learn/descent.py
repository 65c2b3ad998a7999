"""The ``nesterov`` method (``--solver sgd`` on your pairs): full-batch gradient descent that converges.

The loss is quadratic (see :mod:`convlearn.learn.normal`), so its full-batch
gradient over every pixel of every pair is exactly ``2 (G k - b)``: the same
vector backpropagation through the convolution gives, taken from the normal
equations already accumulated in float64, so an epoch costs O(p²) instead of a
pass over the pixels. Plain gradient descent needs about κ epochs (κ, G's
condition number, is ~6,000 on photographs), so the descent is accelerated
in two principled ways:

- **Jacobi preconditioning**: each weight's step is scaled by ``1 / G[i, i]``,
  which evens out weights whose patches differ in energy (the bias column,
  uneven pairs). It is not the Gram inverse, which would make one step the
  exact solve; on photographs, whose diagonal is nearly flat, it changes κ little.
- **Nesterov momentum** with the step ``1 / λmax`` and the momentum
  ``(√κ - 1) / (√κ + 1)`` from the extreme eigenvalues of the preconditioned
  Hessian: the optimal constant schedule for a quadratic, converging in about
  ``√κ · ln(1 / tolerance)`` epochs (~1,000 at κ = 6,000) rather than κ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from convlearn.learn.config import LearnConfig, Solver
from convlearn.learn.hooks import LearnHooks
from convlearn.learn.normal import CONVERGED_RTOL, NormalEquations, safe_step
from convlearn.learn.problem import Conv2D
from convlearn.learn.report import fit_report
from convlearn.learn.result import LearnResult, TrainingInterrupted
from convlearn.learn.task import Task

__all__ = ["DESCENT_CAP", "DESCENT_RULE", "Plan", "descend", "plan"]

#: Epochs at most when no ``--epochs`` is given: Nesterov needs about
#: √κ · 14 epochs to reach 1e-6, so this cap covers κ up to ~5e7.
DESCENT_CAP = 100_000
#: How the step is chosen, in words, as ``learn`` announces it.
DESCENT_RULE = "1/λmax of the Jacobi-preconditioned Hessian, with Nesterov momentum {momentum:.4g}"
#: Eigenvalues below this fraction of the largest count as zero (as in :mod:`convlearn.learn.normal`).
_SINGULAR = 1e-13


@dataclass(frozen=True)
class Plan:
    """The descent's constants, from the preconditioned Hessian ``2 D^-1/2 G D^-1/2`` (D = diag G).

    Attributes:
        scale: ``1 / G[i, i]`` per weight (1 for a column that is all zero), :math:`(p,)`.
        step: ``1 / λmax`` of the preconditioned Hessian.
        momentum: ``(√κ - 1) / (√κ + 1)``, κ its condition number (0 when κ = 1).
        condition: κ, inf when G is singular.
        lowest: G's smallest eigenvalue, 0 when G is singular: ``||G k - b|| / lowest``
            bounds the distance from k to the exact kernel.
    """

    scale: np.ndarray
    step: float
    momentum: float
    condition: float
    lowest: float = 0.0

    def done(self, grad: np.ndarray, k: np.ndarray, bottom: float, tolerance: float) -> bool:
        """Converged: the relative gradient is at most ``tolerance``, and so is the certified
        relative distance ``||G k - b|| / λmin(G) / ||k||`` from the exact kernel (where G is not singular).
        """
        size = float(np.linalg.norm(grad))
        if size > tolerance * bottom:
            return False
        return self.lowest <= 0 or size <= tolerance * self.lowest * float(np.linalg.norm(k))


def plan(ne: NormalEquations) -> Plan:
    """The step and momentum for ``ne``'s loss.

    >>> p = plan(NormalEquations(torch.diag(torch.tensor([4.0, 1.0], dtype=torch.float64)), torch.ones(2), 0, 0, 1))
    >>> p.step, p.momentum, p.condition
    (0.5, 0.0, 1.0)
    """
    safe_step(ne.gram)  # refuses constant-zero inputs, which have no descent
    G = ne.gram.to(torch.float64).numpy()  # (p, p)
    d = np.diag(G).copy()
    d[d <= 0] = 1.0
    root = 1.0 / np.sqrt(d)
    ev = np.linalg.eigvalsh(root[:, None] * G * root[None, :])  # ascending
    top = float(ev[-1])
    low = max(float(ev[0]), top * _SINGULAR)
    kappa = top / low if float(ev[0]) > top * _SINGULAR else math.inf
    rk = math.sqrt(top / low)
    plain = np.linalg.eigvalsh(G)  # ascending
    lowest = float(plain[0]) if float(plain[0]) > float(plain[-1]) * _SINGULAR else 0.0
    return Plan(1.0 / d, 1.0 / (2.0 * top), (rk - 1.0) / (rk + 1.0), kappa, lowest)


def descend(task: Task, config: LearnConfig, solver: Solver, hooks: LearnHooks) -> LearnResult:
    """Run the accelerated full-batch descent from ``nn.Conv2d``'s seeded start.

    With ``config.epochs`` None it runs until converged (see :meth:`Plan.done`:
    within :data:`CONVERGED_RTOL` of the exact kernel, relatively, and certified so),
    or :data:`DESCENT_CAP` epochs; with ``epochs=N``, exactly N.

    Args:
        task: the normal equations (the pairs themselves are not needed).
        config: the checked settings; ``lr`` is None (the step comes from the data).
        solver: the ``--solver`` choice, for the result's name.
        hooks: told the step and each epoch.

    Returns:
        The kernel in float64 with its losses, ``stopped`` converged or epochs.

    Raises:
        TrainingInterrupted: Ctrl-C; its ``result`` holds the kernel reached so far.
    """
    ne = task.ne
    p = plan(ne)
    torch.manual_seed(config.seed)
    layer = Conv2D(config.kernel_size, bias=config.bias, init="kaiming", in_channels=config.in_channels)
    k = layer.vector().numpy()  # (p,)
    G, b = ne.gram.numpy(), ne.rhs.numpy()
    until_converged = config.epochs is None
    epochs = DESCENT_CAP if until_converged else config.epochs
    hooks.start(task.started(solver, p.step, DESCENT_RULE.format(momentum=p.momentum), epochs))
    bottom = float(np.linalg.norm(b)) or 1.0
    losses: list[float] = []
    previous, stopped = k, "epochs"
    try:
        for epoch in range(epochs):
            grad = G @ k - b  # (p,) half the loss's gradient at k
            if until_converged and p.done(grad, k, bottom, CONVERGED_RTOL):
                stopped = "converged"
                break
            losses.append(max(0.0, float(k @ G @ k - 2 * (k @ b)) + ne.yy))
            ahead = k + p.momentum * (k - previous)  # Nesterov's look-ahead point
            previous, k = k, ahead - p.step * p.scale * 2.0 * (G @ ahead - b)
            hooks.epoch(epoch, losses[-1])
    except KeyboardInterrupt:
        result = _result(task, config, solver, k, p, losses, "interrupted")
        message = f"Interrupted at epoch {len(losses)} of {epochs}; the kernel reached so far was kept"
        raise TrainingInterrupted(message, result) from None
    if stopped == "epochs" and p.done(G @ k - b, k, bottom, CONVERGED_RTOL):
        stopped = "converged"
    return _result(task, config, solver, k, p, losses, stopped)


def _result(
    task: Task, config: LearnConfig, solver: Solver, k: np.ndarray, p: Plan, losses: list[float], stopped: str
) -> LearnResult:
    vector = torch.from_numpy(k)  # (p,)
    report = fit_report(task.ne, vector)
    return task.result(
        vector,
        config=config,
        solver=solver,
        dtype=torch.float64,
        stopped=stopped,
        report=report,
        losses=losses,
        lr=p.step,
        epochs_run=len(losses),
    )
