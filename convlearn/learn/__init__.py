"""Learning a kernel from input/target pairs: the library behind ``convlearn learn``.

- :mod:`~convlearn.learn.pairs`: training pairs from files, aligned and masked;
- :mod:`~convlearn.learn.problem`: the notebook's layer and pair;
- :mod:`~convlearn.learn.normal`: the normal equations, in float64 tiles;
- :mod:`~convlearn.learn.solvers`: the solver registry and the settings;
- :mod:`~convlearn.learn.iterative`: the training loop of sgd, adam and lbfgs;
- :mod:`~convlearn.learn.report`: the result, its fit report and warnings;
- :mod:`~convlearn.learn.run`: the entry points, :func:`learn_kernel` and :func:`run_learn`.
"""

from convlearn.learn.iterative import TrainingDiverged, TrainingInterrupted
from convlearn.learn.normal import CONVERGED_RTOL, NormalEquations, normal_equations, safe_step
from convlearn.learn.pairs import (
    Pair,
    PairFiles,
    align_pair,
    align_target,
    find_pairs,
    informative_mask,
    integer_range,
    read_pair,
)
from convlearn.learn.problem import Conv2D, notebook_pair
from convlearn.learn.report import R2_WARNING, FitReport, LearnResult, fit_notes, fit_report, max_abs_difference
from convlearn.learn.run import LearnRun, TrainingStart, learn_kernel, parse_size, run_learn, train_sgd
from convlearn.learn.solvers import DEFAULT_EPOCHS, DTYPES, REGISTRY, SOLVERS, LearnConfig, Solver, solver_named

__all__ = [
    "CONVERGED_RTOL",
    "DEFAULT_EPOCHS",
    "DTYPES",
    "R2_WARNING",
    "REGISTRY",
    "SOLVERS",
    "Conv2D",
    "FitReport",
    "LearnConfig",
    "LearnResult",
    "LearnRun",
    "NormalEquations",
    "Pair",
    "PairFiles",
    "Solver",
    "TrainingDiverged",
    "TrainingInterrupted",
    "TrainingStart",
    "align_pair",
    "align_target",
    "find_pairs",
    "fit_notes",
    "fit_report",
    "informative_mask",
    "integer_range",
    "learn_kernel",
    "max_abs_difference",
    "normal_equations",
    "notebook_pair",
    "parse_size",
    "read_pair",
    "run_learn",
    "safe_step",
    "solver_named",
    "train_sgd",
]
