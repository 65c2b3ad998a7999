"""The separable engine: the kernel as a sum of rank-1 terms ``u v^T``.

One term for Sobel, Gaussian and box kernels. Each term runs as a horizontal
then a vertical 1-D pass: ``h + w`` taps per term instead of ``h * w``.
"""

from __future__ import annotations

import threading

import torch

from convlearn.corr.tiling import TileFn

__all__ = ["kernel_rank", "rank1_factors", "separable_factors", "separable_tile"]


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
