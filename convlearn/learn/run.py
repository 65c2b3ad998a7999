"""The entry points: :func:`learn_kernel` for tensors in Python, :func:`run_learn` for files, as ``learn`` runs it.

Both check every setting once, then read the pairs once: each torchrun rank its
share, aligned as they are read, into the normal equations (summed over
ranks). The registered solver then either solves them (lstsq) or trains on
the pairs it kept (see :mod:`convlearn.learn.iterative`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

import torch

from convlearn.errors import InputError
from convlearn.files import check_outputs, write_text
from convlearn.images import DEFAULT_MAX_PIXELS, image_size
from convlearn.learn.closest import closest_builtin
from convlearn.learn.colour import FULL_NEEDS_SIZE, check_channels, colour_support, learn_colour
from convlearn.learn.fit import fit_pairs
from convlearn.learn.iterative import TrainingDiverged, TrainingInterrupted
from convlearn.learn.pairs import Pair, PairFiles, find_pairs
from convlearn.learn.problem import NOTEBOOK_SIZE, NOTEBOOK_SOLVER, notebook_pair
from convlearn.learn.report import LearnResult, fit_notes, max_abs_difference
from convlearn.learn.solvers import (
    AUTO,
    LearnConfig,
    Solver,
    check_choices,
    check_config,
    check_ranges,
    check_size,
    check_steps,
)
from convlearn.learn.support import find_support
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
    on_start: Callable[..., None] | None,
) -> LearnResult:
    """:func:`learn_kernel` on checked settings and a resolved device."""
    notebook = pairs is None
    colour = check_channels(cfg.channels) != "luma"
    if colour and notebook:
        raise InputError(f"--channels {cfg.channels} learns from colour pairs; give --input and --target")
    if cfg.channels == "full" and cfg.kernel_size == AUTO:  # before a pair is read
        raise InputError(FULL_NEEDS_SIZE)
    source = distributed.iter_shard([notebook_pair()] if notebook else pairs)
    support = None
    if colour:
        source = list(source)  # read once: every output channel is fitted from them
    if cfg.kernel_size == AUTO:
        source = list(source)  # read once: the probe and the fit both use them
        find = colour_support if colour else find_support
        extra = {"channels": cfg.channels} if colour else {}
        support = distributed.fail_together(lambda: find(source, bias=cfg.bias, device=device, **extra))
        cfg = replace(cfg, kernel_size=support.size, anchor=support.anchor)
    try:
        if colour:
            result = learn_colour(source, cfg, solver, device, on_epoch, on_start)
        else:
            result = fit_pairs(source, cfg, solver, device, notebook, on_epoch, on_start)
    except (TrainingDiverged, TrainingInterrupted) as e:
        _place(e.result, cfg, support)
        raise
    return _place(result, cfg, support)


def _place(result: LearnResult, cfg: LearnConfig, support) -> LearnResult:
    """The result with its anchor, why its size (when found from the data), and the closest built-in."""
    result.anchor = cfg.anchor
    result.support = None if support is None else support.reason
    if result.channels == "luma":  # a colour kernel's closest built-ins are per channel (convlearn.learn.colour)
        result.closest = closest_builtin(result.weight.detach().to(torch.float64).numpy())
    return result


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
    kernel_size: str | tuple[int, int] | None = None,
    solver: str = "sgd",
    epochs: int | None = None,
    lr: float | None = None,
    bias: bool = False,
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

    spec = check_choices(solver, dtype)
    check_ranges(seed=seed, epochs=epochs)
    if len(inputs) != len(targets):
        raise InputError(f"Got {len(inputs)} --input and {len(targets)} --target; give one target per input")
    paths = list(zip(inputs, targets, strict=True)) + (find_pairs(pairs_dir) if pairs_dir is not None else [])
    size, ref = _size_and_reference(kernel_size, reference, channels, paths)
    _check_outputs(output, other_outputs, paths, reference)
    if size != AUTO:
        _check_kernel_fits(size, paths)
    pairs = PairFiles(paths, keep_saturated=keep_saturated, max_pixels=max_pixels, channels=channels) if paths else None
    dev = resolve_device(device)
    config = LearnConfig(kernel_size=size, epochs=epochs, lr=lr, bias=bias, seed=seed, device=device, solver=solver)
    config = replace(config, dtype=dtype, channels=channels)
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


def _size_and_reference(kernel_size, reference: str | None, channels: str, paths: list[tuple]):
    """The kernel size (``HxW``, ``auto`` by default with pairs, the notebook's without) and the parsed reference."""
    size = _kernel_size(kernel_size if kernel_size is not None else AUTO if paths else NOTEBOOK_SIZE)
    ref = _reference(reference, size, channels)
    if ref is not None and size == AUTO:  # compare like with like: learn at the reference's size
        size = ref.shape
    return size, ref


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


def _kernel_size(value: str | tuple[int, int]) -> tuple[int, int] | str:
    """``HxW`` parsed, ``auto`` kept, or ``(h, w)`` checked."""
    if isinstance(value, str):
        return AUTO if value.strip().lower() == AUTO else parse_size(value)
    size = (int(value[0]), int(value[1]))
    check_size(size)
    return size


def _reference(spec: str | None, size: tuple[int, int], channels: str = "luma"):
    """The reference kernel of a spec, checked to be of the size being learned; None without a spec."""
    from convlearn.kernels import parse_kernel

    if spec is None:
        return None
    if channels != "luma":
        raise InputError(f"--reference compares a one-plane kernel; it cannot be used with --channels {channels}")
    ref = parse_kernel(spec)
    if ref.channels is not None:
        raise InputError(f"--reference {spec!r} is a colour kernel {ref.weight.shape}; give a one-plane kernel")
    if size != AUTO and ref.shape != size:
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

    def start(self, step: float, how: str | None = None, epochs: int | None = None) -> None:
        if self.main and self.on_step is not None:
            if how is None:
                how = "given by --lr" if self.config.lr is not None else self.solver.step_rule
            epochs = self.config.epochs_for_solver() if epochs is None else epochs
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
