"""The engines, one record each: what an engine costs, how it tiles, how it runs.

Adding an engine is one record in :data:`ENGINES` (and its name in
:data:`~convlearn.corr.config.STRATEGIES`): :mod:`convlearn.corr.engine` reads
this table to choose, tile and run, and never branches on an engine's name.

Costs are in shift-add taps per output pixel, so that the cheapest engine wins
(:func:`~convlearn.corr.choose_strategy`); ``None`` means "not a candidate here".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from convlearn.corr import conv2d, direct, fused, separable, tiles2d
from convlearn.corr.fft import FftPlan, fast_size, fft_corr2d_differentiable, fft_rows
from convlearn.corr.tiling import Tiling, run_tiled, tiling_for

__all__ = ["ENGINES", "FFT_COST_TAPS", "FUSED_MIN_OUTPUTS", "Engine"]

#: What the FFT costs per output pixel, in shift-add taps. CPU: 2-core sandbox,
#: float32, 512² and 2048²: a 7x7 direct sum (49 taps) took about as long as the
#: FFT, 9x9 (81) took longer, and separable passes over a 31x31 Gaussian (62)
#: about as long; so 64 (OpenCV switches to its DFT at 11x11). CUDA: an H200
#: (benchmarks/gpu_run1_h200.json, crossover): at 2048² and 8192² the direct sum
#: beat the FFT up to 7x7 (8192²: 1.24 ms against 2.35) and lost from 9x9 on
#: (2.52 against 2.36; 2048²: 0.23 against 0.22); so 80, between 49 and 81 taps.
FFT_COST_TAPS = {"cpu": 64, "cuda": 80}
#: On CUDA, a float32 direct sum with at least this many output pixels runs as the
#: shift-add compiled by ``torch.compile``; smaller ones as the Triton tile kernel
#: (:mod:`convlearn.corr.tiles2d`), which skips the compiled function's guards.
#: H200, 3x3: 2048² tiles 0.058 ms against 0.34 through the compiled path; 8192²
#: tiles 0.43 ms against 0.29 compiled (benchmarks/gpu_variants_h200.jsonl); so
#: 2^24 outputs (4096²), between the two measured sizes.
FUSED_MIN_OUTPUTS = 1 << 24
#: The dtypes the FFT computes in (and the only ones auto offers the separable passes).
FLOAT_DTYPES = (torch.float32, torch.float64)

#: (images, kernel) -> taps per output pixel, or None where auto must not pick the engine.
Cost = Callable[[torch.Tensor, torch.Tensor], "int | None"]


@dataclass(frozen=True)
class Engine:
    """One way to compute corr2d of images :math:`(N, H, W)` with a kernel :math:`(h, w)`."""

    name: str
    cost: Cost  # taps per output pixel for auto (None: not a candidate for these inputs)
    tiling: Callable[[torch.Tensor, torch.Tensor], Tiling]  # the first tile size to try
    run: Callable[[torch.Tensor, torch.Tensor, Tiling], torch.Tensor]  # one tile size, without autograd
    differentiable: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # the autograd path
    devices: tuple[str, ...] | None = None  # device types auto may pick it on; None: any
    dtypes: tuple[torch.dtype, ...] | None = None  # image dtypes it computes in; None: any
    exact: bool = True  # puts inf and NaN where the notebook's loop does (the FFT spreads them)


def _whole(Xb: torch.Tensor, K: torch.Tensor, tiling: Tiling) -> bool:
    """Whether one tile is the whole output."""
    N, H, W = Xb.shape
    h, w = K.shape
    return tiling.images >= N and tiling.rows >= H - h + 1 and tiling.cols >= W - w + 1


def _plain_tiling(Xb: torch.Tensor, K: torch.Tensor) -> Tiling:
    N, H, W = Xb.shape
    return tiling_for(N, H, W, tuple(K.shape), Xb.device)


def _taps(Xb: torch.Tensor, K: torch.Tensor) -> int:
    h, w = K.shape
    return h * w


# direct: the cache-blocked shift-add; on CUDA the fused, compiled one.


def _cuda_direct(Xb: torch.Tensor, K: torch.Tensor) -> str | None:
    """How a direct sum runs on CUDA: ``fused`` (compiled), ``tiles`` (Triton), or None (cuDNN's conv2d)."""
    N, H, W = Xb.shape
    h, w = K.shape
    large = N * (H - h + 1) * (W - w + 1) >= FUSED_MIN_OUTPUTS
    if large and fused.compile_enabled(Xb.device, h * w):
        return "fused"
    if Xb.dtype == torch.float32 and h * w <= fused.FUSED_MAX_TAPS and tiles2d.available():
        return "tiles"
    return None


def _direct_cost(Xb: torch.Tensor, K: torch.Tensor) -> int | None:
    if Xb.device.type == "cuda" and _cuda_direct(Xb, K) is None:
        return None  # cuDNN's conv2d computes the same sum there
    return _taps(Xb, K)


def _run_direct(Xb: torch.Tensor, K: torch.Tensor, tiling: Tiling) -> torch.Tensor:
    h, w = K.shape
    how = _cuda_direct(Xb, K) if Xb.device.type == "cuda" else None
    if how == "tiles":
        return tiles2d.corr2d_tiles(Xb, K) if _whole(Xb, K, tiling) else run_tiled(Xb, (h, w), tiling, tiles2d.tile(K))
    if fused.compile_enabled(Xb.device, h * w):
        if _whole(Xb, K, tiling):
            return fused.fused_shift_add((h, w))(Xb, K)
        return run_tiled(Xb, (h, w), tiling, fused.fused_tile(K))
    return run_tiled(Xb, (h, w), tiling, direct.direct_tile(K))


# separable: 1-D passes over the kernel's rank-1 terms.


def _separable_cost(Xb: torch.Tensor, K: torch.Tensor) -> int | None:
    h, w = K.shape
    if Xb.dtype not in FLOAT_DTYPES or h == 1 or w == 1 or not bool(torch.isfinite(K).all()):
        return None
    return max(1, separable.kernel_rank(K)) * (h + w)


def _run_separable(Xb: torch.Tensor, K: torch.Tensor, tiling: Tiling) -> torch.Tensor:
    if not bool(torch.isfinite(K).all()):  # no factors of inf or NaN: the direct sum, which is the same sum
        return _run_direct(Xb, K, tiling)
    tile = separable.separable_tile(separable.separable_factors(K), Xb)
    return run_tiled(Xb, tuple(K.shape), tiling, tile)


# fft: overlap-save strips.


def _fft_cost(Xb: torch.Tensor, K: torch.Tensor) -> int:
    return FFT_COST_TAPS[Xb.device.type if Xb.device.type in FFT_COST_TAPS else "cuda"]


def _fft_tiling(Xb: torch.Tensor, K: torch.Tensor) -> Tiling:
    N, H, W = Xb.shape
    h, w = K.shape
    rows = fft_rows(h, H)
    if Xb.device.type != "cpu":  # on a GPU, strips as large as the budget allows
        rows = max(rows, tiling_for(N, fast_size(H), fast_size(W), (h, w), Xb.device).rows)
    return tiling_for(N, H, W, (h, w), Xb.device, rows=rows, fast_cols=True)


def _run_fft(Xb: torch.Tensor, K: torch.Tensor, tiling: Tiling) -> torch.Tensor:
    h, w = K.shape
    plan = FftPlan(K, tiling.rows, min(Xb.shape[-1], tiling.cols + w - 1))
    if Xb.device.type != "cpu" and _whole(Xb, K, tiling):
        return plan.whole(Xb)  # one transform, no copy into an output (H200 8192², 31x31: 2.14 ms against 2.44)
    return run_tiled(Xb, (h, w), tiling, plan)


# conv2d: F.conv2d (cuDNN on CUDA, TF32 off).


def _run_conv2d(Xb: torch.Tensor, K: torch.Tensor, tiling: Tiling) -> torch.Tensor:
    if _whole(Xb, K, tiling) and Xb.device.type != "cpu":
        return conv2d.correlate(Xb, K)
    return run_tiled(Xb, tuple(K.shape), tiling, conv2d.conv2d_tile(K))


#: Every engine, in the order auto breaks ties of cost: the exact sums first.
ENGINES = {
    "direct": Engine("direct", _direct_cost, _plain_tiling, _run_direct, direct.shift_add),
    # On CUDA, auto runs a direct sum on cuDNN only where neither Triton nor the compiler can.
    "conv2d": Engine("conv2d", _taps, _plain_tiling, _run_conv2d, conv2d.correlate, devices=("cuda",)),
    "fft": Engine("fft", _fft_cost, _fft_tiling, _run_fft, fft_corr2d_differentiable, dtypes=FLOAT_DTYPES, exact=False),
    # The passes can turn inf into NaN, so an image holding them goes to an exact engine. Not on CUDA: on an
    # H200 at 8192² the passes took 4.1 ms for a 3x3 box and 11.4 ms for 5x5, the direct sum 0.29 and 0.60
    # (and its cost would read the kernel's values back from the device on every call).
    "separable": Engine(
        "separable", _separable_cost, _plain_tiling, _run_separable, direct.shift_add, devices=("cpu",), exact=False
    ),
}
