"""The direct sum on CUDA as one Triton kernel over 2-D tiles of the output.

Each program computes a ``BH x BW`` tile of one plane: for every tap it loads the
shifted input tile (from cache after the first tap) and adds ``K[a, b]`` times
it to a float32 accumulator, in the notebook's order of taps. It is launched
straight from Python, without the guards of a ``torch.compile``-d function, so
on images up to a few megapixels it is the fastest engine on an H200: 3x3 at
2048² took 0.058 ms, against 0.17 ms for cuDNN and 0.34 ms for the compiled
shift-add; at 8192² the compiled shift-add is faster (0.29 ms against 0.43), see
``FUSED_MIN_OUTPUTS`` in :mod:`convlearn.corr.table` and benchmarks/RESULTS.md.

Triton compiles one kernel per kernel shape; it is imported only when CUDA
runs it, so the CPU install does not need Triton.
"""

from __future__ import annotations

import functools
import importlib.util

import torch

__all__ = ["available", "corr2d_tiles", "tile"]

#: Tile of the output each program computes (rows, columns): 16 rows of 128
#: float32 columns keep the loads of one row coalesced and the shifted rows in L1.
BLOCK = (16, 128)


@functools.cache
def available() -> bool:
    """Whether Triton can be imported here."""
    return importlib.util.find_spec("triton") is not None


@functools.cache
def _kernel():
    import triton
    import triton.language as tl

    @triton.jit
    def corr_tiles(x_ptr, k_ptr, y_ptr, H, W, Ho, Wo, KH: tl.constexpr, KW: tl.constexpr,
                   BH: tl.constexpr, BW: tl.constexpr, WIDE: tl.constexpr):  # fmt: skip
        rows = tl.program_id(1) * BH + tl.arange(0, BH)[:, None]  # (BH, 1)
        cols = tl.program_id(0) * BW + tl.arange(0, BW)[None, :]  # (1, BW)
        if WIDE:  # a plane of 2**31 pixels or more needs 64-bit offsets
            rows = rows.to(tl.int64)
        plane = tl.program_id(2).to(tl.int64)
        keep = (rows < Ho) & (cols < Wo)  # (BH, BW)
        x = x_ptr + plane * H * W
        acc = tl.zeros((BH, BW), dtype=tl.float32)
        for a in tl.static_range(KH):
            for b in tl.static_range(KW):
                tap = tl.load(k_ptr + a * KW + b)
                acc += tl.load(x + (rows + a) * W + (cols + b), mask=keep, other=0.0) * tap
        tl.store(y_ptr + plane * Ho * Wo + rows * Wo + cols, acc, mask=keep)

    return corr_tiles


def corr2d_tiles(x: torch.Tensor, K: torch.Tensor, block: tuple[int, int] = BLOCK, num_warps: int = 4) -> torch.Tensor:
    """Valid correlation of float32 planes on CUDA, in one kernel launch.

    Args:
        x: float32 planes on a CUDA device.
        K: float32 kernel on the same device.
        block: the output tile of one program (rows, columns), powers of two.
        num_warps: warps per program.

    Returns:
        The valid correlation.

    Shape:
        - x: :math:`(N, H, W)`
        - K: :math:`(h, w)`
        - Output: :math:`(N, H - h + 1, W - w + 1)`
    """
    import triton

    x, K = x.contiguous(), K.contiguous()
    N, H, W = x.shape
    h, w = K.shape
    Ho, Wo = H - h + 1, W - w + 1
    y = torch.empty((N, Ho, Wo), dtype=x.dtype, device=x.device)
    if y.numel() == 0:
        return y
    BH, BW = block
    grid = (triton.cdiv(Wo, BW), triton.cdiv(Ho, BH), N)
    _kernel()[grid](x, K, y, H, W, Ho, Wo, KH=h, KW=w, BH=BH, BW=BW, WIDE=H * W >= 2**31, num_warps=num_warps)
    return y


def tile(K: torch.Tensor):
    """:func:`corr2d_tiles` as a tile function of :mod:`convlearn.corr.tiling` (when a whole image does not fit)."""

    def run(x: torch.Tensor, out: torch.Tensor) -> None:
        out.copy_(corr2d_tiles(x, K))

    return run
