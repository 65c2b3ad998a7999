"""Which engine computes corr2d, and the dispatch to it.

Without autograd the engine is picked by a cost model (:func:`choose_strategy`)
or asked for, sized into tiles (:mod:`convlearn.corr.tiling`), and run again
in smaller tiles when the device runs out of memory. With autograd the FFT and
conv2d run as differentiable torch ops, the others as the differentiable
shift-add.
"""

from __future__ import annotations

import math

import torch

from convlearn.corr.config import STRATEGIES
from convlearn.corr.planes import as_images, check_kernel
from convlearn.corr.table import ENGINES, FFT_COST_TAPS, FUSED_MIN_OUTPUTS, Engine
from convlearn.corr.threads import on_worker
from convlearn.errors import InputError, OutOfMemoryError, is_device_out_of_memory

__all__ = ["FFT_COST_TAPS", "FUSED_MIN_OUTPUTS", "STRATEGIES", "choose_strategy", "compute", "differentiable"]


def choose_strategy(X: torch.Tensor, K: torch.Tensor) -> str:
    """The strategy ``corr2d(X, K)`` uses with ``strategy="auto"`` and no gradient.

    A cost model in shift-add taps per output pixel: ``direct`` costs ``h * w``,
    ``separable`` ``rank * (h + w)`` (only for kernels at least 2x2), ``fft``
    a constant per device (``FFT_COST_TAPS``); the cheapest wins. An image
    holding inf or NaN always gets ``direct``, which puts them where the
    notebook's loop does (the FFT spreads them over a strip). On CUDA a
    direct sum runs as the fused, compiled shift-add when ``torch.compile``
    works and the output has at least ``FUSED_MIN_OUTPUTS`` pixels, and as
    cuDNN's ``conv2d`` otherwise.

    Args:
        X: image(s), as for :func:`~convlearn.corr.corr2d`.
        K: kernel :math:`(h, w)`.

    Returns:
        One of ``direct``, ``separable``, ``fft``, ``conv2d``.

    >>> choose_strategy(torch.zeros(64, 64), torch.ones(3, 3))  # a box: rank 1
    'separable'
    >>> choose_strategy(torch.zeros(64, 64), torch.randn(3, 3))
    'direct'
    >>> choose_strategy(torch.zeros(64, 64), torch.randn(15, 15))
    'fft'
    """
    Xb, _ = as_images(X)
    K = check_kernel(Xb, K)
    return _choose(Xb, K)


def _choose(Xb: torch.Tensor, K: torch.Tensor) -> str:
    """The cheapest engine of :data:`~convlearn.corr.table.ENGINES` for these inputs (ties: the first)."""
    costs = {}
    for engine in ENGINES.values():
        if engine.devices is not None and Xb.device.type not in engine.devices:
            continue
        if engine.dtypes is not None and Xb.dtype not in engine.dtypes:
            continue
        cost = engine.cost(Xb, K)
        if cost is not None:
            costs[engine.name] = cost
    best = min(costs, key=costs.__getitem__)
    # An inexact engine would spread an inf or NaN (the FFT over its whole strip;
    # the separable passes can turn inf into NaN). The sum finds them in one pass
    # with no temporary (a finite image whose sum overflows also goes exact: fine).
    if not ENGINES[best].exact and not math.isfinite(on_worker(lambda: float(Xb.sum()), Xb.device)):
        best = min((n for n in costs if ENGINES[n].exact), key=costs.__getitem__)
    return best


def _engine(Xb: torch.Tensor, strategy: str) -> Engine:
    """The engine asked for, if it computes in the image's dtype."""
    engine = ENGINES[strategy]
    if engine.dtypes is not None and Xb.dtype not in engine.dtypes:
        names = " or ".join(str(d).removeprefix("torch.") for d in engine.dtypes)
        raise InputError(f"Strategy {strategy!r} needs a {names} image, got {Xb.dtype}")
    return engine


def differentiable(Xb: torch.Tensor, K: torch.Tensor, strategy: str) -> torch.Tensor:
    """corr2d of images :math:`(N, H, W)` with autograd: the engine's differentiable path (auto: the shift-add)."""
    return _engine(Xb, "direct" if strategy == "auto" else strategy).differentiable(Xb, K)


def compute(Xb: torch.Tensor, K: torch.Tensor, strategy: str) -> torch.Tensor:
    """corr2d of images :math:`(N, H, W)` without autograd; on out of memory, again in smaller tiles.

    Raises:
        OutOfMemoryError: the output does not fit even when computed one row band at a time.
    """
    engine = _engine(Xb, _choose(Xb, K) if strategy == "auto" else strategy)
    tiling = engine.tiling(Xb, K)
    while True:
        try:
            return engine.run(Xb, K, tiling)
        except Exception as e:
            if not is_device_out_of_memory(e):
                raise
            failed = tiling
        # Out of the except block, so the failed attempt's tensors are freed first.
        tiling = failed.smaller()
        if Xb.device.type == "cuda":
            torch.cuda.empty_cache()
        if tiling is None:
            N, H, W = Xb.shape
            raise OutOfMemoryError(
                f"corr2d ran out of {Xb.device.type} memory even one image row band at a time "
                f"({N}x{H}x{W} image); use a smaller image or batch, or another device"
            )
