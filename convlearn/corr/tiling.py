"""Tiles: how the engines cut the work, and the driver that fills the output tile by tile.

Every engine fills a preallocated output tile by tile. A tile is a band of
output rows of one or more images (or, on a very wide image, a block of rows
and columns) together with the ``h - 1`` input rows below it and ``w - 1``
columns beside it, sized so that it stays in cache (CPU) or bounds the work
memory (CUDA). Each pixel of the image is then read from main memory about
once, however many kernel taps there are. :func:`run_tiled` drives the tiles,
on the CPU shared among single-threaded workers (:mod:`convlearn.corr.threads`);
the engines only say what to do with one tile (a :data:`TileFn`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from convlearn.corr import threads
from convlearn.corr.fft import MIN_STRIP

__all__ = ["TILE_ELEMENTS", "TileFn", "Tiling", "empty_output", "run_tiled", "tiles", "tiling_for"]

#: ``tile_fn(x, out)`` fills ``out`` (n, r, c) from ``x`` (n, r + h - 1, c + w - 1).
TileFn = Callable[[torch.Tensor, torch.Tensor], None]

#: Input elements per tile. CPU: 2^19 float32 (2 MB) per worker thread, which
#: with its output band stays in the sandbox's L2 + L3; measured among 2^16..2^20
#: at 4096², 3x3 and 5x5 (2^18 and 2^19 tied, 2^16 was 1.7x slower, 2^20 1.1x).
#: CUDA: 2^26 (256 MB), the whole of an 8192² image, so that it runs in one go
#: unless memory runs out.
TILE_ELEMENTS = {"cpu": 1 << 19, "cuda": 1 << 26}
#: Outputs at least this large (bytes) are allocated through numpy, which asks
#: the kernel for transparent huge pages: filling a fresh 64 MB tensor took
#: 47 ms in 4 KB pages on the sandbox, 12 ms in huge pages (8 ms if touched before).
HUGE_PAGE_BYTES = 4 << 20
_NUMPY_DTYPES = {torch.float32: np.float32, torch.float64: np.float64, torch.float16: np.float16}


def empty_output(shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
    """An uninitialised tensor on ``like``'s device and dtype, in huge pages when large on the CPU."""
    nbytes = math.prod(shape) * like.element_size()
    if like.device.type == "cpu" and nbytes >= HUGE_PAGE_BYTES and like.dtype in _NUMPY_DTYPES:
        return torch.from_numpy(np.empty(shape, dtype=_NUMPY_DTYPES[like.dtype]))
    return torch.empty(shape, dtype=like.dtype, device=like.device)


@dataclass(frozen=True)
class Tiling:
    """How many images, output rows and output columns one tile holds."""

    images: int
    rows: int
    cols: int

    def smaller(self) -> Tiling | None:
        """Half the tile (images first, then rows, then columns), or None at one pixel."""
        if self.images > 1:
            return Tiling(self.images // 2, self.rows, self.cols)
        if self.rows > 1:
            return Tiling(1, self.rows // 2, self.cols)
        if self.cols > 1:
            return Tiling(1, 1, self.cols // 2)
        return None


def tiling_for(
    N: int,
    H: int,
    W: int,
    kernel_shape: tuple[int, int],
    device: torch.device,
    rows: int | None = None,
    fast_cols: bool = False,
) -> Tiling:
    """The tile that fits ``TILE_ELEMENTS`` input elements: whole images, bands of rows, or blocks.

    Bands keep at least ``4 (h - 1)`` output rows and blocks ``4 (w - 1)``
    columns, over the budget if need be: a tile's extra ``h - 1`` rows and
    ``w - 1`` columns of input then cost at most a quarter more (the separable
    pass and the FFT compute them again; tiny tiles would be all overhead). On
    the CPU an image large enough to share is cut into at least one tile per
    worker thread (tiles of at least ``MIN_SHARED_TILE`` elements); work that
    runs in the calling thread (:func:`runs_inline`) is not: 512² 3x3 in one
    tile took 5% less than in the three cut for two workers.

    Args:
        N, H, W: images and their size.
        kernel_shape: ``(h, w)``.
        device: picks the budget.
        rows: output rows per band an engine asks for (the FFT's strip).
        fast_cols: for the FFT: a budget four times larger (its strips are
            faster long) and ``cols + w - 1`` a power of two when columns are split.
    """
    h, w = kernel_shape
    Ho, Wo = H - h + 1, W - w + 1
    budget = TILE_ELEMENTS.get(device.type, TILE_ELEMENTS["cuda"])
    # Leave every worker a tile; but work small enough for the calling thread is not cut
    # for workers it will not use (more tiles would only repeat each operation's overhead).
    if device.type == "cpu" and not runs_inline(device, N, Ho, Wo, kernel_shape):
        budget = min(budget, max(threads.MIN_SHARED_TILE, N * H * W // max(1, threads.workers())))
    if fast_cols:
        budget *= 4
    if rows is None:
        budget_rows = budget // max(W, 1)  # input rows of full width
        if budget_rows >= H:
            return Tiling(max(1, min(N, budget_rows // H)), Ho, Wo)
        rows = max(budget_rows - h + 1, 4 * (h - 1))
    rows = max(1, min(rows, Ho))
    in_rows = rows + h - 1
    if in_rows * W <= budget or W <= 4 * (w - 1) + w - 1:
        return Tiling(max(1, min(N, budget // (in_rows * W))), rows, Wo)
    in_cols = max(budget // in_rows, 4 * (w - 1) + w - 1)
    if fast_cols:  # a power of two: splitting a 4096² image into 2187 = 3^7 columns made the FFT 1.8x slower
        in_cols = 1 << max(in_cols, MIN_STRIP).bit_length() - 1
    return Tiling(1, rows, max(1, min(Wo, in_cols - w + 1)))


def runs_inline(device: torch.device, N: int, Ho: int, Wo: int, kernel_shape: tuple[int, int]) -> bool:
    """Whether :func:`run_tiled` fills this output in the calling thread: small work on the CPU."""
    return device.type == "cpu" and N * Ho * Wo * kernel_shape[0] * kernel_shape[1] <= threads.INLINE_TAPS


def tiles(N: int, Ho: int, Wo: int, tiling: Tiling) -> Iterator[tuple[slice, int, int, int, int]]:
    """Yield ``(images, first_row, end_row, first_col, end_col)`` for every tile, in memory order."""
    for n0 in range(0, N, tiling.images):
        for r0 in range(0, Ho, tiling.rows):
            for c0 in range(0, Wo, tiling.cols):
                yield (
                    slice(n0, min(N, n0 + tiling.images)),
                    r0,
                    min(Ho, r0 + tiling.rows),
                    c0,
                    min(Wo, c0 + tiling.cols),
                )


def run_tiled(Xb: torch.Tensor, kernel_shape: tuple[int, int], tiling: Tiling, tile_fn: TileFn) -> torch.Tensor:
    """Allocate the output and fill it tile by tile; on the CPU, the tiles shared among worker threads.

    Args:
        Xb: images :math:`(N, H, W)`.
        kernel_shape: ``(h, w)``.
        tiling: the tile size.
        tile_fn: ``tile_fn(x, out)`` fills ``out`` :math:`(n, r, c)` from
            ``x`` :math:`(n, r + h - 1, c + w - 1)`. It may run in several
            threads at once, on different tiles.

    Returns:
        :math:`(N, H - h + 1, W - w + 1)`.
    """
    h, w = kernel_shape
    N, H, W = Xb.shape
    Ho, Wo = H - h + 1, W - w + 1
    out = empty_output((N, Ho, Wo), Xb)

    def fill(imgs: slice, r0: int, r1: int, c0: int, c1: int) -> None:
        x = Xb[imgs, r0 : r1 + h - 1, c0 : c1 + w - 1]  # (n, r + h - 1, c + w - 1)
        if x.stride(-1) != 1:  # a transposed image: gather the tile once, then read it h * w times
            x = x.contiguous()
        tile_fn(x, out[imgs, r0:r1, c0:c1])  # (n, r, c)

    jobs = list(tiles(N, Ho, Wo, tiling))
    if runs_inline(Xb.device, N, Ho, Wo, kernel_shape):  # small: no hand-off
        with threads.one_thread():
            for job in jobs:
                fill(*job)
        return out
    shared = Xb.device.type == "cpu" and (len(jobs) > 1 or N * H * W >= threads.MIN_SHARED_TILE)
    threads.share(threads.worker_pool() if shared else None, jobs, fill)
    return out
