"""Learning from files: :func:`run_learn`, what ``convlearn learn`` runs.

Every setting and file is checked before a pair is read (the settings by
:mod:`convlearn.learn.config`, the files by :mod:`convlearn.learn.file_checks`);
then :func:`convlearn.learn.pipeline.learn_pairs` learns, and
:class:`convlearn.learn.saver.Saver` writes the kernel file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from convlearn.errors import InputError
from convlearn.images import DEFAULT_MAX_PIXELS
from convlearn.learn.config import (
    AUTO,
    LearnConfig,
    Solver,
    check_choices,
    check_one_pass,
    check_ranges,
    check_steps,
    notebook_run,
)
from convlearn.learn.file_checks import check_kernel_fits, check_output_paths, pair_paths, size_and_reference
from convlearn.learn.hooks import LearnHooks, TrainingStart
from convlearn.learn.pairs import PairFiles
from convlearn.learn.pipeline import learn_pairs
from convlearn.learn.result import TrainingDiverged, TrainingInterrupted
from convlearn.learn.saver import LearnRun, Saver
from convlearn.runtime import distributed

if TYPE_CHECKING:
    import torch

    from convlearn.kernels import Kernel

__all__ = ["run_learn"]


def run_learn(
    *,
    inputs: Sequence[str | os.PathLike] = (),
    targets: Sequence[str | os.PathLike] = (),
    pairs_dir: str | os.PathLike | None = None,
    kernel_size: str | tuple[int, int] | None = None,
    solver: str | None = None,
    epochs: int | None = None,
    lr: float | None = None,
    bias: bool | None = None,
    clip_margin: float | None = None,
    keep_saturated: bool = False,
    reference: str | None = None,
    seed: int = 0,
    dtype: str = "float32",
    channels: str = "luma",
    output: str | os.PathLike | None = None,
    device: str = "auto",
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    other_outputs: Sequence[str | os.PathLike] = (),
    on_epoch: Callable[[int, float], None] | None = None,
    on_step: Callable[[TrainingStart], None] | None = None,
) -> LearnRun:
    """Learn a kernel from image files and write the kernel file, as ``convlearn learn`` does.

    ``bias`` None (the default) lets the data choose it when the size is automatic (else no bias);
    ``clip_margin`` (levels) replaces the margin from the target's noise model; ``solver`` None is sgd, or
    lstsq when the data choose the size (and no ``epochs`` or ``lr`` is given).
    Every setting is checked before a pair is read (``solver``, ``epochs``, ``lr``, ``bias``, ``seed`` and
    ``dtype`` as in :class:`LearnConfig`; ``keep_saturated``, ``max_pixels``, ``channels`` as in :func:`read_pair`);
    ``other_outputs`` (a plot) are refused, like ``output``, when they name an input. With no pair: the
    notebook's problem. Under torchrun each rank reads its share and rank 0 alone calls back and writes.
    ``on_step`` gets a :class:`TrainingStart`. On divergence or Ctrl-C the kernel reached is written too,
    then :class:`TrainingDiverged` or :class:`TrainingInterrupted` is raised.

    >>> run_learn(solver="lstsq", device="cpu").result.weight.tolist()
    [[1.0, -1.0]]
    """
    from convlearn.runtime import resolve_device

    solver, spec, auto_solver = _checked_solver(solver, dtype, epochs, lr, seed=seed, clip_margin=clip_margin)
    paths = pair_paths(inputs, targets, pairs_dir)
    size, ref = size_and_reference(kernel_size, reference, channels, paths)
    check_output_paths(output, other_outputs, paths, reference)
    if size != AUTO:
        check_kernel_fits(size, paths)
    pairs = PairFiles(paths, keep_saturated=keep_saturated, max_pixels=max_pixels, channels=channels) if paths else None
    dev = resolve_device(device)
    config = LearnConfig(
        kernel_size=size, epochs=epochs, lr=lr, bias=bool(bias), seed=seed, device=device, solver=solver
    )
    config = replace(config, dtype=dtype, channels=channels, auto_bias=bias is None, clip_margin=clip_margin)
    config = replace(config, auto_solver=auto_solver)
    check_steps(epochs, lr)
    check_one_pass(spec, epochs, lr)
    hooks = LearnHooks(on_start=on_step, on_epoch=on_epoch)
    return _learn_and_write(pairs, config, spec, dev, hooks, output=output, reference=reference, ref=ref)


def _checked_solver(
    solver: str | None, dtype: str, epochs: int | None, lr: float | None, *, seed: int, clip_margin: float | None
) -> tuple[str, Solver, bool]:
    """The solver's name, its :class:`Solver` and whether the data may choose it, once the settings pass their checks.

    ``solver`` None is sgd, or lstsq when the data choose the size and no ``epochs`` or ``lr`` is given.
    """
    auto_solver = solver is None and epochs is None and lr is None
    solver = solver or "sgd"
    spec = check_choices(solver, dtype)
    check_ranges(seed=seed, epochs=epochs)
    if clip_margin is not None and not (0 <= clip_margin < 128):
        raise InputError(f"--clip-margin must be from 0 to 127 levels, not {clip_margin:g}")
    return solver, spec, auto_solver


def _learn_and_write(
    pairs: PairFiles | None,
    config: LearnConfig,
    spec: Solver,
    dev: torch.device,
    hooks: LearnHooks,
    *,
    output: str | os.PathLike | None,
    reference: str | None,
    ref: Kernel | None,
) -> LearnRun:
    """Learn from ``pairs`` (the notebook's problem when None) and write the kernel file, as ``run_learn`` does."""
    # Under torchrun (after every check made before this, alike on every rank) each
    # rank reads its share of the pairs; rank 0 alone tells and writes.
    main = distributed.setup(dev).is_main
    hooks = hooks if main else LearnHooks()
    notebook = notebook_run(config.solver, notebook=pairs is None)
    saver = Saver(output=output, spec=reference, reference=ref, notebook=notebook, main=main)
    try:
        return saver.save(learn_pairs(pairs, config, spec, dev, hooks))
    except (TrainingDiverged, TrainingInterrupted) as e:
        raise saver.stopped(e) from None
