"""``lstsq``: the exact least-squares kernel, one solve of the normal equations in float64."""

from __future__ import annotations

import torch

from convlearn.learn.config import LearnConfig, Solver
from convlearn.learn.hooks import LearnHooks
from convlearn.learn.report import fit_report
from convlearn.learn.result import LearnResult
from convlearn.learn.task import Task

__all__ = ["solve"]


def solve(task: Task, config: LearnConfig, solver: Solver, hooks: LearnHooks) -> LearnResult:
    """The kernel that solves ``G k = b`` (see :meth:`NormalEquations.solve`); no epochs, so no hook is called.

    Args:
        task: the normal equations and the pairs' names.
        config: the checked settings (size, bias, channels).
        solver: the ``--solver`` choice, for the result's name.
        hooks: unused: a one-pass solve has no epochs to tell.

    Returns:
        The kernel in float64, ``stopped="solved"``, no step and no losses.

    Raises:
        InputError: constant-zero inputs.

    >>> from convlearn.learn import LearnConfig, normal_equations, notebook_pair, solver_named
    >>> task = Task(normal_equations([notebook_pair()], (1, 2)), [("x", "y")], torch.device("cpu"))
    >>> solve(task, LearnConfig(), solver_named("lstsq"), LearnHooks()).weight.tolist()
    [[1.0, -1.0]]
    """
    k = task.ne.solve()  # (p,)
    report = fit_report(task.ne, k, k)
    return task.result(k, config=config, solver=solver, dtype=torch.float64, stopped="solved", report=report, lr=None)
