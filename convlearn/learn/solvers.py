"""The method registry: each way of fitting a kernel, one record, run as ``REGISTRY[name].run(...)``.

Methods:
    - ``lstsq``: the exact least-squares kernel, from G and b in float64 (:mod:`convlearn.learn.lstsq`).
    - ``nesterov``: Jacobi-preconditioned Nesterov descent on the normal equations,
      until converged (:mod:`convlearn.learn.descent`).
    - ``plain-sgd``: the notebook's full-batch SGD over the pixels (:mod:`convlearn.learn.iterative`).
    - ``adam``: Adam over the pixels, step 0.1.
    - ``lbfgs``: L-BFGS over the pixels, with a strong-Wolfe line search and tight stopping rules.

What ``--solver`` offers, and which method runs each choice when, is
:data:`convlearn.learn.config.CHOICES`: ``sgd`` runs ``nesterov`` on your pairs
and ``plain-sgd`` on the notebook's problem or with ``--lr``.

To add a method, write its ``run(task, config, solver, hooks)`` beside the others,
register a :class:`Method` here, and name it in a :class:`~convlearn.learn.config.Solver`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from convlearn.learn.config import LearnConfig, Solver
from convlearn.learn.descent import descend
from convlearn.learn.hooks import LearnHooks
from convlearn.learn.iterative import train
from convlearn.learn.lstsq import solve
from convlearn.learn.result import LearnResult
from convlearn.learn.steppers import ADAM, LBFGS, PLAIN_SGD
from convlearn.learn.task import Task

__all__ = ["METHODS", "REGISTRY", "Method", "method_for"]


@dataclass(frozen=True)
class Method:
    """One registered way of fitting a kernel.

    Attributes:
        name: its name in :data:`REGISTRY`.
        summary: what it does, in words.
        run: ``(task, config, solver, hooks) -> LearnResult``.
        over_pixels: it steps over the pairs' pixels, so the fit keeps the aligned
            pairs in memory; otherwise the normal equations are all it needs.
    """

    name: str
    summary: str
    run: Callable[[Task, LearnConfig, Solver, LearnHooks], LearnResult]
    over_pixels: bool = False


#: Every method, by name.
REGISTRY: dict[str, Method] = {
    m.name: m
    for m in (
        Method("lstsq", "the exact least-squares kernel, one solve of the normal equations in float64", solve),
        Method("nesterov", "Jacobi-preconditioned Nesterov descent on the normal equations", descend),
        Method("plain-sgd", "the notebook's full-batch SGD over the pixels", partial(train, stepper=PLAIN_SGD), True),
        Method("adam", "Adam over the pixels", partial(train, stepper=ADAM), True),
        Method("lbfgs", "L-BFGS over the pixels, with a strong-Wolfe line search", partial(train, stepper=LBFGS), True),
    )
}
#: The methods' names.
METHODS = tuple(REGISTRY)


def method_for(solver: Solver, *, notebook: bool, lr: float | None) -> Method:
    """The method that runs ``solver`` on the notebook's problem or your pairs, given a step or not.

    >>> from convlearn.learn.config import solver_named
    >>> method_for(solver_named("sgd"), notebook=False, lr=None).name
    'nesterov'
    """
    return REGISTRY[solver.method_for(notebook=notebook, lr=lr)]
