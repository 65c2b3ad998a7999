"""The optimizers the iterative loop steps (:mod:`convlearn.learn.iterative`), one record each.

- :data:`PLAIN_SGD`: the notebook's ``p -= lr * grad``, stopped as diverged once the loss grows many-fold;
- :data:`ADAM`: ``torch.optim.Adam``;
- :data:`LBFGS`: ``torch.optim.LBFGS`` with a strong-Wolfe line search, one iteration per epoch,
  stopped when converged far tighter than the others, or when it can improve no further.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from convlearn.learn.normal import CONVERGED_RTOL

__all__ = ["ADAM", "LBFGS", "LBFGS_HISTORY", "LBFGS_PATIENCE", "LBFGS_RTOL", "PLAIN_SGD", "Stepper"]

#: L-BFGS memory: 100 (step, gradient change) pairs, torch's default; with 10 it
#: took about twice the iterations on a 3x3 kernel, and the vectors are tiny.
LBFGS_HISTORY = 100
#: L-BFGS stops once the relative gradient is below this (far tighter than
#: torch's own tolerances, which stop at the default 1e-7 absolute gradient).
LBFGS_RTOL = 1e-10
#: ... or when the loss has not reached a new low for this many iterations:
#: the line search can no longer improve on the training dtype's rounding.
LBFGS_PATIENCE = 5


@dataclass(frozen=True)
class Stepper:
    """One optimizer, and the loop's rules for it.

    Attributes:
        make: ``(params, lr) -> optimizer``, with ``zero_grad()`` and ``step()``.
        tolerance: the relative gradient at which the run stops, converged.
        closure_step: ``step(closure)`` evaluates the loss itself (a line search).
        stop_on_growth: stop as diverged once the loss grows many-fold.
        patience: stop after this many epochs without a new low, and keep the
            best kernel seen; None: run on.
    """

    make: Callable[[list[torch.Tensor], float], object]
    tolerance: float = CONVERGED_RTOL
    closure_step: bool = False
    stop_on_growth: bool = False
    patience: int | None = None


class _SGD:
    """``torch.optim.SGD(params, lr)`` (no momentum, no decay): ``p -= lr * grad``, the same float ops.

    Written out because constructing any torch.optim optimizer first imports
    torch._dynamo, which took 3.5 s on a 2-core machine: most of a notebook run.

    >>> p = torch.ones(2, requires_grad=True); p.grad = torch.tensor([1.0, -2.0])
    >>> opt = _SGD([p], 0.5); opt.step(); p.tolist()
    [0.5, 2.0]
    """

    def __init__(self, params: list[torch.Tensor], lr: float) -> None:
        self.params, self.lr = params, lr

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        for p in self.params:
            if p.grad is not None:
                p.add_(p.grad, alpha=-self.lr)


def _adam(params: list[torch.Tensor], lr: float):
    return torch.optim.Adam(params, lr=lr)


def _lbfgs(params: list[torch.Tensor], lr: float):
    # One L-BFGS iteration per step() call, so that every iteration is an
    # "epoch" (reported, interruptible); the loop's own rules decide when to
    # stop, so torch's tolerances are off.
    return torch.optim.LBFGS(
        params,
        lr=lr,
        max_iter=1,
        max_eval=25,
        tolerance_grad=0.0,
        tolerance_change=0.0,
        history_size=LBFGS_HISTORY,
        line_search_fn="strong_wolfe",
    )


#: The notebook's plain full-batch SGD.
PLAIN_SGD = Stepper(_SGD, stop_on_growth=True)
#: Adam, at a constant step.
ADAM = Stepper(_adam)
#: L-BFGS, one iteration per epoch.
LBFGS = Stepper(_lbfgs, tolerance=LBFGS_RTOL, closure_step=True, patience=LBFGS_PATIENCE)
