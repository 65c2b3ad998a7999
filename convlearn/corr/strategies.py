"""The ways corr2d can compute, without autograd: direct, separable, FFT, conv2d.

Every strategy fills a preallocated output tile by tile. A tile is a band of
output rows of one or more images (or, on a very wide image, a block of rows
and columns) together with the ``h - 1`` input rows below it and ``w - 1``
columns beside it, sized so that it stays in cache (CPU) or bounds the work
memory (CUDA). Each pixel of the image is then read from main memory about
once, however many kernel taps there are. :func:`run_tiled` drives the tiles,
on the CPU shared among single-threaded workers; the strategies only say what
to do with one tile.

- ``direct``: shift-add, one multiply-add per kernel tap over a shifted view
  of the tile. On CUDA the taps are fused into one kernel by ``torch.compile``
  where it works, and run eagerly otherwise.
- ``separable``: the kernel as a sum of rank-1 terms ``u v^T`` (one term for
  Sobel, Gaussian and box kernels), each run as a horizontal then a vertical
  1-D pass: ``h + w`` taps per term instead of ``h * w``.
- ``fft``: overlap-save row strips; see :mod:`convlearn.corr.fft`.
- ``conv2d``: ``F.conv2d`` (cuDNN on CUDA, with ``benchmark`` on and TF32 off).
"""

from __future__ import annotations

import math
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from queue import Empty, SimpleQueue
from typing import TypeVar

import numpy as np
import torch
import torch.nn.functional as F

from convlearn.corr.fft import MIN_STRIP
from convlearn.errors import is_device_out_of_memory

__all__ = [
    "FUSED_MAX_TAPS",
    "MIN_SHARED_TILE",
    "TILE_ELEMENTS",
    "Tiling",
    "compile_enabled",
    "conv2d_tile",
    "cudnn_exact",
    "direct_tile",
    "empty_output",
    "fused_shift_add",
    "kernel_rank",
    "on_worker",
    "rank1_factors",
    "run_tiled",
    "separable_factors",
    "separable_tile",
    "share",
    "shift_add",
    "tiling_for",
    "worker_pool",
    "workers",
]

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
    worker thread (tiles of at least ``MIN_SHARED_TILE`` elements).

    Args:
        N, H, W: images and their size.
        kernel_shape: ``(h, w)``.
        device: picks the budget.
        rows: output rows per band a strategy asks for (the FFT's strip).
        fast_cols: for the FFT: a budget four times larger (its strips are
            faster long) and ``cols + w - 1`` a power of two when columns are split.
    """
    h, w = kernel_shape
    Ho, Wo = H - h + 1, W - w + 1
    budget = TILE_ELEMENTS.get(device.type, TILE_ELEMENTS["cuda"])
    if device.type == "cpu":  # leave every worker a tile
        budget = min(budget, max(MIN_SHARED_TILE, N * H * W // max(1, workers())))
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


TileFn = Callable[[torch.Tensor, torch.Tensor], None]
T = TypeVar("T")


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
    shared = Xb.device.type == "cpu" and (len(jobs) > 1 or N * H * W >= MIN_SHARED_TILE)
    pool = worker_pool() if shared else None
    if pool is None:
        for job in jobs:
            fill(*job)
    else:
        share(pool, jobs, fill)
    return out


# --- CPU worker threads ------------------------------------------------------------------------
#
# torch's own intra-op threads split every operation and meet at a barrier
# after it: a 3x3 kernel on a 4096² image in 4 MB bands is about 150 barriers
# per call. On a machine whose cores are busy with other work, each barrier
# can wait a scheduler time slice for a descheduled thread (measured on the
# sandbox under load: 0.9 s for 3x3 at 4096², against 0.12 s in worker threads
# and 0.10 s for OpenCV; every 2-thread FFT call took 8 ms, two scheduler
# ticks). So the CPU strategies run each tile single-threaded, with the tiles
# shared among one worker per intra-op thread: one meeting per call, and a
# worker slowed by another process only makes the others take more tiles.

#: Tiles smaller than this (elements) are not worth a worker: one op on it costs
#: about as much in overhead as in work (torch's own grain size is 2^15).
MIN_SHARED_TILE = 1 << 16
_pool: dict[str, object] = {"executor": None, "pid": None, "workers": 0}
_pool_lock = threading.Lock()


def workers() -> int:
    """Worker threads the CPU strategies use: torch's intra-op thread count."""
    return torch.get_num_threads()


def _single_threaded() -> None:
    """Worker start-up: this thread's torch ops run on one thread."""
    torch.get_num_threads()  # torch sets each thread's count up lazily: let it happen now, not later
    torch.set_num_threads(1)  # this thread's OpenMP and MKL count (and the process default, restored below)


def worker_pool() -> ThreadPoolExecutor | None:
    """The shared pool of single-threaded workers, or None when torch runs on one thread.

    Made again after a fork (its threads do not survive one) or when
    ``torch.set_num_threads`` changed the count.
    """
    n = workers()
    if n <= 1:
        return None
    with _pool_lock:
        if _pool["executor"] is None or _pool["pid"] != os.getpid() or _pool["workers"] != n:
            executor = ThreadPoolExecutor(n, thread_name_prefix="convlearn-tiles", initializer=_single_threaded)
            ready = threading.Barrier(n + 1)
            for _ in range(n):  # start every worker now...
                executor.submit(ready.wait, 30)
            ready.wait(30)
            torch.set_num_threads(n)  # ...then give new threads the process's count back
            _pool.update(executor=executor, pid=os.getpid(), workers=n)
        return _pool["executor"]


def on_worker(fn: Callable[[], T], device: torch.device) -> T:
    """``fn()`` on a single-threaded worker when on the CPU with a pool, else here.

    For the odd whole-image operation (a sum, a spectrum) that would otherwise
    meet torch's intra-op barrier in the calling thread.
    """
    pool = worker_pool() if device.type == "cpu" else None
    return fn() if pool is None else pool.submit(fn).result()


def share(pool: ThreadPoolExecutor, jobs: list[tuple], fn: Callable[..., None]) -> None:
    """Run ``fn(*job)`` for every job on the pool's workers, each taking the next free job.

    The first error stops the others from starting new jobs and is raised here.
    """
    queue: SimpleQueue = SimpleQueue()
    for job in jobs:
        queue.put(job)
    failed = threading.Event()

    def work() -> None:
        while not failed.is_set():
            try:
                job = queue.get_nowait()
            except Empty:
                return
            try:
                fn(*job)
            except BaseException:
                failed.set()
                raise

    futures = [pool.submit(work) for _ in range(min(_pool["workers"], len(jobs)))]
    try:
        errors = [f.exception() for f in futures]  # waits for all of them
    except BaseException:  # Ctrl-C while waiting: the workers stop after their current tile
        failed.set()
        raise
    for e in errors:
        if e is not None:
            raise e


def direct_tile(K: torch.Tensor) -> TileFn:
    """Shift-add into the output tile: ``out = sum_ab K[a, b] * x[a:a+r, b:b+Wo]``.

    Every tap runs, zeros included, so NaN and inf spread as in the notebook's loop.
    """
    h, w = K.shape
    taps = K.tolist()  # Python floats, exactly K's values (already in the image's dtype)

    def tile(x: torch.Tensor, out: torch.Tensor) -> None:
        r, Wo = out.shape[-2:]
        torch.mul(x[:, 0:r, 0:Wo], taps[0][0], out=out)
        for a in range(h):
            for b in range(w):
                if a or b:
                    out.add_(x[:, a : a + r, b : b + Wo], alpha=taps[a][b])  # (n, r, Wo)

    return tile


def rank1_factors(K: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``K = u v^T`` through K's largest entry, exact for integer and box kernels.

    ``u`` is the column and ``v`` the row through the pivot, divided by it:
    Sobel gives ``u = [1, 2, 1]``, ``v = [1, 0, -1]`` with no rounding at all.
    Only meaningful when K has rank 1 (see :func:`separable_factors`).

    >>> rank1_factors(torch.tensor([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]]))
    (tensor([1., 2., 1.], dtype=torch.float64), tensor([ 1.,  0., -1.], dtype=torch.float64))
    """
    K64 = K.detach().to("cpu", torch.float64)
    p, q = divmod(int(K64.abs().argmax()), K64.shape[1])
    pivot = K64[p, q]
    if pivot == 0:  # the zero kernel
        return torch.zeros(K64.shape[0], dtype=torch.float64), torch.ones(K64.shape[1], dtype=torch.float64)
    return K64[:, q].clone(), K64[p, :] / pivot


def separable_factors(K: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """K as a sum of rank-1 terms ``u_i v_i^T``, in float64 on the CPU.

    The rank is :func:`kernel_rank`'s. A rank-1 kernel gets the exact pivot
    factors of :func:`rank1_factors`; a higher rank the SVD's leading terms.

    Returns:
        ``[(u, v), ...]`` with u of length h and v of length w; at least one term.

    >>> len(separable_factors(torch.ones(5, 5))), len(separable_factors(torch.eye(3)))
    (1, 3)
    """
    if not bool(torch.isfinite(K).all()):
        raise ValueError("separable_factors needs a finite kernel")
    rank = kernel_rank(K)
    K64 = K.detach().to("cpu", torch.float64)
    if rank <= 1:
        return [rank1_factors(K64)]
    U, S, Vh = torch.linalg.svd(K64, full_matrices=False)
    return [(U[:, i] * S[i], Vh[i, :]) for i in range(rank)]


def kernel_rank(K: torch.Tensor) -> int:
    """K's numerical rank: singular values above ``max(h, w) * eps * s_max``.

    That is NumPy's ``matrix_rank`` rule, with the machine epsilon of K's own
    dtype: terms below it are rounding noise of K's values. A kernel holding
    inf or NaN counts as full rank.

    >>> kernel_rank(torch.tensor([[1.0, 2], [2, 4]])), kernel_rank(torch.eye(2))
    (1, 2)
    """
    eps = torch.finfo(K.dtype).eps if K.is_floating_point() else torch.finfo(torch.float64).eps
    K64 = K.detach().to("cpu", torch.float64)
    if not bool(torch.isfinite(K64).all()):
        return min(K64.shape)
    s = torch.linalg.svdvals(K64)  # descending
    return int((s > max(K64.shape) * eps * float(s[0])).sum())


def separable_tile(factors: list[tuple[torch.Tensor, torch.Tensor]], like: torch.Tensor) -> TileFn:
    """Per rank-1 term, a horizontal pass into a scratch band, then a vertical pass into the output.

    Args:
        factors: from :func:`separable_factors`.
        like: the image, for the factors' dtype.
    """
    terms = [(u.to(like.dtype).tolist(), v.to(like.dtype).tolist()) for u, v in factors]
    h, w = len(terms[0][0]), len(terms[0][1])
    scratch = threading.local()  # one band per worker thread, reused across its tiles

    def tile(x: torch.Tensor, out: torch.Tensor) -> None:
        r, Wo = out.shape[-2:]
        shape = (x.shape[0], r + h - 1, Wo)
        tmp = getattr(scratch, "band", None)
        if tmp is None or tuple(tmp.shape) != shape:  # reused: no fresh pages to fault in
            tmp = scratch.band = torch.empty(shape, dtype=x.dtype, device=x.device)  # (n, r + h - 1, Wo)
        for i, (u, v) in enumerate(terms):
            torch.mul(x[..., 0:Wo], v[0], out=tmp)
            for b in range(1, w):
                tmp.add_(x[..., b : b + Wo], alpha=v[b])
            start = 0
            if i == 0:
                torch.mul(tmp[:, 0:r], u[0], out=out)
                start = 1
            for a in range(start, h):
                out.add_(tmp[:, a : a + r], alpha=u[a])

    return tile


_cudnn_lock = threading.RLock()


@contextmanager
def cudnn_exact(device: torch.device) -> Iterator[None]:
    """On CUDA: cuDNN with autotuning on and TF32 off (TF32 moved a 5x5 result by 2.4e-3 on an H100).

    cuDNN's flags are global, so threads take turns inside (a thread restoring
    them would otherwise undo another's). Elsewhere: nothing to set.
    """
    if device.type != "cuda":
        yield
        return
    with _cudnn_lock, torch.backends.cudnn.flags(enabled=True, benchmark=True, deterministic=False, allow_tf32=False):
        yield


def conv2d_tile(K: torch.Tensor) -> TileFn:
    """``F.conv2d`` on the tile; conv2d does not flip, so it is corr2d."""
    weight = K[None, None]  # (1, 1, h, w)

    def tile(x: torch.Tensor, out: torch.Tensor) -> None:
        with cudnn_exact(x.device):
            out.copy_(F.conv2d(x[:, None], weight)[:, 0])  # (n, r, c)

    return tile


# --- the fused CUDA kernel -------------------------------------------------------------------

_compiled: dict[tuple[int, int], Callable] = {}
_compile_state = {"broken": False}


#: The fused kernel is compiled for at most this many taps: its trace unrolls
#: one multiply-add per tap, and larger kernels go to the FFT anyway.
FUSED_MAX_TAPS = 121


def compile_enabled(device: torch.device, taps: int = 1) -> bool:
    """Whether the fused shift-add may be compiled for ``device`` and a kernel of ``taps`` taps.

    Only on CUDA, with Triton installed, up to ``FUSED_MAX_TAPS`` taps, unless
    ``CONVLEARN_COMPILE=0`` or an earlier compile failed in this process.
    """
    if device.type != "cuda" or _compile_state["broken"] or taps > FUSED_MAX_TAPS:
        return False
    if os.environ.get("CONVLEARN_COMPILE", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    if "triton" not in _compile_state:
        import importlib.util

        _compile_state["triton"] = hasattr(torch, "compile") and importlib.util.find_spec("triton") is not None
    return _compile_state["triton"]


def shift_add(x: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Out-of-place shift-add over ``(N, H, W)``; the body that ``torch.compile`` fuses.

    The loop unrolls at trace time into one pointwise kernel that reads each
    input pixel from cache ``h * w`` times and from memory once.
    """
    h, w = K.shape
    Ho, Wo = x.shape[-2] - h + 1, x.shape[-1] - w + 1
    out = x[:, 0:Ho, 0:Wo] * K[0, 0]
    for a in range(h):
        for b in range(w):
            if a or b:
                out = out + x[:, a : a + Ho, b : b + Wo] * K[a, b]
    return out


def fused_shift_add(kernel_shape: tuple[int, int]) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The compiled :func:`shift_add` for one kernel shape (dynamic in the image size).

    Falls back to eager :func:`shift_add` for good, with one warning, if
    compiling fails (no compiler, an unsupported GPU, an old torch).
    """
    if kernel_shape not in _compiled:
        _compiled[kernel_shape] = torch.compile(shift_add, dynamic=True, fullgraph=True)
    compiled = _compiled[kernel_shape]

    def run(x: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        if _compile_state["broken"]:
            return shift_add(x, K)
        try:
            return compiled(x, K)
        except Exception as e:  # any compile failure: run eagerly instead
            if is_device_out_of_memory(e):
                raise
            _compile_state["broken"] = True
            warnings.warn(
                f"torch.compile failed ({type(e).__name__}); corr2d uses eager kernels from now on",
                RuntimeWarning,
                stacklevel=2,
            )
            return shift_add(x, K)

    return run


def fused_tile(K: torch.Tensor) -> TileFn:
    """The fused shift-add as a tile function (used when a whole image does not fit)."""
    run = fused_shift_add(tuple(K.shape))

    def tile(x: torch.Tensor, out: torch.Tensor) -> None:
        out.copy_(run(x, K))

    return tile
