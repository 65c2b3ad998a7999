"""The array rule of the public API: NumPy or torch in, the same type out.

Every function that ``import convlearn`` offers on images takes a NumPy array or
a torch tensor and gives back the type it was given. Each type keeps its own
habit for colour:

- a NumPy array is :math:`(H, W)` or :math:`(H, W, C)`, channels last, as
  :func:`convlearn.read_image`, OpenCV, Pillow and scikit-image hold images;
- a torch tensor is :math:`(H, W)` or :math:`(C, H, W)` (or a stack
  :math:`(B, H, W)`), channels first, as torch and torchvision hold them.

Integer arrays (``uint8`` and the like) are taken as float32 values as they
are, unscaled; :func:`convlearn.read_image` already gives values in 0..1.
Anything else (a list, a PIL image) is refused with an
:class:`~convlearn.errors.InputError` that names the function and what it takes.

The engines below work on torch planes; this module converts at the edge, once,
and back. See docs/python.md.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

from convlearn import corr, edges, images
from convlearn.detect import pipeline
from convlearn.detect.config import DetectConfig
from convlearn.errors import InputError
from convlearn.kernels import Kernel, export, is_magnitude, parse_kernel
from convlearn.learn import pairs as learn_pairs
from convlearn.learn import pipeline as learn_pipeline
from convlearn.learn.result import LearnResult
from convlearn.restore import run as restore_run
from convlearn.restore.result import RestoreResult

__all__ = [
    "apply_kernel",
    "as_kernel",
    "canny",
    "corr2d",
    "detect_image",
    "export_kernel",
    "filter2d",
    "from_planes",
    "gradient_magnitude",
    "learn_kernel",
    "restore_planes",
    "to_planes",
    "train_sgd",
    "write_image",
]

#: What every image argument may be, as the messages say it.
TAKES = "a NumPy array (H, W) or (H, W, C), or a torch tensor (H, W) or (C, H, W)"


def _as_tensor(x: Any, func: str, what: str) -> torch.Tensor:
    """``x`` as a floating tensor (no copy for a float tensor or a float NumPy array)."""
    if isinstance(x, torch.Tensor):
        return x if x.is_floating_point() else x.to(torch.float32)
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "fiub":
            raise InputError(f"{func} takes {TAKES} as {what}; got a NumPy array of {x.dtype}")
        if x.dtype.kind != "f" or x.dtype == np.float16:
            x = x.astype(np.float32)
        return torch.from_numpy(np.ascontiguousarray(x))
    raise InputError(f"{func} takes {TAKES} as {what}; got {type(x).__name__}")


def to_planes(x: Any, func: str, what: str = "the image") -> tuple[torch.Tensor, Callable[[torch.Tensor], Any]]:
    """An image as torch planes, channels first, and the function that turns a result back.

    Args:
        x: a NumPy array or a torch tensor, see the module notes.
        func: the public function's name, for the message.
        what: which argument, for the message.

    Returns:
        ``(tensor, back)``: ``back(y)`` gives ``y`` in ``x``'s type and layout
        (a NumPy array on the CPU, channels last again).

    >>> t, back = to_planes(np.zeros((4, 5, 3)), "f"); tuple(t.shape), back(t).shape
    ((3, 4, 5), (4, 5, 3))
    """
    t = _as_tensor(x, func, what)
    if isinstance(x, torch.Tensor):
        return t, lambda y: y
    last = t.dim() == 3  # NumPy colour: (H, W, C)
    if last:
        t = t.permute(2, 0, 1)  # (C, H, W)
    return t, functools.partial(from_planes, channels_last=last)


def from_planes(y: torch.Tensor, *, channels_last: bool = False) -> np.ndarray:
    """A result tensor as a NumPy array on the CPU, channels moved last when the input had them last."""
    y = y.detach().cpu()
    if channels_last and y.dim() == 3:
        y = y.permute(1, 2, 0)
    return y.contiguous().numpy()


def _kernel_tensor(K: Any, func: str) -> torch.Tensor:
    """A kernel weight: a tensor, a NumPy array, nested lists of numbers, or a :class:`Kernel`."""
    if isinstance(K, Kernel):
        K = K.weight
    if isinstance(K, list | tuple):
        try:
            K = np.asarray(K, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"{func} takes a kernel of numbers; got {K!r}") from None
    return _as_tensor(K, func, "the kernel")


def as_kernel(kernel: Any, func: str) -> Kernel:
    """A :class:`Kernel` from a Kernel, a spec, a learn result, or a weight (array or tensor).

    >>> as_kernel(np.array([[1.0, -1.0]]), "f").weight.tolist(), as_kernel("edge", "f").name
    ([[1.0, -1.0]], 'edge')
    """
    if isinstance(kernel, Kernel):
        return kernel
    if isinstance(kernel, str):
        return parse_kernel(kernel)
    if isinstance(kernel, LearnResult):
        return kernel.kernel
    if isinstance(kernel, torch.Tensor | np.ndarray):
        weight = kernel.detach().cpu().numpy() if isinstance(kernel, torch.Tensor) else kernel
        return Kernel(np.array(weight, dtype=np.float64))
    raise InputError(
        f"{func} takes a Kernel, a kernel spec such as 'sobel-x', a LearnResult or a weight "
        f"(NumPy array or torch tensor); got {type(kernel).__name__}"
    )


@functools.wraps(corr.corr2d)
def corr2d(X: Any, K: Any, *, strategy: str = "auto") -> Any:
    x, back = to_planes(X, "corr2d")
    return back(corr.corr2d(x, _kernel_tensor(K, "corr2d").to(x.dtype), strategy=strategy))


@functools.wraps(corr.filter2d)
def filter2d(X: Any, K: Any, **options: Any) -> Any:
    x, back = to_planes(X, "filter2d")
    return back(corr.filter2d(x, _kernel_tensor(K, "filter2d").to(x.dtype), **options))


@functools.wraps(edges.canny)
def canny(X: Any, low: float, high: float, sigma: float = 1.0) -> Any:
    x, back = to_planes(X, "canny")
    return back(edges.canny(x, low, high, sigma))


@functools.wraps(edges.gradient_magnitude)
def gradient_magnitude(gx: Any, gy: Any) -> Any:
    x, back = to_planes(gx, "gradient_magnitude", "gx")
    y, _ = to_planes(gy, "gradient_magnitude", "gy")
    return back(edges.gradient_magnitude(x, y))


@functools.wraps(pipeline.apply_kernel)
def apply_kernel(image: Any, kernel: Any, config: DetectConfig | None = None) -> Any:
    x, back = to_planes(image, "apply_kernel")
    k = as_kernel(kernel, "apply_kernel")
    if is_magnitude(k):
        raise InputError(
            f"apply_kernel correlates with one kernel; {k.name!r} is a gradient magnitude: "
            f"use detect_image(image, {k.name!r})"
        )
    return back(pipeline.apply_kernel(x, k, config))


@functools.wraps(pipeline.detect_image)
def detect_image(image: Any, kernel: Any, config: DetectConfig | None = None) -> pipeline.DetectOutput:
    _as_tensor(image, "detect_image", "the image")  # the type check, with this function's name
    out = pipeline.detect_image(image, as_kernel(kernel, "detect_image"), config)
    if isinstance(image, torch.Tensor):
        return out
    parts = (out.values, out.angle, out.threshold)
    return pipeline.DetectOutput(*(None if v is None else from_planes(v) for v in parts))


def _pairs(pairs: Iterable[Any] | None, func: str) -> Iterable[Any] | None:
    """Pairs with NumPy parts as torch planes (channels first), checked one by one as they stream."""
    if pairs is None or isinstance(pairs, learn_pairs.PairFiles):
        return pairs
    return (_pair(p, func) for p in pairs)


def _pair(p: Any, func: str) -> learn_pairs.Pair:
    if not isinstance(p, learn_pairs.Pair):
        raise InputError(f"{func} takes Pair(input, target) items; got {type(p).__name__}")
    x, _ = to_planes(p.input, f"{func}'s Pair", "the input")
    y, _ = to_planes(p.target, f"{func}'s Pair", "the target")
    mask = p.mask if p.mask is None or isinstance(p.mask, torch.Tensor) else torch.from_numpy(np.asarray(p.mask))
    return learn_pairs.Pair(x, y, p.input_name, p.target_name, mask)


@functools.wraps(learn_pipeline.learn_kernel)
def learn_kernel(pairs: Iterable[Any] | None = None, config: Any = None, hooks: Any = None) -> LearnResult:
    return learn_pipeline.learn_kernel(_pairs(pairs, "learn_kernel"), config, hooks)


@functools.wraps(learn_pipeline.train_sgd)
def train_sgd(pairs: Iterable[Any] | None = None, config: Any = None, hooks: Any = None) -> LearnResult:
    return learn_pipeline.train_sgd(_pairs(pairs, "train_sgd"), config, hooks)


@functools.wraps(export.export_kernel)
def export_kernel(kernel: Any, tool: str, **options: Any) -> str:
    return export.export_kernel(as_kernel(kernel, "export_kernel"), tool, **options)


@functools.wraps(images.write_image)
def write_image(path: Any, values: Any, **options: Any) -> Any:
    if isinstance(values, torch.Tensor):
        values = from_planes(values, channels_last=True)  # (C, H, W) -> (H, W, C), as the files hold it
    elif not isinstance(values, np.ndarray):
        raise InputError(f"write_image takes {TAKES} as the values; got {type(values).__name__}")
    return images.write_image(path, values, **options)


@functools.wraps(restore_run.restore_planes)
def restore_planes(planes: Any, kernel: Any, **options: Any) -> RestoreResult:
    x, back = to_planes(planes, "restore_planes", "the planes")
    out = restore_run.restore_planes(x, as_kernel(kernel, "restore_planes"), **options)
    return RestoreResult(back(out.planes), out.reports)
