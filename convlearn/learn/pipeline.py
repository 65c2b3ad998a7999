"""Learning from tensors: :func:`learn_kernel`, and :func:`learn_pairs`, the path every entry point takes.

The settings are checked once, then the pairs are read once: each torchrun rank
its share, aligned as they are read, into the normal equations (summed over
ranks). The solver's method then solves them (lstsq), descends on them
(sgd on your pairs), or trains on the pairs it kept (see :mod:`convlearn.learn.solvers`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import torch

from convlearn.learn.choose import DataChoice, applies, choose
from convlearn.learn.closest import closest_builtin
from convlearn.learn.colour import colour_support, learn_colour
from convlearn.learn.config import AUTO, LearnConfig, Solver, check_colour, check_config, solver_named
from convlearn.learn.fit import fit_pairs
from convlearn.learn.hooks import LearnHooks
from convlearn.learn.pairs import Pair
from convlearn.learn.problem import notebook_pair
from convlearn.learn.result import LearnResult, TrainingDiverged, TrainingInterrupted
from convlearn.learn.support import Support, find_support
from convlearn.runtime import distributed

__all__ = ["learn_kernel", "learn_pairs", "train_sgd"]


def learn_kernel(
    pairs: Iterable[Pair] | None = None, config: LearnConfig | None = None, hooks: LearnHooks | None = None
) -> LearnResult:
    """Learn one kernel from all pairs with the configured solver, and report the fit.

    Args:
        pairs: training pairs; None means the notebook's problem. lstsq and sgd
            read them once, one at a time (a lazy :class:`convlearn.learn.pairs.PairFiles`
            streams); adam, lbfgs and sgd with a step hold them all in memory.
        config: solver and settings, see :class:`LearnConfig`.
        hooks: told the step before an iterative solver's first epoch, and each
            epoch's loss (see :class:`LearnHooks`).

    Returns:
        The kernel, the losses, a :class:`FitReport` in ``report`` and the
        pairs' names in ``inputs`` and ``targets``.

    Raises:
        InputError: bad settings, no pairs, mismatched sizes, constant-zero inputs.
        TrainingDiverged: the loss turned non-finite or grew many-fold (SGD);
            its ``result`` holds the best kernel reached.
        TrainingInterrupted: Ctrl-C; its ``result`` holds the kernel reached so far.

    >>> result = learn_kernel(config=LearnConfig(solver="lstsq"))
    >>> result.weight.tolist(), result.report.r2
    ([[1.0, -1.0]], 1.0)
    """
    from convlearn.runtime import resolve_device

    config = config or LearnConfig()
    solver = check_config(config)
    return learn_pairs(pairs, config, solver, resolve_device(config.device), hooks or LearnHooks())


def train_sgd(
    pairs: Iterable[Pair] | None = None, config: LearnConfig | None = None, hooks: LearnHooks | None = None
) -> LearnResult:
    """Train a kernel by full-batch SGD on the summed squared error, as the notebook does.

    :func:`learn_kernel` with ``solver="sgd"``: on the notebook's problem (or with
    a step given) plain SGD steps; on your pairs with no step, the preconditioned
    descent on the normal equations (see :mod:`convlearn.learn.descent`).

    Args:
        pairs: training pairs; None means the notebook's problem.
        config: settings, see :class:`LearnConfig`.
        hooks: told the step and each epoch's loss.

    Returns:
        The learned kernel, bias and the loss of every epoch.

    Raises:
        TrainingDiverged: the loss turned non-finite or grew many-fold.

    >>> result = train_sgd(config=LearnConfig(epochs=10))
    >>> [round(v, 1) for v in result.weight[0].tolist()]
    [1.0, -1.0]
    """
    return learn_kernel(pairs, replace(config or LearnConfig(), solver="sgd"), hooks)


def learn_pairs(
    pairs: Iterable[Pair] | None, config: LearnConfig, solver: Solver, device: torch.device, hooks: LearnHooks
) -> LearnResult:
    """:func:`learn_kernel` on checked settings and a resolved device: the size, the fit, the closest built-in.

    Raises:
        InputError: colour settings that do not fit the pairs (see :func:`check_colour`), and as :func:`fit_pairs`.
        TrainingDiverged, TrainingInterrupted: as :func:`learn_kernel`, their ``result`` placed as a finished one.
    """
    notebook = pairs is None
    colour = check_colour(config, notebook=notebook)
    source = distributed.iter_shard([notebook_pair()] if notebook else pairs)
    support = choice = None
    if config.kernel_size == AUTO and not colour and not notebook:
        source = list(source)  # read once: the choice and the fit both use them
        if applies(source, config):
            config, source, choice = distributed.fail_together(lambda: choose(source, config))
            solver = solver_named(config.solver)
    if colour:
        source = list(source)  # read once: every output channel is fitted from them
    if config.kernel_size == AUTO:
        source = list(source)  # read once: the probe and the fit both use them
        find = colour_support if colour else find_support
        extra = {"channels": config.channels} if colour else {}
        support = distributed.fail_together(lambda: find(source, bias=config.bias, device=device, **extra))
        config = replace(config, kernel_size=support.size, anchor=support.anchor)
    try:
        if colour:
            result = learn_colour(source, config, solver, device, hooks)
        else:
            result = fit_pairs(source, config, solver, device, hooks, notebook=notebook)
    except (TrainingDiverged, TrainingInterrupted) as e:
        _place(e.result, config, support, choice)
        raise
    return _place(result, config, support, choice)


def _place(
    result: LearnResult, config: LearnConfig, support: Support | None, choice: DataChoice | None = None
) -> LearnResult:
    """The result with its anchor, why its size (when found from the data), the verdict and the closest built-in."""
    result.anchor = config.anchor
    result.support = None if support is None else support.reason
    if choice is not None:
        result.support, result.choice = choice.reason, choice
        if choice.refined is not None:  # behind a JPEG: the kernel its bins allow, not the pixels' least squares
            k, b = choice.refined
            result.weight = torch.from_numpy(k.copy()).to(result.weight.dtype)
            result.bias = None if b is None else b / choice.full_scale
        result.closest = choice.closest(result.weight.detach().to(torch.float64).numpy())
    elif result.channels == "luma":  # a colour kernel's closest built-ins are per channel (convlearn.learn.colour)
        result.closest = closest_builtin(result.weight.detach().to(torch.float64).numpy())
    return result
