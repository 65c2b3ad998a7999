"""``detect`` on files: read, filter and write one file, or many with decoding ahead.

:func:`detect_files` decodes the next files on background threads while the
device filters the current batch, and reports each file's fate instead of
stopping at the first failure.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch

from convlearn.detect.config import DetectConfig, check_config
from convlearn.detect.pipeline import DetectOutput, detect_batch, detect_checked
from convlearn.detect.report import BatchInterrupted, BatchReport, FileResult
from convlearn.errors import ConvlearnError, InputError
from convlearn.images import Loaded, Source, group_batches, prefetch, read_input, write_output
from convlearn.kernels import Kernel
from convlearn.runtime import resolve_device

__all__ = ["FileBatch", "detect_file", "detect_files"]

#: Called in input order with each file's result and (when kept) its values on the CPU.
OnResult = Callable[[FileResult, torch.Tensor | None], None]


def detect_file(
    path: str | os.PathLike, output: str | os.PathLike | None, kernel: Kernel, config: DetectConfig | None = None
) -> torch.Tensor:
    """Read an image, run the pipeline and (when ``output`` is given) write the result.

    Returns:
        The result, on the CPU.
    """
    cfg = check_config(config or DetectConfig())
    X = read_input(path, channels=cfg.channels, max_pixels=cfg.max_pixels, exif_orientation=not cfg.raw_orientation)
    Y = detect_checked(X, kernel, cfg).values.cpu()
    if output is not None:
        write_output(output, Y.numpy(), scale=cfg.scale, bit_depth=cfg.bit_depth, fmt=cfg.fmt)
    return Y


def detect_files(
    sources: Sequence[Source],
    outputs: Sequence[str | None],
    kernel: Kernel,
    config: DetectConfig | None = None,
    *,
    angle_outputs: Sequence[str | None] | None = None,
    on_result: OnResult | None = None,
    keep_values: bool = False,
) -> BatchReport:
    """Run the pipeline on many files: decode ahead, filter in batches, write each result.

    The next files are decoded on background threads while the device filters
    the current batch (neighbouring files of one shape, up to ``batch_size``).
    Every write is atomic, so an interrupted run leaves only complete files.

    Args:
        sources: from :func:`convlearn.images.collect_inputs`.
        outputs: one path (``-`` is stdout) or None per source, from
            :func:`convlearn.images.plan_outputs`.
        kernel: from :func:`~convlearn.kernels.parse_kernel`.
        config: see :class:`DetectConfig`.
        angle_outputs: where to write each angle (with ``config.angle``).
        on_result: called in input order, in this thread, with each file's
            result and (when ``keep_values``) its values on the CPU.
        keep_values: pass the values to ``on_result`` (for printing them).

    Returns:
        The report: one :class:`~convlearn.detect.FileResult` per source.

    Raises:
        ConvlearnError: with a single source, its own error (exit code as usual).
        BatchInterrupted: on Ctrl-C; its message names the inputs not done, and
            its ``report`` holds what was.
    """
    cfg = check_config(config or DetectConfig())
    device = resolve_device(cfg.device)
    batch = FileBatch(
        sources, outputs, kernel, cfg, device, angle_outputs=angle_outputs, on_result=on_result, keep_values=keep_values
    )
    return batch.run()


def _message(source: str, e: BaseException) -> str:
    """A failure's line in the report, naming the file once."""
    text = str(e) if isinstance(e, ConvlearnError) else f"internal error: {type(e).__name__}: {e}"
    return text if source in text else f"{source}: {text}"


def _stats(values: np.ndarray) -> tuple[float, float, float]:
    v = values.astype(np.float64, copy=False)
    return float(v.min()), float(v.max()), float(v.mean())


class FileBatch:
    """The loop behind :func:`detect_files`, for a config already checked and a device already chosen.

    ``FileBatch(...).run()`` filters every source into its output, as :func:`detect_files` documents.
    """

    def __init__(
        self,
        sources: Sequence[Source],
        outputs: Sequence[str | None],
        kernel: Kernel,
        config: DetectConfig,
        device: torch.device,
        *,
        angle_outputs: Sequence[str | None] | None = None,
        on_result: OnResult | None = None,
        keep_values: bool = False,
    ):
        if len(outputs) != len(sources):
            raise InputError(f"Got {len(outputs)} outputs for {len(sources)} inputs")
        self.sources, self.outputs = list(sources), list(outputs)
        self.angles = list(angle_outputs) if angle_outputs is not None else [None] * len(sources)
        self.kernel, self.config, self.device = kernel, config, device
        self.on_result, self.keep_values = on_result, keep_values
        self.single = len(sources) == 1  # a single file raises its own error
        self.report = BatchReport(self.sources)

    def run(self) -> BatchReport:
        """Filter every file, in batches, while the next ones decode; returns the report."""
        cfg = self.config
        stream = prefetch(self.sources, self._load, workers=0 if self.single else cfg.workers, depth=2 * cfg.batch_size)
        try:
            for group in group_batches(
                stream, max_items=cfg.batch_size, max_pixels=cfg.max_batch_pixels, shape_of=np.shape
            ):
                if group[0].error is not None:
                    self._fail(group[0], group[0].error, group[0].seconds)
                else:
                    self._run(group)
        except KeyboardInterrupt:
            stream.close()
            raise BatchInterrupted(self.report) from None
        finally:
            stream.close()
        return self.report

    def _load(self, source: Source) -> np.ndarray:
        return read_input(
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
        """A file's failure: raised alone, reported in a batch."""
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
        out = detect_batch(np.stack([it.value for it in items]), self.kernel, self.config, self.device)
        return DetectOutput(
            out.values.cpu(),
            None if out.angle is None else out.angle.cpu(),
            None if out.threshold is None else out.threshold.cpu(),
        )

    def _finish(self, item: Loaded, out: DetectOutput, k: int, share: float) -> None:
        """Write one file's result (and angle) and record it."""
        cfg = self.config
        t0 = time.perf_counter()
        values = out.values[k]
        array = values.numpy()
        target, angle_target = self.outputs[item.index], self.angles[item.index]
        written = angle_written = None
        try:
            if target is not None:
                written = write_output(target, array, scale=cfg.scale, bit_depth=cfg.bit_depth, fmt=cfg.fmt)
            if angle_target is not None and out.angle is not None:
                angle_written = write_output(angle_target, out.angle[k].numpy(), scale="auto", fmt=cfg.fmt)
        except Exception as e:
            self._fail(item, e, item.seconds + share + time.perf_counter() - t0)
            return
        lo, hi, mean = _stats(array)
        threshold = None
        if out.threshold is not None:
            ts = [float(t) for t in out.threshold[k]]
            threshold = ts[0] if len(ts) == 1 else ts
        result = FileResult(
            item.source.path,
            output=written,
            angle_output=angle_written,
            shape=tuple(array.shape),
            min=lo,
            max=hi,
            mean=mean,
            threshold=threshold,
            seconds=item.seconds + share + time.perf_counter() - t0,
        )
        self._record(result, values)
