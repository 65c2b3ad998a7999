"""Applying a kernel to images: the library behind ``convlearn detect``.

One pipeline, the same for one image or thousands:

1. the image, as luma or as R, G and B planes (``channels``);
2. the kernel by correlation (:func:`~convlearn.corr.filter2d`: no kernel
   flip), or a gradient pair's magnitude ``sqrt(gx² + gy²)`` (``magnitude``),
   or Canny's edges (``canny``, see :mod:`convlearn.edges`);
3. optionally a threshold, a number or Otsu's, into a binary map.

:func:`detect_image` runs it on one array; :func:`detect_files` runs it on many
files, decoding the next ones on background threads while the device filters
the current batch, and reports each file's fate instead of stopping at the first failure.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from convlearn.corr import BORDERS, MODES, filter2d
from convlearn.detect.report import BatchReport, FileResult
from convlearn.errors import ConvlearnError, InputError, Interrupted, invalid_choice
from convlearn.images import (
    CHANNELS,
    DEFAULT_MAX_PIXELS,
    OUTPUT_FORMATS,
    SCALES,
    Loaded,
    Source,
    group_batches,
    prefetch,
    read_input,
    write_output,
)
from convlearn.kernels import Kernel, gradient_pair

__all__ = [
    "DetectConfig",
    "DetectOutput",
    "apply_kernel",
    "check_config",
    "default_tag",
    "detect_file",
    "detect_files",
    "detect_image",
    "detect_planes",
]


@dataclass(frozen=True)
class DetectConfig:
    """How ``detect`` filters. Defaults are the notebook's corr2d on a luma image."""

    mode: str = "valid"  # valid: the notebook's output shape
    border: str = "zero"  # only used by mode "same"; zero: like nn.Conv2d's padding
    device: str = "auto"
    scale: str = "auto"  # picture mapping for .png output, see images.SCALES
    bit_depth: int = 8
    max_pixels: int | None = DEFAULT_MAX_PIXELS
    channels: str = "luma"  # the core issue's default; "each" filters R, G and B apart
    magnitude: bool = False  # sqrt(gx² + gy²) of the kernel's gradient pair
    angle: bool = False  # also compute atan2(gy, gx) (needs magnitude or canny)
    threshold: float | str | None = None  # a number, "otsu", or None for the raw values
    canny: tuple[float, float] | None = None  # (low, high) on the gradient magnitude
    sigma: float = 1.0  # Canny's Gaussian: skimage.feature.canny's default
    fmt: str = "png"  # format for stdout and for directories of outputs
    batch_size: int = 8  # files stacked per trip to the device
    workers: int = 2  # decoding threads; 0 decodes in the calling thread
    max_batch_pixels: int = 1 << 25  # 32 Mi values (128 MiB of float32) per batch at most


@dataclass(frozen=True)
class DetectOutput:
    """The result for a stack of planes, or for one image (see :func:`detect_image`)."""

    values: torch.Tensor  # the filtered image, edge map or magnitude
    angle: torch.Tensor | None = None  # atan2(gy, gx), when asked for
    threshold: torch.Tensor | None = None  # the threshold used per plane, when asked for


def check_config(config: DetectConfig) -> DetectConfig:
    """Check every choice at once, before any file is read; returns the config, normalised.

    Raises:
        InputError: a bad choice, or options that do not go together.
    """
    from convlearn.edges import parse_canny, parse_threshold

    c = config
    for what, value, choices in [
        ("mode", c.mode, MODES),
        ("border", c.border, BORDERS),
        ("scale", c.scale, SCALES),
        ("channels", c.channels, CHANNELS),
        ("format", c.fmt, OUTPUT_FORMATS),
    ]:
        if value not in choices:
            raise invalid_choice(what, value, choices)
    if c.bit_depth not in (8, 16):
        raise invalid_choice("bit depth", c.bit_depth, ["8", "16"])
    if c.bit_depth == 16 and c.channels == "each":
        raise InputError("--bit-depth 16 writes one plane; with --channels each write .npy or 8-bit .png")
    if c.batch_size < 1 or c.workers < 0:
        raise InputError(f"Invalid batch size {c.batch_size} or workers {c.workers}; need >= 1 and >= 0")
    threshold = None if c.threshold is None else parse_threshold(c.threshold)
    canny = None
    if c.canny is not None:
        canny = parse_canny(",".join(map(str, c.canny))) if not isinstance(c.canny, str) else parse_canny(c.canny)
        if c.magnitude:
            raise InputError("--canny computes its own gradient magnitude; drop --magnitude")
        if threshold is not None:
            raise InputError("--canny already gives a binary edge map; drop --threshold")
        if not math.isfinite(c.sigma) or c.sigma < 0:
            raise InputError(f"Invalid --sigma {c.sigma}. Expected a number >= 0 (0: no smoothing)")
    if c.angle and not (c.magnitude or canny):
        raise InputError("--angle is the direction of a gradient pair: add --magnitude or --canny")
    return replace(c, threshold=threshold, canny=canny)


def apply_kernel(image: torch.Tensor | np.ndarray, kernel: Kernel, config: DetectConfig | None = None) -> torch.Tensor:
    """Correlate an image with a kernel (plus its bias, if it has one).

    Args:
        image: float image.
        kernel: from :func:`convlearn.kernels.parse_kernel`.
        config: mode, border and device.

    Returns:
        float32 result on the chosen device.

    Shape:
        - image: :math:`(H, W)` or :math:`(B, H, W)`
        - Output: ``valid``: :math:`(..., H - h + 1, W - w + 1)`; ``same``: the image's shape

    >>> from convlearn.kernels import parse_kernel
    >>> apply_kernel(torch.tensor([[0.0, 1.0, 1.0]]), parse_kernel("edge")).tolist()
    [[-1.0, 0.0]]
    """
    from convlearn.runtime.device import resolve_device

    cfg = config or DetectConfig()
    device = resolve_device(cfg.device)
    X = torch.as_tensor(image).to(device=device, dtype=torch.float32)
    return _correlate(X, kernel, cfg)


def _correlate(X: torch.Tensor, kernel: Kernel, cfg: DetectConfig) -> torch.Tensor:
    K = torch.from_numpy(kernel.weight).to(device=X.device, dtype=X.dtype)
    Y = filter2d(X, K, mode=cfg.mode, border=cfg.border, anchor=kernel.anchor)
    if kernel.bias is not None:
        Y = Y + kernel.bias
    return Y


def detect_planes(X: torch.Tensor, kernel: Kernel, config: DetectConfig | None = None) -> DetectOutput:
    """The whole ``detect`` pipeline on a stack of planes already on the device.

    Args:
        X: float planes.
        kernel: the kernel (unused by Canny, which has its own Gaussian and Sobel).
        config: see :class:`DetectConfig`.

    Returns:
        The values (and the angle and thresholds when asked for), on X's device.

    Shape:
        - X: :math:`(N, H, W)`
        - Output: ``valid``: :math:`(N, H - h + 1, W - w + 1)`; ``same`` and Canny: :math:`(N, H, W)`.
          With ``magnitude`` in ``valid`` mode the pair's outputs are cut to their
          common top-left part (``edge``/``edge-t``: :math:`(N, H - 1, W - 1)`).

    >>> from convlearn.kernels import parse_kernel
    >>> cfg = DetectConfig(magnitude=True)
    >>> detect_planes(torch.tensor([[[0.0, 3.0], [4.0, 0.0]]]), parse_kernel("edge"), cfg).values
    tensor([[[5.]]])
    """
    from convlearn import edges

    cfg = config or DetectConfig()
    gx = gy = None
    if cfg.canny is not None:
        low, high = cfg.canny
        parts = edges.canny_parts(X, low, high, cfg.sigma)
        Y, gx, gy = parts.edges, parts.gx, parts.gy
    elif cfg.magnitude:
        kx, ky = gradient_pair(kernel)
        gx, gy = _correlate(X, kx, cfg), _correlate(X, ky, cfg)
        h, w = min(gx.shape[-2], gy.shape[-2]), min(gx.shape[-1], gy.shape[-1])
        gx, gy = gx[..., :h, :w], gy[..., :h, :w]  # valid mode, unequal shapes: the common top-left part
        Y = edges.gradient_magnitude(gx, gy)
    else:
        Y = _correlate(X, kernel, cfg)
    angle = edges.gradient_angle(gx, gy) if cfg.angle and gx is not None else None
    thresholds = None
    if cfg.threshold is not None:
        Y, thresholds = edges.apply_threshold(Y, cfg.threshold)
    return DetectOutput(Y, angle, thresholds)


def _to_planes(batch: np.ndarray, channels: str) -> np.ndarray:
    """(B, H, W) stays; (B, H, W, 3) becomes (B*3, H, W)."""
    if channels == "each":
        B, H, W, C = batch.shape
        return np.ascontiguousarray(batch.transpose(0, 3, 1, 2).reshape(B * C, H, W))
    return batch


def _from_planes(Y: torch.Tensor | None, B: int, channels: str) -> torch.Tensor | None:
    """Undo :func:`_to_planes`: (B*3, h, w) becomes (B, h, w, 3)."""
    if Y is None or channels != "each":
        return Y
    return Y.reshape(B, 3, *Y.shape[-2:]).permute(0, 2, 3, 1)


def detect_image(image: np.ndarray | torch.Tensor, kernel: Kernel, config: DetectConfig | None = None) -> DetectOutput:
    """Run the ``detect`` pipeline on one image.

    Args:
        image: float image, one plane, or three (R, G, B) with ``channels="each"``.
        kernel: from :func:`~convlearn.kernels.parse_kernel`.
        config: see :class:`DetectConfig`.

    Returns:
        The result on the device; colour results are :math:`(h, w, 3)`.

    Shape:
        - image: :math:`(H, W)`, or :math:`(H, W, 3)` with ``channels="each"``
        - Output: :math:`(h, w)` or :math:`(h, w, 3)`

    >>> from convlearn.kernels import parse_kernel
    >>> detect_image(np.array([[0.0, 1.0, 1.0]]), parse_kernel("edge")).values
    tensor([[-1.,  0.]])
    """
    from convlearn.runtime.device import resolve_device

    cfg = check_config(config or DetectConfig())
    array = np.asarray(image.cpu() if isinstance(image, torch.Tensor) else image, dtype=np.float32)
    want = 3 if cfg.channels == "each" else 2
    if array.ndim != want or (want == 3 and array.shape[-1] != 3):
        form = "(H, W, 3)" if want == 3 else "(H, W)"
        raise InputError(f"With channels={cfg.channels!r} the image must be {form}, got {array.shape}")
    device = resolve_device(cfg.device)
    X = torch.from_numpy(_to_planes(array[None], cfg.channels)).to(device)  # (N, H, W)
    with torch.no_grad():
        out = detect_planes(X, kernel, cfg)
    return DetectOutput(
        _from_planes(out.values, 1, cfg.channels)[0],
        None if out.angle is None else _from_planes(out.angle, 1, cfg.channels)[0],
        out.threshold,
    )


def detect_file(
    path: str | os.PathLike, output: str | os.PathLike | None, kernel: Kernel, config: DetectConfig | None = None
) -> torch.Tensor:
    """Read an image, run the pipeline and (when ``output`` is given) write the result.

    Returns:
        The result, on the CPU.
    """
    cfg = check_config(config or DetectConfig())
    X = read_input(path, channels=cfg.channels, max_pixels=cfg.max_pixels)
    Y = detect_image(X, kernel, cfg).values.cpu()
    if output is not None:
        write_output(output, Y.numpy(), scale=cfg.scale, bit_depth=cfg.bit_depth, fmt=cfg.fmt)
    return Y


def _message(source: str, e: BaseException) -> str:
    """A failure's line in the report, naming the file once."""
    text = str(e) if isinstance(e, ConvlearnError) else f"internal error: {type(e).__name__}: {e}"
    return text if source in text else f"{source}: {text}"


def _stats(values: np.ndarray) -> tuple[float, float, float]:
    v = values.astype(np.float64, copy=False)
    return float(v.min()), float(v.max()), float(v.mean())


def detect_files(
    sources: Sequence[Source],
    outputs: Sequence[str | None],
    kernel: Kernel,
    config: DetectConfig | None = None,
    *,
    angle_outputs: Sequence[str | None] | None = None,
    on_result: Callable[[FileResult, torch.Tensor | None], None] | None = None,
    keep_values: bool = False,
) -> BatchReport:
    """Run the pipeline on many files: decode ahead, filter in batches, write each result.

    The next files are decoded on background threads while the device filters
    the current batch (neighbouring files of one shape, up to ``batch_size``).
    Every write is atomic, so an interrupted run leaves only complete files.

    Args:
        sources: from :func:`convlearn.images.batch.collect_inputs`.
        outputs: one path (``-`` is stdout) or None per source, from
            :func:`convlearn.images.batch.plan_outputs`.
        kernel: from :func:`~convlearn.kernels.parse_kernel`.
        config: see :class:`DetectConfig`.
        angle_outputs: where to write each angle (with ``config.angle``).
        on_result: called in input order, in this thread, with each file's
            result and (when ``keep_values``) its values on the CPU.
        keep_values: pass the values to ``on_result`` (for printing them).

    Returns:
        The report: one :class:`~convlearn.images.batch.FileResult` per source.

    Raises:
        ConvlearnError: with a single source, its own error (exit code as usual).
        Interrupted: on Ctrl-C; its message names the inputs not done, and its
            ``report`` attribute holds what was.
    """
    from convlearn.runtime.device import resolve_device

    cfg = check_config(config or DetectConfig())
    device = resolve_device(cfg.device)
    if len(outputs) != len(sources):
        raise InputError(f"Got {len(outputs)} outputs for {len(sources)} inputs")
    angles = list(angle_outputs) if angle_outputs is not None else [None] * len(sources)
    report = BatchReport(list(sources))
    single = len(sources) == 1

    def load(source: Source) -> np.ndarray:
        return read_input(source.path, channels=cfg.channels, max_pixels=cfg.max_pixels)

    def record(result: FileResult, values: torch.Tensor | None = None) -> None:
        report.results.append(result)
        if on_result is not None:
            on_result(result, values if keep_values else None)

    def fail(item: Loaded, error: BaseException, seconds: float) -> None:
        if single:
            raise error
        record(FileResult(item.source.path, error=_message(item.source.path, error), seconds=seconds))

    def compute(items: list[Loaded]) -> DetectOutput:
        batch = np.stack([it.value for it in items])  # (B, H, W) or (B, H, W, 3)
        X = torch.from_numpy(_to_planes(batch, cfg.channels)).to(device)  # (N, H, W)
        with torch.no_grad():
            out = detect_planes(X, kernel, cfg)
        return DetectOutput(
            _from_planes(out.values, len(items), cfg.channels).cpu(),
            None if out.angle is None else _from_planes(out.angle, len(items), cfg.channels).cpu(),
            None if out.threshold is None else out.threshold.reshape(len(items), -1).cpu(),
        )

    def finish(item: Loaded, out: DetectOutput, k: int, share: float) -> None:
        t0 = time.perf_counter()
        values = out.values[k]
        array = values.numpy()
        target, angle_target = outputs[item.index], angles[item.index]
        written = angle_written = None
        try:
            if target is not None:
                written = write_output(target, array, scale=cfg.scale, bit_depth=cfg.bit_depth, fmt=cfg.fmt)
            if angle_target is not None and out.angle is not None:
                angle_written = write_output(angle_target, out.angle[k].numpy(), scale="auto", fmt=cfg.fmt)
        except Exception as e:
            fail(item, e, item.seconds + share + time.perf_counter() - t0)
            return
        lo, hi, mean = _stats(array)
        threshold = None
        if out.threshold is not None:
            ts = [float(t) for t in out.threshold[k]]
            threshold = ts[0] if len(ts) == 1 else ts
        seconds = item.seconds + share + time.perf_counter() - t0
        result = FileResult(
            item.source.path, written, angle_written, tuple(array.shape), lo, hi, mean, threshold, seconds
        )
        record(result, values)

    def run(items: list[Loaded]) -> None:
        t0 = time.perf_counter()
        try:
            out = compute(items)
        except Exception as e:
            if len(items) == 1:
                fail(items[0], e, items[0].seconds + time.perf_counter() - t0)
                return
            for it in items:  # find the culprit (or fit in memory) one file at a time
                run([it])
            return
        share = (time.perf_counter() - t0) / len(items)
        for k, it in enumerate(items):
            finish(it, out, k, share)

    stream = prefetch(sources, load, workers=0 if single else cfg.workers, depth=2 * cfg.batch_size)
    try:
        shape_of = np.shape
        for group in group_batches(
            stream, max_items=cfg.batch_size, max_pixels=cfg.max_batch_pixels, shape_of=shape_of
        ):
            if group[0].error is not None:
                fail(group[0], group[0].error, group[0].seconds)
            else:
                run(group)
    except KeyboardInterrupt:
        stream.close()
        error = Interrupted(report.interrupted_message())
        error.report = report  # type: ignore[attr-defined]
        raise error from None
    finally:
        stream.close()
    return report


def default_tag(kernel: Kernel, config: DetectConfig) -> str:
    """The ``TAG`` of default output names ``STEM_TAG.png``: what was computed.

    >>> from convlearn.kernels import parse_kernel
    >>> default_tag(parse_kernel("sobel-x"), DetectConfig(magnitude=True, threshold="otsu"))
    'sobel-x-mag-otsu'
    >>> default_tag(parse_kernel("3x3: 0 1 0 1 -4 1 0 1 0"), DetectConfig())
    'magick'
    """
    if config.canny is not None:
        return "canny"
    from convlearn.kernels import KERNELS

    name = kernel.name
    if name.split(":", 1)[0] not in KERNELS and name != "inline":
        # A kernel file gives its stem; an ImageMagick string would make a poor file name.
        name = Path(name).stem if Path(name).suffix.lower() in (".json", ".npy") else "magick"
    tag = name.replace(":", "-").replace(",", "-")
    if config.magnitude:
        tag += "-mag"
    if config.threshold is not None:
        tag += "-otsu" if config.threshold == "otsu" else "-bin"
    return tag
