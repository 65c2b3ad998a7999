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

from convlearn.corr import conv2d, direct, fused, separable
from convlearn.corr.fft import FftPlan, fast_size, fft_corr2d_differentiable, fft_rows
from convlearn.corr.planes import as_images, check_kernel
from convlearn.corr.threads import on_worker
from convlearn.corr.tiling import Tiling, run_tiled, tiling_for
from convlearn.errors import InputError, OutOfMemoryError, is_device_out_of_memory

__all__ = ["FFT_COST_TAPS", "FUSED_MIN_OUTPUTS", "STRATEGIES", "choose_strategy", "compute", "differentiable"]

#: How corr2d computes; ``auto`` picks one of the others (see :func:`choose_strategy`).
STRATEGIES = ("auto", "direct", "separable", "fft", "conv2d")
#: What the FFT costs per output pixel, in shift-add taps. CPU: 2-core sandbox,
#: float32, 512² and 2048²: a 7x7 direct sum (49 taps) took about as long as the
#: FFT, 9x9 (81) took longer, and separable passes over a 31x31 Gaussian (62)
#: about as long; so 64 (OpenCV switches to its DFT at 11x11). CUDA: OpenCV's
#: 11x11, not yet measured on a GPU (benchmarks/gpu_check.sh measures it).
FFT_COST_TAPS = {"cpu": 64, "cuda": 121}
#: On CUDA, auto compiles the fused shift-add only for outputs at least this
#: large (pixels); smaller ones go to cuDNN, whose speed there should make the
#: compile (seconds) not worth it. A guess, not yet measured on a GPU.
FUSED_MIN_OUTPUTS = 1 << 20
_FFT_DTYPES = (torch.float32, torch.float64)


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
    h, w = K.shape
    device = Xb.device.type if Xb.device.type in FFT_COST_TAPS else "cuda"
    cost = {"direct": h * w}
    if Xb.dtype in _FFT_DTYPES:
        cost["fft"] = FFT_COST_TAPS[device]
        if h > 1 and w > 1 and bool(torch.isfinite(K).all()):
            cost["separable"] = max(1, separable.kernel_rank(K)) * (h + w)
    best = min(cost, key=lambda name: (cost[name], name != "direct"))  # ties go to direct
    # The FFT would spread an inf or NaN over its whole strip, and the separable
    # passes can turn inf into NaN. The sum finds them in one pass with no
    # temporary (a finite image whose sum overflows also lands on direct: fine).
    if best != "direct" and not math.isfinite(on_worker(lambda: float(Xb.sum()), Xb.device)):
        best = "direct"
    if best == "direct" and Xb.device.type == "cuda":
        N, H, W = Xb.shape
        large = N * (H - h + 1) * (W - w + 1) >= FUSED_MIN_OUTPUTS
        return "direct" if large and fused.compile_enabled(Xb.device, h * w) else "conv2d"
    return best


def _check_fft_dtype(Xb: torch.Tensor) -> None:
    if Xb.dtype not in _FFT_DTYPES:
        raise InputError(f"Strategy 'fft' needs a float32 or float64 image, got {Xb.dtype}")


def differentiable(Xb: torch.Tensor, K: torch.Tensor, strategy: str) -> torch.Tensor:
    """corr2d of images :math:`(N, H, W)` with autograd: the FFT or conv2d when asked for, else the shift-add."""
    if strategy == "fft":
        _check_fft_dtype(Xb)
        return fft_corr2d_differentiable(Xb, K)
    if strategy == "conv2d":
        return conv2d.correlate(Xb, K)
    return direct.shift_add(Xb, K)


def _tiling(name: str, Xb: torch.Tensor, K: torch.Tensor) -> Tiling:
    N, H, W = Xb.shape
    h, w = K.shape
    if name == "fft":
        rows = fft_rows(h, H)
        if Xb.device.type != "cpu":  # on a GPU, strips as large as the budget allows
            rows = max(rows, tiling_for(N, fast_size(H), fast_size(W), (h, w), Xb.device).rows)
        return tiling_for(N, H, W, (h, w), Xb.device, rows=rows, fast_cols=True)
    return tiling_for(N, H, W, (h, w), Xb.device)


def _run(name: str, Xb: torch.Tensor, K: torch.Tensor, tiling: Tiling) -> torch.Tensor:
    """Run one engine at one tile size, without autograd."""
    N, H, W = Xb.shape
    h, w = K.shape
    whole = tiling.images >= N and tiling.rows >= H - h + 1 and tiling.cols >= W - w + 1
    if name == "fft":
        plan = FftPlan(K, tiling.rows, min(W, tiling.cols + w - 1))
        return run_tiled(Xb, (h, w), tiling, plan)
    if name == "separable" and bool(torch.isfinite(K).all()):
        tile = separable.separable_tile(separable.separable_factors(K), Xb)
        return run_tiled(Xb, (h, w), tiling, tile)
    if name == "conv2d":
        if whole and Xb.device.type != "cpu":
            return conv2d.correlate(Xb, K)
        return run_tiled(Xb, (h, w), tiling, conv2d.conv2d_tile(K))
    # direct (and separable on a kernel with inf or NaN, where it is the same sum)
    if fused.compile_enabled(Xb.device, h * w):
        if whole:
            return fused.fused_shift_add((h, w))(Xb, K)
        return run_tiled(Xb, (h, w), tiling, fused.fused_tile(K))
    return run_tiled(Xb, (h, w), tiling, direct.direct_tile(K))


def compute(Xb: torch.Tensor, K: torch.Tensor, strategy: str) -> torch.Tensor:
    """corr2d of images :math:`(N, H, W)` without autograd; on out of memory, again in smaller tiles.

    Raises:
        OutOfMemoryError: the output does not fit even when computed one row band at a time.
    """
    name = _choose(Xb, K) if strategy == "auto" else strategy
    if name == "fft":
        _check_fft_dtype(Xb)
    tiling = _tiling(name, Xb, K)
    while True:
        try:
            return _run(name, Xb, K, tiling)
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
