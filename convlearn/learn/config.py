"""How ``learn`` fits: its settings, the choices it offers, each solver's defaults, and every check of them.

The twin of :mod:`convlearn.detect.config`. Importing this module does not
import torch, so the command line reads its choices (:data:`SOLVERS`,
:data:`DTYPES`, :data:`CHANNELS`) and help texts from here, and ``--help``
stays fast. What runs each solver is :mod:`convlearn.learn.solvers`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from convlearn.errors import InputError, invalid_choice

__all__ = [
    "ADAM_LR",
    "AUTO",
    "CHANNELS",
    "CHOICES",
    "DEFAULT_EPOCHS",
    "DTYPES",
    "FULL_NEEDS_SIZE",
    "LBFGS_LR",
    "MAX_EPOCHS",
    "MAX_LR",
    "NOTEBOOK_LR",
    "NOTEBOOK_SIZE",
    "NOTEBOOK_SOLVER",
    "SEED_RANGE",
    "SOLVERS",
    "LearnConfig",
    "Solver",
    "check_channels",
    "check_choices",
    "check_colour",
    "check_config",
    "check_one_pass",
    "check_ranges",
    "check_size",
    "check_steps",
    "notebook_run",
    "parse_size",
    "solver_named",
]

#: ``kernel_size`` that asks for the size to be found from the data (see :mod:`convlearn.learn.support`).
AUTO = "auto"
#: Training dtypes for the iterative solvers (lstsq always works in float64).
DTYPES = ("float32", "float64")
#: How ``learn`` treats colour: ``luma`` (one plane, the default), ``each`` or ``full``
#: (see :mod:`convlearn.learn.colour`).
CHANNELS = ("luma", "each", "full")
#: The notebook's learning rate, used on its own problem.
NOTEBOOK_LR = 0.03
#: The notebook's kernel size, ``nn.Conv2d(1, 1, kernel_size=(1, 2))``: learn's size when no pair is given.
NOTEBOOK_SIZE = (1, 2)
#: The notebook's solver: with no pair given and this solver, learn replays the notebook.
NOTEBOOK_SOLVER = "sgd"
#: Adam's step, constant: 0.1 reached 7.6e-4 of the exact kernel after 2000
#: epochs on a photograph, and 1.3e-3 on smooth noise of the same
#: conditioning; a cosine decay to 0 ended 40x further off.
ADAM_LR = 0.1
#: L-BFGS's step: 1, the natural quasi-Newton step the line search starts from.
LBFGS_LR = 1.0
#: Why ``--channels full`` needs ``--kernel-size``.
FULL_NEEDS_SIZE = (
    "--channels full needs --kernel-size HxW: the automatic size is found per channel (--channels each), "
    "and a channel's own pair does not show a cross-channel kernel's support"
)


@dataclass(frozen=True)
class Solver:
    """One choice of ``--solver``: its defaults, its help, and the method that runs it.

    Attributes:
        name: what ``--solver`` takes.
        help: what it runs, in words, as ``learn --help`` says.
        epochs: the epoch (iteration) budget when none is given; 0 for a direct solver.
        lr: the step when none is given; None means the safe step from the data
            (1 / the loss's largest curvature), or no step at all for a direct solver.
        step_rule: how that default step is chosen, as ``learn`` announces it.
        method: the :data:`convlearn.learn.solvers.REGISTRY` entry that runs it.
        method_on_pairs: the entry that runs it instead on your pairs when no
            step is given; None: always ``method``.
        iterative: it steps epoch by epoch (rather than solving in one pass).
        notebook_lr: the step on the notebook's own problem, when it differs.
        alternative: what to suggest beside lstsq when the run did not converge.
    """

    name: str
    help: str
    epochs: int
    lr: float | None
    step_rule: str
    method: str
    method_on_pairs: str | None = None
    iterative: bool = True
    notebook_lr: float | None = None
    alternative: str = ""

    def method_for(self, *, notebook: bool, lr: float | None) -> str:
        """The registry entry that runs this solver, on the notebook's problem or your pairs, with or without a step.

        >>> sgd = solver_named("sgd")
        >>> [sgd.method_for(notebook=n, lr=lr) for n, lr in ((False, None), (True, None), (False, 0.1))]
        ['nesterov', 'plain-sgd', 'plain-sgd']
        """
        if self.method_on_pairs is not None and not notebook and lr is None:
            return self.method_on_pairs
        return self.method

    def default_lr(self, safe: float, notebook: bool) -> float:
        """The step when none is given: on the notebook's problem, or from the data's safe step.

        >>> solver_named("sgd").default_lr(0.25, notebook=True), solver_named("adam").default_lr(0.25, notebook=False)
        (0.03, 0.1)
        """
        if notebook and self.notebook_lr is not None:
            return self.notebook_lr
        return safe if self.lr is None else self.lr


#: The solvers ``learn --solver`` offers, in order; sgd, the notebook's, first.
#: Epoch budgets: 10 is the notebook's range(10); Adam needs about 2000 on a
#: photograph-like pair (condition ~6,000; it stops early once converged);
#: L-BFGS stops itself long before 100.
CHOICES = (
    Solver(
        "sgd",
        help="sgd (the notebook's): on your pairs, Jacobi-preconditioned Nesterov descent on the normal "
        "equations; with --lr or with no pair, the notebook's plain SGD steps",
        epochs=10,
        lr=None,
        step_rule="the safe step 1/λmax of the loss's Hessian, from the data",
        method="plain-sgd",
        method_on_pairs="nesterov",
        notebook_lr=NOTEBOOK_LR,
        alternative="; without --epochs (and --lr) sgd runs until it converges",
    ),
    Solver(
        "lstsq",
        help="lstsq: exact, one pass",
        epochs=0,
        lr=None,
        step_rule="the exact least-squares kernel, no step",
        method="lstsq",
        iterative=False,
    ),
    Solver(
        "adam",
        help="adam: Adam over the pixels",
        epochs=2000,
        lr=ADAM_LR,
        step_rule="Adam's step, the same throughout",
        method="adam",
    ),
    Solver(
        "lbfgs",
        help="lbfgs: L-BFGS over the pixels, with a line search",
        epochs=100,
        lr=LBFGS_LR,
        step_rule="L-BFGS's first trial step, then a strong-Wolfe line search",
        method="lbfgs",
    ),
)
#: The solvers' names, sgd first.
SOLVERS = tuple(s.name for s in CHOICES)
#: Epochs when none are given, per iterative solver.
DEFAULT_EPOCHS = {s.name: s.epochs for s in CHOICES if s.iterative}


def solver_named(name: str) -> Solver:
    """The solver ``--solver NAME`` picks.

    Raises:
        InputError: no solver has that name.

    >>> solver_named("adam").lr
    0.1
    """
    for solver in CHOICES:
        if solver.name == name:
            return solver
    raise invalid_choice("solver", name, SOLVERS)


@dataclass(frozen=True)
class LearnConfig:
    """Settings for :func:`convlearn.learn.learn_kernel`. Defaults are the notebook's."""

    kernel_size: tuple[int, int] | str = NOTEBOOK_SIZE  # (1, 2): the notebook's nn.Conv2d kernel_size; or "auto"
    anchor: tuple[int, int] | None = None  # None: centred at (h // 2, w // 2), as OpenCV and SciPy anchor
    epochs: int | None = None  # None: DEFAULT_EPOCHS[solver]; 10, the notebook's range(10), for sgd
    lr: float | None = None  # None: 0.03 (the notebook's) on its own problem, else from the data for sgd
    bias: bool = False  # False: the notebook's bias=False
    seed: int = 0  # fixed, so runs repeat
    device: str = "cpu"
    solver: str = NOTEBOOK_SOLVER  # sgd: the notebook's method
    dtype: str = "float32"  # float32: nn.Conv2d's, the notebook's; lstsq always uses float64
    channels: str = "luma"  # luma: one plane, as the notebook; each or full: colour, see convlearn.learn.colour
    in_channels: int = 1  # planes one output plane is fitted from: 1, or 3 for one output channel of "full"
    auto_bias: bool = False  # the data choose the bias (with an automatic size on pairs from files)
    clip_margin: float | None = None  # levels from either clipped end left out; None: from the noise model
    auto_solver: bool = False  # no solver, epochs or step given: lstsq when the data choose the size

    def epochs_for_solver(self) -> int:
        """The epoch (iteration) budget: ``epochs``, or the solver's default.

        >>> LearnConfig(solver="adam").epochs_for_solver(), LearnConfig(solver="lstsq").epochs_for_solver()
        (2000, 0)
        """
        return self.epochs if self.epochs is not None else DEFAULT_EPOCHS.get(self.solver, 0)


def notebook_run(solver: str, *, notebook: bool) -> bool:
    """The notebook's own run: its problem (no pair given) with its solver, which shows only its epochs.

    >>> notebook_run("sgd", notebook=True), notebook_run("adam", notebook=True)
    (True, False)
    """
    return notebook and solver == NOTEBOOK_SOLVER


def parse_size(text: str) -> tuple[int, int]:
    """``HxW`` -> (H, W), both >= 1.

    Raises:
        InputError: not two integers joined by ``x``, or a side under 1.

    >>> parse_size("3x5")
    (3, 5)
    """
    parts = text.lower().split("x")
    try:
        h, w = (int(p) for p in parts)
    except ValueError:
        raise InputError(f"Invalid kernel size {text!r}. Expected HxW, height first, for example 3x5") from None
    if h < 1 or w < 1:
        raise InputError(f"Invalid kernel size {text!r}; both sides must be at least 1")
    return h, w


def check_choices(solver: str, dtype: str) -> Solver:
    """Check the solver and dtype names, and return the solver.

    Raises:
        InputError: an unknown solver or dtype.

    >>> check_choices("lstsq", "float64").name
    'lstsq'
    """
    found = solver_named(solver)
    if dtype not in DTYPES:
        raise invalid_choice("dtype", dtype, DTYPES)
    return found


def check_channels(channels: str) -> str:
    """``channels`` itself, once it is one of :data:`CHANNELS`.

    Raises:
        InputError: any other name.

    >>> check_channels("each")
    'each'
    """
    if channels not in CHANNELS:
        raise invalid_choice("channels", channels, CHANNELS)
    return channels


def check_colour(config: LearnConfig, *, notebook: bool) -> bool:
    """Check the channels against the rest of the settings; True for a colour fit.

    Raises:
        InputError: an unknown ``channels``, colour with no pair given (the
            notebook's problem is grey), or ``full`` with the size found from the data.

    >>> check_colour(LearnConfig(channels="each"), notebook=False)
    True
    """
    colour = check_channels(config.channels) != "luma"
    if colour and notebook:
        raise InputError(f"--channels {config.channels} learns from colour pairs; give --input and --target")
    if config.channels == "full" and config.kernel_size == AUTO:  # before a pair is read
        raise InputError(FULL_NEEDS_SIZE)
    return colour


def check_size(kernel_size: tuple[int, int] | str) -> None:
    """Check that both sides of a kernel size are at least 1 (``auto`` passes).

    Raises:
        InputError: a side under 1.

    >>> check_size((3, 3))
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

    >>> check_steps(10, 0.03)
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


def check_config(config: LearnConfig) -> Solver:
    """Check every setting that needs no pair, and return the solver it names.

    Raises:
        InputError: an unknown solver or dtype, a seed or epochs out of range,
            a kernel side under 1, negative epochs, or a step that is not a positive number.

    >>> check_config(LearnConfig(solver="lbfgs")).epochs
    100
    """
    solver = check_choices(config.solver, config.dtype)
    check_ranges(seed=config.seed, epochs=config.epochs)
    check_size(config.kernel_size)
    check_steps(config.epochs, config.lr)
    check_one_pass(solver, config.epochs, config.lr)
    return solver


def check_one_pass(solver: Solver, epochs: int | None, lr: float | None) -> None:
    """Refuse epochs or a step for a solver that takes none (lstsq), rather than ignore them.

    >>> check_one_pass(solver_named("lstsq"), None, None)
    """
    if not solver.iterative and (epochs is not None or lr is not None):
        raise InputError(f"--solver {solver.name} solves in one pass, with no epochs or step: drop --epochs and --lr")
