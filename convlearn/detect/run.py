"""``run_detect``: the whole ``convlearn detect`` from plain values, callable from Python too.

It checks everything and names every output (:func:`_plan`), then shards the
inputs under torchrun, filters them and gathers what every rank did (:func:`_run`).
Every check comes before torch is imported, so a mistake (a bad kernel, a missing
file, a bad output path) fails in a fraction of a second: only :func:`_run`
imports torch.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from convlearn.detect.config import DetectConfig, check_config, check_outputs, default_tag, kernel_channels
from convlearn.detect.report import BatchReport
from convlearn.errors import InputError
from convlearn.files import STDIO, Source, check_not_input, collect_inputs, make_output_dirs, plan_outputs
from convlearn.images.decode import require_file
from convlearn.images.stdio import read_input
from convlearn.kernels import Kernel, kernel_file_of, parse_kernel
from convlearn.runtime.config import check_device, under_torchrun

if TYPE_CHECKING:
    from convlearn.detect.batch import OnResult

__all__ = ["DetectJob", "DetectOutcome", "decode_input", "run_detect"]


def decode_input(source: Source, config: DetectConfig):
    """One input as ``detect`` reads it (a float32 array in [0, 1]), without torch."""
    return read_input(
        source.path,
        channels=config.channels,
        max_pixels=config.max_pixels,
        exif_orientation=not config.raw_orientation,
    )


@dataclass(frozen=True)
class DetectJob:
    """What :func:`run_detect` is about to do, told to ``on_start`` before the first file is read."""

    total: int  # inputs, over every rank
    share: int  # this rank's inputs (all of them outside torchrun)
    to_stdout: bool  # the image goes to stdout, so text must go elsewhere
    is_main: bool  # rank 0, which tells the summary (always true outside torchrun)

    @property
    def several(self) -> bool:
        return self.total > 1


@dataclass(frozen=True)
class DetectOutcome:
    """What :func:`run_detect` did, over every rank."""

    job: DetectJob
    report: BatchReport  # this rank's files, one FileResult each
    failed: list[str]  # every rank's failure messages
    written: list[str]  # every rank's outputs written to files
    done: int  # files done, over every rank
    seconds: float  # from the first file read to the results gathered


def run_detect(
    *,
    inputs: Sequence[str | os.PathLike],
    kernel: str = "edge",
    output: str | os.PathLike | None = None,
    angle: str | os.PathLike | None = None,
    recursive: bool = False,
    overwrite: bool = False,
    keep_values: bool = False,
    text_on_stdout: bool = False,
    on_start: Callable[[DetectJob], None] | None = None,
    on_result: OnResult | None = None,
    on_summary: Callable[[DetectOutcome], None] | None = None,
    **settings: Any,
) -> DetectOutcome:
    """Filter image files with a kernel spec, as ``convlearn detect`` does.

    Args:
        inputs: files, directories, globs, or ``["-"]`` for one image on stdin.
        kernel: a kernel spec (see :func:`~convlearn.kernels.parse_kernel`).
        output: a file, a directory or ``-`` (stdout). None: ``STEM_TAG.png``
            in the current directory (none with ``keep_values``); stdout for stdin.
        angle: where to write the gradient direction (a directory for several inputs).
        recursive: also read the subdirectories of directory inputs.
        overwrite: let default ``STEM_TAG`` names replace existing files.
        keep_values: pass each result's values to ``on_result`` (to print them).
        text_on_stdout: the caller prints text on stdout, so the image may not go there.
        on_start: called once the job is planned, before the first file is read.
        on_result: called in input order with each file's result (and values).
        on_summary: called on rank 0 with the outcome; under torchrun no rank
            returns before it has returned.
        settings: :class:`DetectConfig`'s fields by name (mode, border, magnitude,
            threshold, canny, sigma, channels, scale, bit_depth, fmt, batch_size, device, max_pixels,
            raw_orientation).

    Returns:
        What was done, with every rank's failures and outputs.

    Raises:
        InputError: a bad option, input or output, before any file is filtered.
        ConvlearnError: with a single input, its own error.
        BatchInterrupted: on Ctrl-C.
    """
    plan = _plan(
        inputs=inputs,
        spec=kernel,
        output=output,
        angle=angle,
        recursive=recursive,
        overwrite=overwrite,
        keep_values=keep_values,
        text_on_stdout=text_on_stdout,
        settings=settings,
    )
    hooks = _Hooks(on_start, on_result, on_summary)
    return _run(plan, keep_values=keep_values, hooks=hooks)


@dataclass(frozen=True)
class _Plan:
    """What :func:`_plan` checked and named: every input, output and angle output, the kernel and the config."""

    sources: list[Source]
    outputs: list[str | None]
    angles: list[str | None] | None
    kernel: Kernel
    config: DetectConfig


@dataclass(frozen=True)
class _Hooks:
    """run_detect's callbacks, told in this order."""

    on_start: Callable[[DetectJob], None] | None
    on_result: OnResult | None
    on_summary: Callable[[DetectOutcome], None] | None


def _plan(
    *,
    inputs: Sequence[str | os.PathLike],
    spec: str,
    output: str | os.PathLike | None,
    angle: str | os.PathLike | None,
    recursive: bool,
    overwrite: bool,
    keep_values: bool,
    text_on_stdout: bool,
    settings: dict[str, Any],
) -> _Plan:
    """Check every setting, input and output, without torch; then make the output folders."""
    K = parse_kernel(spec)
    sources = collect_inputs(inputs, recursive=recursive)
    if len(sources) == 1 and sources[0].path != STDIO:
        require_file(sources[0].path)  # one input: fail now (in a batch, each file fails on its own)
    config = check_config(kernel_channels(K, DetectConfig(**settings, angle=angle is not None)))
    if config.canny is not None and spec != "edge":
        raise InputError("--canny uses its own Sobel gradients; drop --kernel")
    output = _stdout_rules(sources, output, text_on_stdout)
    tag = None if keep_values else default_tag(K, config)
    outputs = plan_outputs(sources, output, fmt=config.fmt, default_tag=tag, overwrite=overwrite, create=False)
    angles = _plan_angles(sources, angle, outputs, config.fmt)
    check_outputs(config, outputs)
    targets = [*outputs, *(angles or [])]
    _check_not_kernel_file(spec, targets)
    if under_torchrun() and STDIO in [*(s.path for s in sources), *outputs]:
        raise InputError("Under torchrun, detect reads and writes files; - (stdin or stdout) is not supported")
    check_device(config.device)  # whether it exists here, torch tells later

    # Every output checked: now their folders may be made.
    make_output_dirs(targets)
    return _Plan(sources, outputs, angles, K, config)


def _check_not_kernel_file(spec: str, targets: list[str | None]) -> None:
    """Refuse an output that is the kernel file being read."""
    path = kernel_file_of(spec)
    for target in targets:
        if path is not None and target not in (None, STDIO):
            check_not_input(target, [path])


def _stdout_rules(sources: list[Source], output: str | os.PathLike | None, text_on_stdout: bool):
    """A pipe in gives a pipe out; an image on stdout goes neither with text nor to a terminal."""
    if output is None and [s.path for s in sources] == [STDIO] and not text_on_stdout:
        output = STDIO
    if output == STDIO and text_on_stdout:
        raise InputError("--output - sends the image to stdout; --print, --table and --json would mix text into it")
    if output == STDIO and sys.stdout.isatty():
        raise InputError("Refusing to write an image to the terminal. Redirect stdout (> out.png) or give --output")
    return output


def _plan_angles(
    sources: list[Source], angle: str | os.PathLike | None, outputs: list[str | None], fmt: str
) -> list[str | None] | None:
    """Name the --angle outputs, none of them one of the --output files."""
    if angle is None:
        return None
    angles = plan_outputs(sources, angle, fmt=fmt, what="--angle", create=False)
    clash = {o for o in outputs if o not in (None, STDIO)} & {a for a in angles if a not in (None, STDIO)}
    if clash:
        raise InputError(f"--angle and --output both name {sorted(clash)[0]!r}; give them different paths")
    return angles


def _head_start(plan: _Plan) -> dict[int, tuple[Any, BaseException | None]]:
    """Import torch (and the batch runner) on a thread while this one decodes the first input.

    Decoding (Pillow, in C, the GIL released) and the import then overlap, so a
    one-photo run costs little more than ``import torch``. Under torchrun the
    first input of this rank is known only after torch, so nothing is decoded early.

    Returns:
        ``{id(source): (value, error)}`` for the input decoded here, for :func:`run_batch`.
    """
    failed: list[BaseException] = []

    def load() -> None:
        try:
            import convlearn.detect.batch
            import convlearn.runtime.distributed  # noqa: F401
        except BaseException as e:  # raised in the calling thread below
            failed.append(e)

    importer = threading.Thread(target=load, name="convlearn-import-torch", daemon=True)
    importer.start()
    ready: dict[int, tuple[Any, BaseException | None]] = {}
    if plan.sources and not under_torchrun():
        first = plan.sources[0]
        try:
            ready[id(first)] = (decode_input(first, plan.config), None)
        except Exception as e:  # the batch reports it as it would its own
            ready[id(first)] = (None, e)
    importer.join()
    if failed:
        raise failed[0]
    return ready


def _run(plan: _Plan, *, keep_values: bool, hooks: _Hooks) -> DetectOutcome:
    """Filter this rank's share of the files, gather every rank's results, tell them on rank 0."""
    ready = _head_start(plan)
    from convlearn.detect.batch import run_batch
    from convlearn.runtime import distributed, resolve_device

    device = resolve_device(plan.config.device)
    # Under torchrun each rank filters its own share of the files (every output
    # is written once, by the rank that reads its input); rank 0 tells the summary.
    where = distributed.setup(device)
    sources, outputs, angles = plan.sources, plan.outputs, plan.angles
    if where.active:
        sources, outputs = distributed.shard(sources, where), distributed.shard(outputs, where)
        angles = None if angles is None else distributed.shard(angles, where)
    job = DetectJob(total=len(plan.sources), share=len(sources), to_stdout=STDIO in outputs, is_main=where.is_main)
    if hooks.on_start is not None:
        hooks.on_start(job)

    start = time.perf_counter()
    report = run_batch(
        sources,
        outputs,
        plan.kernel,
        plan.config,
        device,
        angle_outputs=angles,
        on_result=hooks.on_result,
        keep_values=keep_values,
        ready=ready,
    )
    outcome = _gather(job, report, start)
    if where.is_main and hooks.on_summary is not None:
        hooks.on_summary(outcome)
    distributed.barrier()  # no rank returns (and may exit, stopping the others) before rank 0 has told
    return outcome


def _gather(job: DetectJob, report: BatchReport, start: float) -> DetectOutcome:
    """Every rank's failures, outputs and count of files done, on every rank; the seconds since ``start``."""
    from convlearn.runtime import distributed

    failed = [r.error for r in report.failed]
    written = [r.output for r in report.done if r.output not in (None, STDIO)]
    shares = distributed.all_gather_objects((failed, written, len(report.done)))
    return DetectOutcome(
        job=job,
        report=report,
        failed=[e for share in shares for e in share[0]],
        written=[o for share in shares for o in share[1]],
        done=sum(share[2] for share in shares),
        seconds=time.perf_counter() - start,
    )
