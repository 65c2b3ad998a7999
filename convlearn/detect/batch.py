"""The batch runner behind :func:`~convlearn.detect.run_detect`: read, filter and write many files as a pipeline.

:func:`run_batch` overlaps three stages: the next files decode on background
threads, the device filters the current batch, and the results before it encode
on other threads (Pillow, zlib and torch release the GIL). Only a few files are
in flight at once, so memory stays bounded; the files are written, and reported,
in input order, each file's fate on its own instead of stopping at the first failure.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import torch

from convlearn.detect.config import DetectConfig
from convlearn.detect.pipeline import DetectOutput, detect_stack
from convlearn.detect.report import BatchInterrupted, BatchReport, FileResult
from convlearn.errors import ConvlearnError, InputError
from convlearn.files import Source, write_encoded
from convlearn.images import Loaded, group_batches, prefetch
from convlearn.images.stdio import encode_output, read_input
from convlearn.kernels import Kernel

__all__ = ["OnResult", "run_batch"]

#: Called in input order with each file's result and (when kept) its values on the CPU.
OnResult = Callable[[FileResult, torch.Tensor | None], None]
#: Results encoding at once on their own threads, beyond those waiting to be written.
ENCODERS = 2
#: On the CPU, a batch holds at most this many values beyond its first image. Stacking is
#: one more copy of every image (about 0.1 s per 12 MP photo on the 2-core sandbox) and buys
#: nothing for a large image, which the engines cut into cache-sized tiles anyway.
CPU_BATCH_PIXELS = 1 << 20


def _encoding(cfg: DetectConfig) -> dict:
    """write_output's settings from the config."""
    return {"scale": cfg.scale, "bit_depth": cfg.bit_depth, "fmt": cfg.fmt, "png_compression": cfg.png_compression}


def run_batch(
    sources: Sequence[Source],
    outputs: Sequence[str | None],
    kernel: Kernel,
    config: DetectConfig,
    device: torch.device,
    *,
    angle_outputs: Sequence[str | None] | None = None,
    on_result: OnResult | None = None,
    keep_values: bool = False,
    ready: dict[int, tuple] | None = None,
) -> BatchReport:
    """Run the pipeline on many files: decode ahead, filter in batches, write each result.

    The next files are decoded on background threads while the device filters
    the current batch (neighbouring files of one shape, up to ``batch_size``).
    Every write is atomic, so an interrupted run leaves only complete files.

    Args:
        sources: from :func:`convlearn.files.collect_inputs`.
        outputs: one path (``-`` is stdout) or None per source, from
            :func:`convlearn.files.plan_outputs`.
        kernel: from :func:`~convlearn.kernels.parse_kernel`.
        config: from :func:`~convlearn.detect.check_config`.
        device: from :func:`~convlearn.runtime.resolve_device`.
        angle_outputs: where to write each angle (with ``config.angle``).
        on_result: called in input order, in this thread, with each file's
            result and (when ``keep_values``) its values on the CPU.
        keep_values: pass the values to ``on_result`` (for printing them).
        ready: inputs decoded already, ``{id(source): (value, error)}``: the first
            one, decoded while torch was imported (see :func:`~convlearn.detect.run_detect`).

    Returns:
        The report: one :class:`~convlearn.detect.FileResult` per source.

    Raises:
        ConvlearnError: with a single source, its own error (exit code as usual).
        BatchInterrupted: on Ctrl-C; its message names the inputs not done, and
            its ``report`` holds what was.
    """
    if len(outputs) != len(sources):
        raise InputError(f"Got {len(outputs)} outputs for {len(sources)} inputs")
    angles = list(angle_outputs) if angle_outputs is not None else [None] * len(sources)
    batch = _Batch(list(sources), list(outputs), angles, kernel, config, device, on_result, keep_values)
    batch.ready = dict(ready or {})
    return batch.run()


def _message(source: str, e: BaseException) -> str:
    """A failure's line in the report, naming the file once."""
    text = str(e) if isinstance(e, ConvlearnError) else f"internal error: {type(e).__name__}: {e}"
    return text if source in text else f"{source}: {text}"


def _done(
    source: str,
    values: torch.Tensor,
    threshold: torch.Tensor | None,
    output: str | None,
    angle_output: str | None,
    seconds: float,
) -> FileResult:
    """A file's result: where it went, and its values' shape, range and mean."""
    array = values.numpy()
    ts = None if threshold is None else [float(t) for t in threshold]
    return FileResult(
        source,
        output=output,
        angle_output=angle_output,
        shape=tuple(values.shape),
        min=float(array.min()),
        max=float(array.max()),
        mean=float(array.mean(dtype=np.float64)),
        threshold=None if ts is None else ts[0] if len(ts) == 1 else ts,
        seconds=seconds,
    )


class _Batch:
    """The loop behind :func:`run_batch`: its arguments, the report so far, the results still encoding."""

    def __init__(
        self,
        sources: list[Source],
        outputs: list[str | None],
        angles: list[str | None],
        kernel: Kernel,
        config: DetectConfig,
        device: torch.device,
        on_result: OnResult | None,
        keep_values: bool,
    ):
        self.sources, self.outputs, self.angles = sources, outputs, angles
        self.kernel, self.config, self.device = kernel, config, device
        self.on_result, self.keep_values = on_result, keep_values
        self.single = len(sources) == 1  # a single file raises its own error
        self.report = BatchReport(self.sources)
        self.ready: dict[int, tuple] = {}  # inputs decoded before the batch started

    def run(self) -> BatchReport:
        """Filter every file, in batches, while the next ones decode and the last ones encode; returns the report."""
        cfg = self.config
        workers = 0 if self.single else cfg.workers
        stream = prefetch(self.sources, self._load, workers=workers, depth=cfg.batch_size + workers)
        self._pending: deque[tuple[Loaded, torch.Tensor, torch.Tensor | None, float, Future]] = deque()
        self._encoder = None if self.single else ThreadPoolExecutor(ENCODERS, thread_name_prefix="convlearn-encode")
        max_pixels = cfg.max_batch_pixels if self.device.type != "cpu" else min(cfg.max_batch_pixels, CPU_BATCH_PIXELS)
        try:
            for group in group_batches(stream, max_items=cfg.batch_size, max_pixels=max_pixels, shape_of=np.shape):
                if group[0].error is not None:
                    self._fail(group[0], group[0].error, group[0].seconds)
                else:
                    self._run(group)
            self._drain(0)
        except KeyboardInterrupt:
            stream.close()
            try:
                self._drain(0)  # the files already filtered are written and reported
            except KeyboardInterrupt:
                pass
            raise BatchInterrupted(self.report) from None
        finally:
            stream.close()
            if self._encoder is not None:
                self._encoder.shutdown(wait=True, cancel_futures=True)
        return self.report

    def _load(self, source: Source) -> np.ndarray:
        if id(source) in self.ready:
            value, error = self.ready.pop(id(source))
            if error is not None:
                raise error
            return value
        return read_input(  # as run.decode_input, which decodes the first input while torch imports
            source.path,
            channels=self.config.channels,
            max_pixels=self.config.max_pixels,
            exif_orientation=not self.config.raw_orientation,
        )

    def _record(self, result: FileResult, values: torch.Tensor | None = None) -> None:
        self.report.results.append(result)
        if self.on_result is not None:
            self.on_result(result, values if self.keep_values else None)

    def _fail(self, item: Loaded, error: BaseException, seconds: float) -> None:
        """A file's failure, after the files before it: raised alone, reported in a batch."""
        self._drain(0)
        self._failed(item, error, seconds)

    def _failed(self, item: Loaded, error: BaseException, seconds: float) -> None:
        if self.single:
            raise error
        self._record(FileResult(item.source.path, error=_message(item.source.path, error), seconds=seconds))

    def _run(self, items: list[Loaded]) -> None:
        """Filter a batch; when it fails, each file again alone (to find the culprit, or to fit in memory)."""
        t0 = time.perf_counter()
        try:
            out = self._compute(items)
        except Exception as e:
            if len(items) == 1:
                self._fail(items[0], e, items[0].seconds + time.perf_counter() - t0)
                return
            for it in items:
                self._run([it])
            return
        share = (time.perf_counter() - t0) / len(items)
        for k, it in enumerate(items):
            self._finish(it, out, k, share)

    def _compute(self, items: list[Loaded]) -> DetectOutput:
        images = items[0].value[None] if len(items) == 1 else np.stack([it.value for it in items])
        out = detect_stack(images, self.kernel, self.config, self.device)
        return DetectOutput(
            out.values.cpu(),
            None if out.angle is None else out.angle.cpu(),
            None if out.threshold is None else out.threshold.cpu(),
        )

    def _finish(self, item: Loaded, out: DetectOutput, k: int, share: float) -> None:
        """Queue one file's result (and angle) for encoding; write and record those ready, in order."""
        values = out.values[k]
        angle = out.angle[k] if out.angle is not None and self.angles[item.index] is not None else None
        threshold = None if out.threshold is None else out.threshold[k]
        if self._encoder is not None:
            job = self._encoder.submit(self._encode, item, values, angle)
        else:
            job = Future()
            try:
                job.set_result(self._encode(item, values, angle))
            except Exception as e:
                job.set_exception(e)
        self._pending.append((item, values, threshold, share, job))
        self._drain(ENCODERS)

    def _encode(self, item: Loaded, values: torch.Tensor, angle: torch.Tensor | None) -> tuple:
        """The bytes of one file's output and angle (None where not written), and the seconds it took."""
        t0 = time.perf_counter()
        cfg = self.config
        target, angle_target = self.outputs[item.index], self.angles[item.index]
        data = None if target is None else encode_output(target, values.numpy(), **_encoding(cfg))
        angle_data = None
        if angle is not None:  # radians: an 8-bit picture in the auto scale
            settings = _encoding(cfg) | {"scale": "auto", "bit_depth": 8}
            angle_data = encode_output(angle_target, angle.numpy(), **settings)
        return data, angle_data, time.perf_counter() - t0

    def _drain(self, keep: int) -> None:
        """Write and record the oldest results, in input order, until at most ``keep`` are still encoding."""
        while len(self._pending) > keep:
            item, values, threshold, share, job = self._pending.popleft()
            t0 = time.perf_counter()
            try:
                data, angle_data, encoding = job.result()
                written = None if data is None else write_encoded(self.outputs[item.index], data)
                angle_written = None if angle_data is None else write_encoded(self.angles[item.index], angle_data)
            except KeyboardInterrupt:
                self._pending.clear()  # Ctrl-C during a write: nothing after it is written
                raise
            except Exception as e:
                self._failed(item, e, item.seconds + share + time.perf_counter() - t0)
                continue
            seconds = item.seconds + share + encoding + time.perf_counter() - t0
            result = _done(item.source.path, values, threshold, written, angle_written, seconds)
            self._record(result, values)
