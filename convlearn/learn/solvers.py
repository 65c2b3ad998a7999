"""The solver registry: each solver's defaults, step rule and way of running, in one place.

Solvers:
    - ``sgd``: full-batch gradient descent. With no pair given it is the
      notebook's run on a :class:`Conv2D` weight, step 0.03, 10 epochs; on your
      pairs it is Jacobi-preconditioned Nesterov descent on the normal
      equations, until converged (:mod:`convlearn.learn.descent`), unless
      ``--lr`` asks for the notebook's plain steps.
    - ``lstsq``: the exact least-squares kernel, from G and b in float64.
    - ``adam``: Adam with step 0.1.
    - ``lbfgs``: L-BFGS with a strong-Wolfe line search and tight stopping rules.

To add a solver, register a :class:`Solver` in :data:`REGISTRY`: an iterative
one needs an optimizer factory; the loop in :mod:`convlearn.learn.iterative`
reads everything else it needs from the entry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from convlearn.errors import InputError, invalid_choice
from convlearn.learn.normal import CONVERGED_RTOL
from convlearn.learn.problem import NOTEBOOK_LR

__all__ = [
    "AUTO",
    "DEFAULT_EPOCHS",
    "DTYPES",
    "REGISTRY",
    "SOLVERS",
    "LearnConfig",
    "Solver",
    "check_choices",
    "check_config",
    "check_size",
    "check_steps",
    "solver_named",
]

#: Adam's step, constant: 0.1 reached 7.6e-4 of the exact kernel after 2000
#: epochs on a photograph, and 1.3e-3 on smooth noise of the same
#: conditioning; a cosine decay to 0 ended 40x further off.
ADAM_LR = 0.1
#: L-BFGS's step: 1, the natural quasi-Newton step the line search starts from.
LBFGS_LR = 1.0
#: L-BFGS memory: 100 (step, gradient change) pairs, torch's default; with 10 it
#: took about twice the iterations on a 3x3 kernel, and the vectors are tiny.
LBFGS_HISTORY = 100
#: L-BFGS stops once the relative gradient is below this (far tighter than
#: torch's own tolerances, which stop at the default 1e-7 absolute gradient).
LBFGS_RTOL = 1e-10
#: ... or when the loss has not reached a new low for this many iterations:
#: the line search can no longer improve on the training dtype's rounding.
LBFGS_PATIENCE = 5
#: SGD stops as diverged when the loss grows to this many times its first value.
DIVERGE_FACTOR = 100.0
#: ``kernel_size`` that asks for the size to be found from the data (see :mod:`convlearn.learn.support`).
AUTO = "auto"
#: Training dtypes for the iterative solvers (lstsq always works in float64).
DTYPES = ("float32", "float64")


class _SGD:
    """``torch.optim.SGD(params, lr)`` (no momentum, no decay): ``p -= lr * grad``, the same float ops.

    Written out because constructing any torch.optim optimizer first imports
    torch._dynamo, which took 3.5 s on a 2-core machine: most of a notebook run.
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


@dataclass(frozen=True)
class Solver:
    """One registered solver.

    Attributes:
        name: what ``--solver`` takes.
        epochs: the epoch (iteration) budget when none is given; 0 for a direct solver.
        lr: the step when none is given; None means the safe step from the data
            (1 / the loss's largest curvature), or no step at all for a direct solver.
        step_rule: how that default step is chosen, as ``learn`` announces it.
        optimizer: ``(params, lr) -> optimizer`` for an iterative solver; None
            for the direct one, which solves the normal equations.
        notebook_lr: the step on the notebook's own problem, when it differs.
        tolerance: the relative gradient at which the run stops, converged.
        closure_step: ``step(closure)`` evaluates the loss itself (a line search).
        stop_on_growth: stop as diverged once the loss grows many-fold.
        patience: stop after this many epochs without a new low, and keep the
            best kernel seen; None: run on.
        alternative: what to suggest beside lstsq when the run did not converge.
        descent: on pairs with no step given, run the accelerated descent on the
            normal equations (see :meth:`on_equations`).
    """

    name: str
    epochs: int
    lr: float | None
    step_rule: str
    optimizer: Callable | None = None
    notebook_lr: float | None = None
    tolerance: float = CONVERGED_RTOL
    closure_step: bool = False
    stop_on_growth: bool = False
    patience: int | None = None
    alternative: str = ""
    descent: bool = False

    def on_equations(self, notebook: bool, lr: float | None) -> bool:
        """It runs on the normal equations (:mod:`convlearn.learn.descent`) rather than over the pixels.

        So does ``sgd`` on your pairs with no ``--lr``; given a step, or on the
        notebook's problem, it is the notebook's plain descent on a ``Conv2D``.
        """
        return self.descent and not notebook and lr is None

    @property
    def iterative(self) -> bool:
        """It steps an optimizer epoch by epoch (rather than solving in one pass)."""
        return self.optimizer is not None

    def default_lr(self, safe: float, notebook: bool) -> float:
        """The step when none is given: on the notebook's problem, or from the data's safe step."""
        if notebook and self.notebook_lr is not None:
            return self.notebook_lr
        return safe if self.lr is None else self.lr


#: The solvers ``learn --solver`` offers, in order; sgd, the notebook's, first.
#: Epoch budgets: 10 is the notebook's range(10); Adam needs about 2000 on a
#: photograph-like pair (condition ~6,000; it stops early once converged);
#: L-BFGS stops itself long before 100.
REGISTRY: dict[str, Solver] = {
    s.name: s
    for s in (
        Solver(
            "sgd",
            epochs=10,
            lr=None,
            step_rule="the safe step 1/λmax of the loss's Hessian, from the data",
            optimizer=_SGD,
            notebook_lr=NOTEBOOK_LR,
            stop_on_growth=True,
            alternative="; without --epochs (and --lr) sgd runs until it converges",
            descent=True,
        ),
        Solver("lstsq", epochs=0, lr=None, step_rule="the exact least-squares kernel, no step"),
        Solver("adam", epochs=2000, lr=ADAM_LR, step_rule="Adam's step, the same throughout", optimizer=_adam),
        Solver(
            "lbfgs",
            epochs=100,
            lr=LBFGS_LR,
            step_rule="L-BFGS's first trial step, then a strong-Wolfe line search",
            optimizer=_lbfgs,
            tolerance=LBFGS_RTOL,
            closure_step=True,
            patience=LBFGS_PATIENCE,
        ),
    )
}
#: The solvers' names, sgd first.
SOLVERS = tuple(REGISTRY)
#: Epochs when none are given, per iterative solver.
DEFAULT_EPOCHS = {name: s.epochs for name, s in REGISTRY.items() if s.iterative}


def solver_named(name: str) -> Solver:
    """The registered solver of that name.

    Raises:
        InputError: no solver has that name.

    >>> solver_named("adam").lr
    0.1
    """
    if name not in REGISTRY:
        raise invalid_choice("solver", name, SOLVERS)
    return REGISTRY[name]


@dataclass(frozen=True)
class LearnConfig:
    """Settings for :func:`learn_kernel`. Defaults are the notebook's."""

    kernel_size: tuple[int, int] | str = (1, 2)  # (1, 2): the notebook's nn.Conv2d kernel_size; or "auto"
    anchor: tuple[int, int] | None = None  # None: centred at (h // 2, w // 2), as OpenCV and SciPy anchor
    epochs: int | None = None  # None: DEFAULT_EPOCHS[solver]; 10, the notebook's range(10), for sgd
    lr: float | None = None  # None: 0.03 (the notebook's) on its own problem, else safe_step() for sgd
    bias: bool = False  # False: the notebook's bias=False
    seed: int = 0  # fixed, so runs repeat
    device: str = "cpu"
    solver: str = "sgd"  # sgd: the notebook's method
    dtype: str = "float32"  # float32: nn.Conv2d's, the notebook's; lstsq always uses float64
    channels: str = "luma"  # luma: one plane, as the notebook; each or full: colour, see convlearn.learn.colour
    in_channels: int = 1  # planes one output plane is fitted from: 1, or 3 for one output channel of "full"

    def epochs_for_solver(self) -> int:
        """The epoch (iteration) budget: ``epochs``, or the solver's default."""
        return self.epochs if self.epochs is not None else DEFAULT_EPOCHS.get(self.solver, 0)


def check_choices(solver: str, dtype: str) -> Solver:
    """Check the solver and dtype names, and return the solver.

    Raises:
        InputError: an unknown solver or dtype.
    """
    found = solver_named(solver)
    if dtype not in DTYPES:
        raise invalid_choice("dtype", dtype, DTYPES)
    return found


def check_size(kernel_size: tuple[int, int]) -> None:
    """Check that both sides of a kernel size are at least 1.

    Raises:
        InputError: a side under 1.
    """
    if kernel_size == AUTO:
        return
    h, w = kernel_size
    if h < 1 or w < 1:
        raise InputError(f"Invalid kernel size {h}x{w}; both sides must be at least 1")


def check_steps(epochs: int | None, lr: float | None) -> None:
    """Check the epoch budget and the step, where given.

    Raises:
        InputError: negative epochs, or a step that is not a positive number.
    """
    check_ranges(lr=lr)
    if epochs is not None and epochs < 0:
        raise InputError(f"Invalid epochs {epochs}; it must be 0 or more")
    if lr is not None and not (math.isfinite(lr) and lr > 0):
        raise InputError(f"Invalid step {lr}; --lr must be a positive number")


#: Largest --lr: float32's largest number, the dtype training may run in.
MAX_LR = 3.4028234663852886e38
#: The seeds torch.manual_seed takes: 64 bits, signed or unsigned.
SEED_RANGE = (-(2**63), 2**64 - 1)
#: Largest --epochs: far beyond any run, and what a C long holds.
MAX_EPOCHS = 2**63 - 1


def check_ranges(*, lr: float | None = None, seed: int | None = None, epochs: int | None = None) -> None:
    """Numbers that torch cannot hold: a step beyond float32, a seed beyond 64 bits, epochs beyond a C long.

    Raises:
        InputError: naming the option and its range.

    >>> check_ranges(lr=0.03, seed=0)
    """
    if lr is not None and math.isfinite(lr) and lr > MAX_LR:
        raise InputError(f"Invalid --lr {lr:g}. Expected a positive number up to {MAX_LR:.4g} (float32's largest)")
    lo, hi = SEED_RANGE
    if seed is not None and not lo <= seed <= hi:
        raise InputError(f"Invalid --seed {seed}. Expected a whole number from -2**63 to 2**64 - 1")
    if epochs is not None and epochs > MAX_EPOCHS:
        raise InputError(f"Invalid --epochs {epochs}. Expected at most 2**63 - 1")


def check_config(cfg: LearnConfig) -> Solver:
    """Check every setting, and return the solver it names.

    Raises:
        InputError: an unknown solver or dtype, a kernel side under 1,
            negative epochs, or a step that is not a positive number.
    """
    solver = check_choices(cfg.solver, cfg.dtype)
    check_ranges(seed=cfg.seed, epochs=cfg.epochs)
    check_size(cfg.kernel_size)
    check_steps(cfg.epochs, cfg.lr)
    return solver
