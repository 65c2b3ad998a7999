"""Learning a kernel from input/target pairs: the library behind ``convlearn learn``.

From the ground up:

- :mod:`~convlearn.learn.config`: the settings, the choices, each solver's defaults, every check (no torch);
- :mod:`~convlearn.learn.hooks`: the callbacks a fit tells while it runs (no torch);
- :mod:`~convlearn.learn.result`: the result, its fit report, the stop signals, the parameter encoding;
- :mod:`~convlearn.learn.pairs`: training pairs from files, aligned and masked;
- :mod:`~convlearn.learn.problem`: the notebook's layer, image and pair;
- :mod:`~convlearn.learn.normal`: the normal equations, in float64 tiles;
- :mod:`~convlearn.learn.report`: how well a kernel fits, and the warnings;
- :mod:`~convlearn.learn.task`: what a solver is given;
- the methods, side by side: :mod:`~convlearn.learn.lstsq`, :mod:`~convlearn.learn.descent`
  (Nesterov on the normal equations) and :mod:`~convlearn.learn.iterative` (the loop over the
  pixels, with :mod:`~convlearn.learn.steppers`' optimizers);
- :mod:`~convlearn.learn.solvers`: the registry that runs them;
- :mod:`~convlearn.learn.fit`, :mod:`~convlearn.learn.colour`, :mod:`~convlearn.learn.support`,
  :mod:`~convlearn.learn.closest`: one fit, colour fits, the size from the data, the closest built-in;
- :mod:`~convlearn.learn.pipeline`: :func:`learn_kernel`, for tensors;
- :mod:`~convlearn.learn.run`: :func:`run_learn`, for files, with :mod:`~convlearn.learn.file_checks`
  and :mod:`~convlearn.learn.saver`.

Names are imported lazily (PEP 562): ``from convlearn.learn import LearnConfig``
(or :mod:`convlearn.learn.config` itself) does not import torch, so the command
line reads its choices and checks its settings before torch loads.
"""

from __future__ import annotations

from convlearn.lazy import lazy_exports

# public name -> module of this package that defines it
_EXPORTS = {
    "CHANNELS": "config",
    "DEFAULT_EPOCHS": "config",
    "DTYPES": "config",
    "SOLVERS": "config",
    "LearnConfig": "config",
    "Solver": "config",
    "parse_size": "config",
    "solver_named": "config",
    "LearnHooks": "hooks",
    "TrainingStart": "hooks",
    "FitReport": "result",
    "LearnResult": "result",
    "TrainingDiverged": "result",
    "TrainingInterrupted": "result",
    "Pair": "pairs",
    "PairFiles": "pairs",
    "align_pair": "pairs",
    "align_target": "pairs",
    "find_pairs": "pairs",
    "informative_mask": "pairs",
    "integer_range": "pairs",
    "read_pair": "pairs",
    "Conv2D": "problem",
    "notebook_pair": "problem",
    "CONVERGED_RTOL": "normal",
    "NormalEquations": "normal",
    "normal_equations": "normal",
    "safe_step": "normal",
    "R2_WARNING": "report",
    "fit_notes": "report",
    "fit_report": "report",
    "max_abs_difference": "report",
    "REGISTRY": "solvers",
    "Method": "solvers",
    "learn_kernel": "pipeline",
    "train_sgd": "pipeline",
    "LearnRun": "saver",
    "run_learn": "run",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
