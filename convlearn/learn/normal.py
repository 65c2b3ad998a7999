"""The least-squares problem in closed form: the normal equations, accumulated in float64.

Every solver minimises the same loss, the notebook's summed squared error over
the pixels used (see :mod:`convlearn.learn.pairs` for which pixels count)::

    L(K, c) = sum over pairs and pixels of (corr2d(X, K) + c - Y) ** 2

where c is the bias (only with ``bias=True``). Writing k for K's values (and c)
as one vector of length ``p = h * w (+ 1)``, the loss is quadratic::

    L(k) = k^T G k - 2 k^T b + y^T y,    G = A^T A,  b = A^T y

with A's rows the input patches (plus a 1). G is the Gram matrix of the
patches, and the loss's Hessian is 2 G. So the problem has one exact answer
(``lstsq`` solves ``G k = b``), its curvature gives SGD a safe step, and any
kernel's loss and gradient are known exactly from G and b. The fit report uses them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import torch

from convlearn.corr.threads import one_thread
from convlearn.errors import InputError
from convlearn.learn.pairs import Pair, align_pair
from convlearn.runtime import distributed

__all__ = ["CONVERGED_RTOL", "TILE_PIXELS", "NormalEquations", "normal_equations", "safe_step", "sum_over_ranks"]

#: "Converged" means the loss's gradient is at most this fraction of its size
#: at k = 0: ``||G k - b|| / ||b|| <= 1e-6``. SGD and Adam stop early there.
CONVERGED_RTOL = 1e-6
#: Pixels per tile when accumulating the normal equations on the CPU: 10 float64
#: columns of 32768 rows (2.6 MB) stay in cache; larger tiles measured slower
#: (benchmarks/bench_learn.py). On CUDA, tiles are larger to amortise launches.
TILE_PIXELS = {"cpu": 32_768, "cuda": 4_194_304}


class NormalEquations(NamedTuple):
    """The least-squares problem in closed form, accumulated in float64.

    ``gram`` is G = A^T A, :math:`(p, p)`; ``rhs`` is b = A^T y, :math:`(p,)`;
    ``yy`` and ``ysum`` are the sum of the target's squares and values over the
    pixels used, ``count`` their number, ``excluded`` the clipped pixels left
    out, ``pairs`` the number of pairs. Kernels are vectors ``k`` of length p:
    the kernel's values row by row, then the bias.
    """

    gram: torch.Tensor
    rhs: torch.Tensor
    yy: float
    ysum: float
    count: int
    excluded: int = 0
    pairs: int = 0

    def loss(self, k: torch.Tensor) -> float:
        """The summed squared error of kernel vector k, ``k^T G k - 2 k^T b + y^T y``.

        Exact to about 1e-16 of ``y^T y`` (float64 rounding); never negative.
        """
        k = k.detach().to("cpu", torch.float64).reshape(-1)
        return max(0.0, float(k @ self.gram @ k - 2 * (k @ self.rhs)) + self.yy)

    def relative_gradient(self, k: torch.Tensor) -> float:
        """``||G k - b|| / ||b||``: the loss's gradient at k relative to its size at k = 0."""
        k = k.detach().to("cpu", torch.float64).reshape(-1)
        top = float(torch.linalg.vector_norm(self.gram @ k - self.rhs))
        bottom = float(torch.linalg.vector_norm(self.rhs))
        if bottom == 0.0:
            return 0.0 if top == 0.0 else math.inf
        return top / bottom

    def eigenvalues(self) -> torch.Tensor:
        """G's eigenvalues, ascending: the curvatures of the loss, halved."""
        return torch.linalg.eigvalsh(self.gram)

    def condition(self) -> float:
        """G's condition number (inf when G is singular): how hard the problem is for gradient descent."""
        ev = self.eigenvalues()
        top, low = float(ev[-1]), float(ev[0])
        if top <= 0 or low <= top * _SINGULAR:
            return math.inf
        return top / low

    def solve(self) -> torch.Tensor:
        """The least-squares kernel vector: ``G^-1 b``, or G's pseudo-inverse applied to b when G is singular.

        A singular G means the inputs do not pin the kernel down (a flat image,
        or stripes that never vary along one axis); the smallest kernel that
        fits as well as any is returned.
        """
        ev, vectors = torch.linalg.eigh(self.gram)
        top = float(ev[-1])
        if not math.isfinite(top) or top <= 0:
            raise InputError("The inputs are constant zero, so no kernel can be learned from them")
        if float(ev[0]) > top * _SINGULAR:
            return torch.linalg.solve(self.gram, self.rhs)
        keep = ev > top * _SINGULAR
        coeffs = (vectors.T @ self.rhs)[keep] / ev[keep]
        return vectors[:, keep] @ coeffs


#: Eigenvalues below this fraction of the largest count as zero (float64
#: rounding of G is about 1e-16 of its largest eigenvalue, times p).
_SINGULAR = 1e-13


def normal_equations(
    pairs: Iterable[Pair],
    kernel_size: tuple[int, int],
    bias: bool = False,
    *,
    device: str | torch.device = "cpu",
    tile_pixels: int | None = None,
    workers: int | None = None,
    aligned: bool = False,
) -> NormalEquations:
    """Accumulate ``G = A^T A``, ``b = A^T y`` and ``y^T y`` in float64, one pair at a time.

    A's rows are the input patches (plus a 1 for the bias), so the least-squares
    kernel solves ``G k = b`` and the summed squared error is
    ``k^T G k - 2 k^T b + y^T y``. Memory stays bounded by one pair plus one
    tile of A per worker (see :func:`_pair_sums`).

    Args:
        pairs: the pairs; read once, in order, so a lazy sequence such as
            :class:`convlearn.learn.pairs.PairFiles` streams. Same-size targets are
            aligned (see :func:`align_target`); masked pixels are left out.
        kernel_size: ``(h, w)``.
        bias: add a column of ones for an additive offset.
        device: where to accumulate (float64 either way).
        tile_pixels: output pixels per tile; None picks :data:`TILE_PIXELS` for the device.
        workers: CPU threads; None uses torch's thread count (one per core).
        aligned: the targets are already cut to the valid region (see
            :func:`align_pair`), as the iterative solvers keep them.

    Returns:
        The :class:`NormalEquations`; ``gram`` :math:`(p, p)` and ``rhs``
        :math:`(p,)` on the CPU, with ``p = h * w (+ 1)``.

    >>> from convlearn.corr import corr2d
    >>> X = torch.arange(12.0).reshape(3, 4)
    >>> ne = normal_equations([Pair(X, corr2d(X, torch.tensor([[2.0, -1.0]])))], (1, 2))
    >>> [round(v, 9) for v in ne.solve().tolist()]
    [2.0, -1.0]
    """
    h, w = kernel_size
    dev = torch.device(device)
    tile = tile_pixels or TILE_PIXELS.get(dev.type, TILE_PIXELS["cuda"])
    threads = 1 if dev.type != "cpu" else max(1, workers or torch.get_num_threads())
    totals: list = [0, 0, 0.0, 0.0]  # G, b, y^T y, sum(y); G and b take their size from the first pair
    count = excluded = n_pairs = 0
    for pair in pairs:
        pair = pair if aligned else align_pair(pair, kernel_size)
        used, pixels, parts = _pair_sums(pair, kernel_size, bias, dev, tile, threads)
        count, excluded, n_pairs = count + used, excluded + pixels - used, n_pairs + 1
        for part in parts:  # in chunk order, so the sums do not depend on thread timing
            for i in range(4):
                totals[i] = totals[i] + (part[i].cpu() if i < 2 else part[i])
    G, b, yy, ysum = totals
    if n_pairs == 0:  # no pair: the sums over nothing, at the size of a plain kernel
        p = h * w + int(bias)
        G, b = torch.zeros(p, p, dtype=torch.float64), torch.zeros(p, dtype=torch.float64)
    return NormalEquations(G, b, float(yy), float(ysum), count, excluded, n_pairs)


def _pair_sums(
    pair: Pair, kernel_size: tuple[int, int], bias: bool, dev: torch.device, tile: int, threads: int
) -> tuple[int, int, list[list]]:
    """One aligned pair's pixels used, its pixels, and its G, b, y^T y and sum(y) in parts, one per worker.

    The image is cut into row tiles of about ``tile`` output pixels; each
    tile's columns (the h * w shifted windows) are copied into a float64
    buffer and ``G += C C^T`` is one BLAS call. float32 inputs multiply
    exactly in float64, so only the sums round (at 1e-16).

    On the CPU the tiles are shared among ``threads`` workers, each running
    torch single-threaded (torch's thread count is set to 1 meanwhile, then
    restored): BLAS calls this small, split across OpenMP threads, ran 10x
    slower than one thread on a loaded 2-core machine, while one thread per
    core stays as fast as the cores are free (``benchmarks/bench_learn.py``).
    """
    X = pair.input.detach().to(dev)  # (H, W), any float dtype: copied into float64 below
    Y = pair.target.detach().to(dev)  # (Ho, Wo)
    M = None if pair.mask is None else pair.mask.detach().to(dev)  # (Ho, Wo) bool
    Ho, Wo = Y.shape
    used = Ho * Wo if M is None else int(M.sum())
    rows = max(1, min(Ho, tile // Wo))
    starts = list(range(0, Ho, rows))
    n = max(1, min(threads, len(starts) // _TILES_PER_WORKER))
    chunks = [starts[i * len(starts) // n : (i + 1) * len(starts) // n] for i in range(n)]

    def tiles(chunk: list[int]) -> list:
        return _accumulate(X, Y, M, chunk, rows, kernel_size, bias)

    if dev.type != "cpu":
        return used, Ho * Wo, [tiles(chunks[0])]
    with one_thread():
        if n == 1:
            return used, Ho * Wo, [tiles(chunks[0])]
        with ThreadPoolExecutor(n) as pool:
            return used, Ho * Wo, list(pool.map(tiles, chunks))


#: Fewest row tiles worth a thread of their own.
_TILES_PER_WORKER = 8


def _accumulate(
    X: torch.Tensor,
    Y: torch.Tensor,
    M: torch.Tensor | None,
    starts: list[int],
    rows: int,
    kernel_size: tuple[int, int],
    bias: bool,
) -> list:
    """G, b, y^T y and sum(y) over the row tiles beginning at ``starts``: one worker's share.

    X may be :math:`(C, H, W)`: A's columns are then the C planes' windows, plane by plane.
    """
    h, w = kernel_size
    planes = X if X.dim() == 3 else X[None]  # (C, H, W)
    hw = h * w
    p = planes.shape[0] * hw + int(bias)
    Ho, Wo = Y.shape
    f64 = dict(dtype=torch.float64, device=X.device)
    G = torch.zeros(p, p, **f64)
    b = torch.zeros(p, **f64)
    yy = torch.zeros((), **f64)
    ysum = torch.zeros((), **f64)
    C = torch.empty(p, rows * Wo, **f64)  # (p, tile): one column of A^T per output pixel
    ybuf = torch.empty(rows * Wo, **f64)
    mbuf = None if M is None else torch.empty(rows, Wo, **f64)
    for r0 in starts:
        R = min(rows, Ho - r0)
        Ct = C[:, : R * Wo]
        Cv = Ct.view(p, R, Wo)
        yt = ybuf[: R * Wo]
        yt.view(R, Wo).copy_(Y[r0 : r0 + R])
        if M is None:
            for i, P in enumerate(planes):
                for a in range(h):
                    for c in range(w):
                        Cv[i * hw + a * w + c].copy_(P[r0 + a : r0 + a + R, c : c + Wo])  # the (a, c) window
            if bias:
                Cv[p - 1].fill_(1.0)
        else:
            mt = mbuf[:R]
            mt.copy_(M[r0 : r0 + R])  # 0/1: zeroing a pixel's row of A drops it from the sums
            for i, P in enumerate(planes):
                for a in range(h):
                    for c in range(w):
                        torch.mul(P[r0 + a : r0 + a + R, c : c + Wo], mt, out=Cv[i * hw + a * w + c])
            if bias:
                Cv[p - 1].copy_(mt)
            yt.mul_(mt.view(-1))
        G.addmm_(Ct, Ct.T)  # (p, p)
        b.addmv_(Ct, yt)  # (p,)
        yy += yt @ yt
        ysum += yt.sum()
    return [G, b, float(yy), float(ysum)]


def safe_step(G: torch.Tensor) -> float:
    """The largest safe fixed SGD step for the summed squared error.

    The loss is quadratic with Hessian ``2 G`` (G the patch Gram matrix), so
    gradient descent converges for steps below ``2 / lambda_max(2 G)``. We take
    ``1 / lambda_max(2 G)``, which converges monotonically and fastest along the
    stiffest direction.

    >>> safe_step(torch.eye(2, dtype=torch.float64) * 4)
    0.125
    """
    top = float(torch.linalg.eigvalsh(G.to(torch.float64)).max())
    if not math.isfinite(top) or top <= 0:
        raise InputError("The inputs are constant zero, so no kernel can be learned from them")
    return 1.0 / (2.0 * top)


def sum_over_ranks(ne: NormalEquations) -> NormalEquations:
    """The normal equations summed over every torchrun rank, in one float64 ``all_reduce``.

    Each rank accumulated its own pairs; G, b and the counts add up to those of
    all pairs. In one process: ``ne`` itself.
    """
    if not distributed.current().active:
        return ne
    tail = torch.tensor([ne.yy, ne.ysum, ne.count, ne.excluded, ne.pairs], dtype=torch.float64)
    G, b, tail = distributed.summed(ne.gram, ne.rhs, tail)
    yy, ysum, count, excluded, n_pairs = tail.tolist()
    return NormalEquations(G, b, yy, ysum, int(count), int(excluded), int(n_pairs))
