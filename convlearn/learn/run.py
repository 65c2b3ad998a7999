"""The entry points: :func:`learn_kernel` for tensors in Python, :func:`run_learn` for files, as ``learn`` runs it.

Both check every setting once, then read the pairs once: each torchrun rank its
share, aligned as they are read, into the normal equations (summed over
ranks). The registered solver then either solves them (lstsq) or trains on
the pairs it kept (see :mod:`convlearn.learn.iterative`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

import torch

from convlearn.errors import InputError
from convlearn.images import DEFAULT_MAX_PIXELS, check_outputs, image_size, write_text
from convlearn.learn.iterative import TrainingDiverged, TrainingInterrupted, train
from convlearn.learn.normal import normal_equations, safe_step, sum_over_ranks
from convlearn.learn.pairs import Pair, PairFiles, align_pair, find_pairs
from convlearn.learn.problem import NOTEBOOK_SOLVER, notebook_pair
from convlearn.learn.report import LearnResult, fit_notes, fit_report, max_abs_difference, unpack
from convlearn.learn.solvers import (
    LearnConfig,
    Solver,
    check_choices,
    check_config,
    check_ranges,
    check_size,
    check_steps,
)
from convlearn.runtime import distributed

__all__ = ["LearnRun", "TrainingStart", "learn_kernel", "parse_size", "run_learn", "train_sgd"]


def learn_kernel(
    pairs: Iterable[Pair] | None = None,
    config: LearnConfig | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
    on_start: Callable[[float], None] | None = None,
) -> LearnResult:
    """Learn one kernel from all pairs with the configured solver, and report the fit.

    Args:
        pairs: training pairs; None means the notebook's problem. lstsq reads
            them once, one at a time (a lazy :class:`convlearn.learn.pairs.PairFiles`
            streams); the iterative solvers hold them all in memory.
        config: solver and settings, see :class:`LearnConfig`.
        on_epoch: called with ``(epoch, loss)`` after each epoch of an
            iterative solver (the loss is the one computed before that epoch's step).
        on_start: called with the step (learning rate) an iterative solver is
            about to use, before its first epoch.

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

    cfg = config or LearnConfig()
    solver = check_config(cfg)
    return _learn(pairs, cfg, solver, resolve_device(cfg.device), on_epoch, on_start)


def train_sgd(
    pairs: Sequence[Pair] | None = None,
    config: LearnConfig | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
) -> LearnResult:
    """Train a kernel by full-batch SGD on the summed squared error, as the notebook does.

    :func:`learn_kernel` with ``solver="sgd"``.

    Args:
        pairs: training pairs; None means the notebook's problem.
        config: settings, see :class:`LearnConfig`.
        on_epoch: called with ``(epoch, loss)`` after each step.

    Returns:
        The learned kernel, bias and the loss of every epoch.

    Raises:
        TrainingDiverged: the loss turned non-finite or grew many-fold.

    >>> result = train_sgd(config=LearnConfig(epochs=10))
    >>> [round(v, 1) for v in result.weight[0].tolist()]
    [1.0, -1.0]
    """
    return learn_kernel(pairs, replace(config or LearnConfig(), solver="sgd"), on_epoch)


def _learn(
    pairs: Iterable[Pair] | None,
    cfg: LearnConfig,
    solver: Solver,
    device: torch.device,
    on_epoch: Callable[[int, float], None] | None,
    on_start: Callable[[float], None] | None,
) -> LearnResult:
    """:func:`learn_kernel` on checked settings and a resolved device."""
    notebook = pairs is None
    source = distributed.iter_shard([notebook_pair()] if notebook else pairs)
    names: list[tuple[str, str]] = []
    kept: list[Pair] = []  # the aligned pairs an iterative solver trains on

    def read() -> Iterator[Pair]:
        for pair in source:
            names.append((pair.input_name, pair.target_name))
            aligned = align_pair(pair, cfg.kernel_size)
            if solver.iterative:
                kept.append(aligned)
            yield aligned

    ne = distributed.fail_together(
        lambda: normal_equations(read(), cfg.kernel_size, cfg.bias, device=device, aligned=True)
    )
    ne = sum_over_ranks(ne)
    names = distributed.gather_shards(names)
    if ne.pairs == 0:
        raise InputError("No training pairs given")
    if solver.iterative:
        return train(
            kept,
            config=cfg,
            solver=solver,
            ne=ne,
            device=device,
            notebook=notebook,
            names=names,
            on_epoch=on_epoch,
            on_start=on_start,
        )
    k = ne.solve()
    weight, bias = unpack(k, cfg.kernel_size, cfg.bias, torch.float64)
    return LearnResult(
        weight=weight,
        bias=bias,
        lr=None,
        solver=solver.name,
        stopped="solved",
        report=fit_report(ne, k, k),
        safe_lr=safe_step(ne.gram),
        inputs=[x for x, _ in names],
        targets=[y for _, y in names],
    )


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
        raise InputError(f"Invalid kernel size {text!r}. Expected HxW, for example 3x3") from None
    if h < 1 or w < 1:
        raise InputError(f"Invalid kernel size {text!r}; both sides must be at least 1")
    return h, w


@dataclass(frozen=True)
class TrainingStart:
    """What an iterative solver is about to do, told once before its first epoch.

    Attributes:
        solver: its name.
        step: the step (learning rate) it uses.
        how: how that step was chosen, in words.
        epochs: the epoch budget.
        notebook: this is the notebook's own run (no pairs, its solver), which
            showed only its epochs.
    """

    solver: str
    step: float
    how: str
    epochs: int
    notebook: bool


@dataclass
class LearnRun:
    """What :func:`run_learn` did.

    Attributes:
        result: the learned kernel and its fit.
        record: what the kernel file holds beside the kernel (the fit report,
            the pairs, ``reference`` when one was given).
        text: the kernel file's text, written to ``output`` when one was given.
        notes: warnings about the fit, one sentence each (see :func:`fit_notes`).
        reference_diff: the largest difference from the reference kernel, if any.
        notebook: the notebook's own run (no pairs, its solver).
        main: this process tells the result (rank 0 under torchrun; always in one process).
    """

    result: LearnResult
    record: dict
    text: str
    notes: list[str] = field(default_factory=list)
    reference_diff: float | None = None
    notebook: bool = False
    main: bool = True


def run_learn(
    *,
    inputs: Sequence[str | os.PathLike] = (),
    targets: Sequence[str | os.PathLike] = (),
    pairs_dir: str | os.PathLike | None = None,
    kernel_size: str | tuple[int, int] = "1x2",
    solver: str = "sgd",
    epochs: int | None = None,
    lr: float | None = None,
    bias: bool = False,
    keep_saturated: bool = False,
    reference: str | None = None,
    seed: int = 0,
    dtype: str = "float32",
    output: str | os.PathLike | None = None,
    device: str = "auto",
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    other_outputs: Sequence[str | os.PathLike] = (),
    on_epoch: Callable[[int, float], None] | None = None,
    on_step: Callable[[TrainingStart], None] | None = None,
) -> LearnRun:
    """Learn a kernel from image files and write the kernel file, as ``convlearn learn`` does.

    Every setting is checked before a pair is read (``solver``, ``epochs``, ``lr``, ``bias``, ``seed`` and
    ``dtype`` as in :class:`LearnConfig`; ``keep_saturated`` and ``max_pixels`` as in :func:`read_pair`);
    ``other_outputs`` (a plot) are refused, like ``output``, when they name an input. With no pair: the
    notebook's problem. Under torchrun each rank reads its share and rank 0 alone calls back and writes.
    ``on_step`` gets a :class:`TrainingStart`. On divergence or Ctrl-C the kernel reached is written too,
    then :class:`TrainingDiverged` or :class:`TrainingInterrupted` is raised.

    >>> run_learn(solver="lstsq", device="cpu").result.weight.tolist()
    [[1.0, -1.0]]
    """
    from convlearn.runtime import resolve_device

    spec = check_choices(solver, dtype)
    check_ranges(seed=seed, epochs=epochs)
    if len(inputs) != len(targets):
        raise InputError(f"Got {len(inputs)} --input and {len(targets)} --target; give one target per input")
    size = _kernel_size(kernel_size)
    ref = _reference(reference, size)
    paths = list(zip(inputs, targets, strict=True)) + (find_pairs(pairs_dir) if pairs_dir is not None else [])
    _check_outputs(output, other_outputs, paths, reference)
    _check_kernel_fits(size, paths)
    pairs = PairFiles(paths, keep_saturated=keep_saturated, max_pixels=max_pixels) if paths else None
    dev = resolve_device(device)
    config = LearnConfig(
        kernel_size=size, epochs=epochs, lr=lr, bias=bias, seed=seed, device=device, solver=solver, dtype=dtype
    )
    check_steps(epochs, lr)
    # Under torchrun (after every check above, made alike on every rank) each
    # rank reads its share of the pairs; rank 0 alone tells and writes.
    main = distributed.setup(dev).is_main
    notebook = pairs is None and solver == NOTEBOOK_SOLVER
    teller = _Teller(config=config, solver=spec, main=main, notebook=notebook, on_epoch=on_epoch, on_step=on_step)
    saver = _Saver(output=output, spec=reference, reference=ref, teller=teller)
    try:
        return saver.save(_learn(pairs, config, spec, dev, teller.epoch, teller.start))
    except (TrainingDiverged, TrainingInterrupted) as e:
        raise saver.stopped(e) from None


def _check_outputs(
    output: str | os.PathLike | None, others: Sequence[str | os.PathLike], paths: list[tuple], reference: str | None
) -> None:
    """Every output checked before the first is written: writable, not alike, none a pair's file or the reference."""
    from convlearn.kernels import kernel_file_of

    read = [p for pair in paths for p in pair] + [None if reference is None else kernel_file_of(reference)]
    check_outputs([("--output", output), *(("--plot", o) for o in others)], read)


def _check_kernel_fits(size: tuple[int, int], paths: list[tuple]) -> None:
    """Refuse a kernel larger than an input image, from the images' headers, before any memory is set aside for it."""
    h, w = size
    sizes = [image_size(x) for x, _ in paths] if paths else [tuple(notebook_pair().input.shape)]
    for found, (x, _) in zip(sizes, paths or [("synth:stripes", None)], strict=True):
        if found is not None and (h > found[0] or w > found[1]):
            raise InputError(f"Kernel {h}x{w} is larger than the input image {found[0]}x{found[1]} ({x})")


def _kernel_size(value: str | tuple[int, int]) -> tuple[int, int]:
    """``HxW`` parsed, or ``(h, w)`` checked."""
    if isinstance(value, str):
        return parse_size(value)
    size = (int(value[0]), int(value[1]))
    check_size(size)
    return size


def _reference(spec: str | None, size: tuple[int, int]):
    """The reference kernel of a spec, checked to be of the size being learned; None without a spec."""
    from convlearn.kernels import parse_kernel

    if spec is None:
        return None
    ref = parse_kernel(spec)
    if ref.shape != size:
        raise InputError(
            f"--reference {spec!r} is {ref.shape[0]}x{ref.shape[1]}, but --kernel-size is {size[0]}x{size[1]}; "
            "give a reference of the size being learned"
        )
    return ref


@dataclass
class _Teller:
    """The callbacks, on rank 0 only."""

    config: LearnConfig
    solver: Solver
    main: bool
    notebook: bool
    on_epoch: Callable[[int, float], None] | None
    on_step: Callable[[TrainingStart], None] | None

    def start(self, step: float) -> None:
        if self.main and self.on_step is not None:
            how = "given by --lr" if self.config.lr is not None else self.solver.step_rule
            epochs = self.config.epochs_for_solver()
            self.on_step(TrainingStart(self.solver.name, step, how, epochs, self.notebook))

    def epoch(self, i: int, loss: float) -> None:
        if self.main and self.on_epoch is not None:
            self.on_epoch(i, loss)


@dataclass
class _Saver:
    """Turns a result into a :class:`LearnRun`, writing the kernel file on rank 0."""

    output: str | os.PathLike | None
    spec: str | None
    reference: object
    teller: _Teller

    def save(self, result: LearnResult) -> LearnRun:
        from convlearn.kernels import kernel_to_json

        record = result.record()
        diff = None if self.reference is None else max_abs_difference(result, self.reference)
        if self.reference is not None:
            record["reference"] = {"spec": self.spec, "max_abs_diff": diff}
        text = kernel_to_json(result.kernel(), **record)
        if self.output is not None and self.teller.main:
            write_text(self.output, text)
        return LearnRun(result, record, text, fit_notes(result), diff, self.teller.notebook, self.teller.main)

    def stopped(self, e: TrainingDiverged | TrainingInterrupted) -> TrainingDiverged | TrainingInterrupted:
        """Save the kernel a stopped run kept; the error to raise, saying where it went."""
        self.save(e.result)
        if isinstance(e, TrainingInterrupted):
            written = f" and written to {self.output}" if self.output is not None else " (give --output to keep it)"
            return TrainingInterrupted(f"{e}{written}", e.result)
        distributed.barrier()  # every rank diverges together; none exits before rank 0 has saved
        written = f"; it was written to {self.output}" if self.output is not None else ""
        return TrainingDiverged(f"{e}{written}", e.result)
