"""One fit: pairs read into the normal equations at one size, then the method that runs the solver."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import torch

from convlearn.errors import InputError
from convlearn.learn.config import LearnConfig, Solver
from convlearn.learn.hooks import LearnHooks
from convlearn.learn.normal import NormalEquations, normal_equations, sum_over_ranks
from convlearn.learn.pairs import Pair, align_pair
from convlearn.learn.result import LearnResult
from convlearn.learn.solvers import method_for
from convlearn.learn.task import Task
from convlearn.runtime import distributed

__all__ = ["fit_pairs"]


def fit_pairs(
    source: Iterable[Pair],
    config: LearnConfig,
    solver: Solver,
    device: torch.device,
    hooks: LearnHooks,
    *,
    notebook: bool = False,
    equations: list[NormalEquations] | None = None,
) -> LearnResult:
    """Read the pairs into the normal equations at ``config``'s size, and run the solver's method on them.

    Args:
        source: the pairs, read once; under torchrun, this rank's share.
        config: the checked settings, with a fixed kernel size.
        solver: the ``--solver`` choice.
        device: where to accumulate and train.
        hooks: told the step and each epoch.
        notebook: the pairs are the notebook's own problem.
        equations: when given, the normal equations are appended to it.

    Raises:
        InputError: no pairs.
    """
    method = method_for(solver, notebook=notebook, lr=config.lr)
    names: list[tuple[str, str]] = []
    kept: list[Pair] = []  # the aligned pairs a method over the pixels trains on

    def read() -> Iterator[Pair]:
        for pair in source:
            names.append((pair.input_name, pair.target_name))
            aligned = align_pair(pair, config.kernel_size, config.anchor)
            if method.over_pixels:
                kept.append(aligned)
            yield aligned

    ne = distributed.fail_together(
        lambda: normal_equations(read(), config.kernel_size, config.bias, device=device, aligned=True)
    )
    ne = sum_over_ranks(ne)
    names = distributed.gather_shards(names)
    if ne.pairs == 0:
        raise InputError("No training pairs given")
    if equations is not None:
        equations.append(ne)
    task = Task(ne, names, device, notebook, kept)
    return method.run(task, config, solver, hooks)
