"""``run_restore``: the whole ``convlearn restore`` from plain values, callable from Python too.

It checks every setting, input and output before torch is imported (:func:`_plan`),
then restores this rank's share of the files one at a time (a restore is seconds of
work per image, so files are not batched), writing each atomically, and gathers
what every rank did. A single input raises its own error; in a batch each file
fails on its own and the others are done.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from convlearn.errors import ConvlearnError, InputError
from convlearn.files import STDIO, Source, check_not_input, collect_inputs, make_output_dirs, plan_outputs
from convlearn.images.config import DEFAULT_MAX_PIXELS
from convlearn.images.decode import require_file
from convlearn.kernels import Kernel, kernel_file_of, parse_kernel
from convlearn.restore.config import RestoreConfig, check_config, check_kernel_channels, check_output_settings
from convlearn.runtime.config import check_device, under_torchrun

__all__ = ["RestoreJob", "RestoreOutcome", "RestoredFile", "run_restore"]

#: The ``TAG`` of default output names, ``STEM_restored.png``.
TAG = "restored"


@dataclass(frozen=True)
class RestoreJob:
    """What :func:`run_restore` is about to do, told to ``on_start`` before the first file is read."""

    total: int  # inputs, over every rank
    share: int  # this rank's inputs
    to_stdout: bool  # the image goes to stdout, so text must go elsewhere
    is_main: bool  # rank 0, which tells the summary

    @property
    def several(self) -> bool:
        return self.total > 1


@dataclass(frozen=True)
class RestoredFile:
    """One file's fate: where it went and how it was solved, or why it failed."""

    source: str
    output: str | None = None
    shape: tuple[int, ...] = ()
    summary: str = ""  # the solve: method, strength and why, iterations
    seconds: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class RestoreOutcome:
    """What :func:`run_restore` did, over every rank."""

    job: RestoreJob
    files: list[RestoredFile]  # this rank's files, in input order
    failed: list[str]  # every rank's failure messages
    written: list[str]  # every rank's outputs
    seconds: float


@dataclass(frozen=True)
class _Plan:
    sources: list[Source]
    outputs: list[str | None]
    kernel: Kernel
    config: RestoreConfig
    settings: dict[str, Any]  # channels, device, bit_depth, scale, fmt, max_pixels, raw_orientation


def run_restore(
    *,
    inputs: Sequence[str | os.PathLike],
    kernel: str,
    output: str | os.PathLike | None = None,
    recursive: bool = False,
    overwrite: bool = False,
    method: str = "wiener",
    strength: float | None = None,
    mode: str = "same",
    border: str = "unknown",
    channels: str = "luma",
    device: str = "auto",
    bit_depth: int | None = None,
    scale: str = "clip",
    fmt: str = "png",
    max_pixels: int = DEFAULT_MAX_PIXELS,
    raw_orientation: bool = False,
    on_start: Callable[[RestoreJob], None] | None = None,
    on_result: Callable[[RestoredFile], None] | None = None,
    on_summary: Callable[[RestoreOutcome], None] | None = None,
) -> RestoreOutcome:
    """Undo a known blur on image files, as ``convlearn restore`` does.

    Args:
        inputs: files, directories, globs, or ``["-"]`` for one image on stdin.
        kernel: the blur: a kernel spec or a ``learn`` kernel file (its anchor and bias are used).
        output: a file, a directory or ``-`` (stdout). None: ``STEM_restored.png``
            in the current directory; stdout for stdin.
        recursive, overwrite: as for ``detect``.
        method, strength, mode, border: see :func:`~convlearn.restore.restore_planes`.
        channels: ``luma`` (one grey plane) or ``each`` (R, G, B restored apart; a
            (3, h, w) kernel blurs each with its own plane).
        device: ``auto``, ``cpu`` or ``cuda[:N]``.
        bit_depth: PNG depth; None: 16 for an input on the 16-bit grid (one plane), else 8.
        scale: picture mapping (``clip``: values in [0, 1]).
        fmt: the format for stdout and directories: png, tif or npy.
        max_pixels: refuse larger images.
        raw_orientation: keep a JPEG's pixels as stored, ignoring its EXIF orientation.
        on_start, on_result, on_summary: told the job, each file in input order, and (rank 0) the outcome.

    Returns:
        What was done, with every rank's failures and outputs.

    Raises:
        InputError: a bad option, kernel, input or output, before any file is restored.
        ConvlearnError: with a single input, its own error.
    """
    config = check_config(RestoreConfig(method=method, strength=strength, mode=mode, border=border))
    settings = {"channels": channels, "device": device, "bit_depth": bit_depth, "scale": scale, "fmt": fmt}
    check_output_settings(**settings)
    settings |= {"max_pixels": max_pixels, "raw_orientation": raw_orientation}
    plan = _plan(inputs, kernel, output, recursive, overwrite, config, settings)
    return _run(plan, on_start, on_result, on_summary)


def _plan(inputs, spec: str, output, recursive: bool, overwrite: bool, config: RestoreConfig, settings) -> _Plan:
    """Check the kernel, inputs and outputs, without torch; then make the output folders."""
    K = parse_kernel(spec)
    check_kernel_channels(K, config.method, settings["channels"])
    sources = collect_inputs(inputs, recursive=recursive)
    if len(sources) == 1 and sources[0].path != STDIO:
        require_file(sources[0].path)
    if output is None and [s.path for s in sources] == [STDIO]:
        output = STDIO
    if output == STDIO and sys.stdout.isatty():
        raise InputError("Refusing to write an image to the terminal. Redirect stdout (> out.png) or give --output")
    outputs = plan_outputs(sources, output, fmt=settings["fmt"], default_tag=TAG, overwrite=overwrite, create=False)
    path = kernel_file_of(spec)
    for target in outputs:
        if path is not None and target not in (None, STDIO):
            check_not_input(target, [path])
    if under_torchrun() and STDIO in [*(s.path for s in sources), *outputs]:
        raise InputError("Under torchrun, restore reads and writes files; - (stdin or stdout) is not supported")
    check_device(settings["device"])
    make_output_dirs(outputs)
    return _Plan(sources, outputs, K, config, settings)


def _run(plan: _Plan, on_start, on_result, on_summary) -> RestoreOutcome:
    """Restore this rank's share, gather every rank's results, tell them on rank 0."""
    from convlearn.restore.file_solve import restore_file
    from convlearn.runtime import distributed, resolve_device

    device = resolve_device(plan.settings["device"])
    where = distributed.setup(device)
    sources, outputs = plan.sources, plan.outputs
    if where.active:
        sources, outputs = distributed.shard(sources, where), distributed.shard(outputs, where)
    job = RestoreJob(len(plan.sources), len(sources), STDIO in outputs, where.is_main)
    if on_start is not None:
        on_start(job)
    start, files = time.perf_counter(), []
    for source, target in zip(sources, outputs, strict=True):
        t0 = time.perf_counter()
        try:
            done = restore_file(source.path, target, plan.kernel, plan.config, plan.settings, device)
        except Exception as e:  # in a batch each file fails on its own; a single file raises its own error
            if len(plan.sources) == 1:
                raise
            done = RestoredFile(source.path, error=_message(source.path, e))
        files.append(_timed(done, time.perf_counter() - t0))
        if on_result is not None:
            on_result(files[-1])
    failed = [f.error for f in files if f.error is not None]
    written = [f.output for f in files if f.ok and f.output not in (None, STDIO)]
    shares = distributed.all_gather_objects((failed, written))
    outcome = RestoreOutcome(
        job, files, [e for s in shares for e in s[0]], [o for s in shares for o in s[1]], time.perf_counter() - start
    )
    if where.is_main and on_summary is not None:
        on_summary(outcome)
    distributed.barrier()
    return outcome


def _message(source: str, e: BaseException) -> str:
    """A failure's line in the report, naming the file once."""
    text = str(e) if isinstance(e, ConvlearnError) else f"internal error: {type(e).__name__}: {e}"
    return text if source in text else f"{source}: {text}"


def _timed(done: RestoredFile, seconds: float) -> RestoredFile:
    return RestoredFile(done.source, done.output, done.shape, done.summary, seconds, done.error)
