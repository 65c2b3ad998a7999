"""Hysteresis on the CPU: connected components labelled in row chunks on the worker pool.

``scipy.ndimage.label`` runs in C and releases the GIL, so each chunk of rows
of each plane is labelled by one of the single-threaded workers of
:mod:`convlearn.corr.threads`. A component that crosses a seam between two
chunks gets one label in each; the labels that touch across a seam (8-connected:
the pixel below and its two diagonal neighbours) are merged afterwards, a small
graph of at most three pairs per seam column. A component is kept when any of
its labels holds a seed, and the kept pixels are looked up chunk by chunk.
The result is the whole-plane labelling's, bit for bit.
"""

from __future__ import annotations

import numpy as np

from convlearn.corr import threads

__all__ = ["CHUNK_ELEMENTS", "kept_components"]

#: Smallest chunk, in pixels: below it one call labels the whole plane.
CHUNK_ELEMENTS = 1 << 19

#: Pixels looked up per np.take call: it copies the int32 labels to intp first, so 2^16 labels
#: (512 KB of intp) at a time stay in cache; whole 12 MP chunks took twice as long and 91 MB more.
LOOKUP_ELEMENTS = 1 << 16

_EIGHT = np.ones((3, 3), dtype=bool)


def _chunks(N: int, H: int, W: int, workers: int) -> list[tuple[int, int, int]]:
    """``(plane, first row, end row)`` chunks: about two per worker, none smaller than CHUNK_ELEMENTS."""
    per_plane = max(1, min(2 * workers, (H * W) // CHUNK_ELEMENTS, H))
    rows = -(-H // per_plane)
    return [(n, r0, min(H, r0 + rows)) for n in range(N) for r0 in range(0, H, rows)]


def _seam_pairs(labels: np.ndarray, jobs: list[tuple[int, int, int]], offsets: np.ndarray) -> np.ndarray:
    """Global label pairs ``(2, P)`` that touch across the seams between consecutive chunks of a plane."""
    pairs = []
    for k in range(1, len(jobs)):
        n, r0, _ = jobs[k]
        if jobs[k - 1][0] != n:
            continue  # the first chunk of a new plane
        above, below = labels[n, r0 - 1], labels[n, r0]
        W = above.shape[0]
        for dx in (-1, 0, 1):  # below[j + dx] touches above[j]
            a = above[max(0, -dx) : W - max(0, dx)]
            b = below[max(0, dx) : W - max(0, -dx)]
            both = (a > 0) & (b > 0)
            pairs.append(np.stack([a[both] + offsets[k - 1], b[both] + offsets[k]]))
    return np.concatenate(pairs, axis=1) if pairs else np.zeros((2, 0), dtype=np.int64)


def _merge(lit: np.ndarray, pairs: np.ndarray) -> None:
    """Light every label whose merged component (through ``pairs``) holds a lit label; in place."""
    if pairs.shape[1] == 0:
        return
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    nodes, idx = np.unique(pairs, return_inverse=True)  # only the labels on a seam
    idx = idx.reshape(2, -1)
    m = len(nodes)
    graph = coo_matrix((np.ones(idx.shape[1], dtype=np.int8), (idx[0], idx[1])), shape=(m, m))
    _, comp = connected_components(graph, directed=False)
    comp_lit = np.zeros(comp.max() + 1, dtype=bool)
    np.logical_or.at(comp_lit, comp, lit[nodes])
    lit[nodes] = comp_lit[comp]


def kept_components(cand: np.ndarray, seeds: np.ndarray | None, dtype: type = np.uint8) -> np.ndarray:
    """1 on the 8-connected components of each plane of ``cand`` that hold a seed, 0 elsewhere.

    Args:
        cand: bool :math:`(N, H, W)`, the candidate (weak) pixels; or, with ``seeds``
            None, uint8 levels (:func:`~convlearn.edges.bands.levels`): 0 none, 1 weak, 2 a seed.
        seeds: bool, same shape, the strong pixels, all of them candidates.
        dtype: of the result (uint8, bool or a float type).

    Returns:
        The kept pixels, shape of ``cand``.

    >>> cand = np.array([[[1, 1, 0, 1]]], dtype=bool)
    >>> kept_components(cand, np.array([[[1, 0, 0, 0]]], dtype=bool)).tolist()
    [[[1, 1, 0, 0]]]
    """
    from scipy import ndimage

    N, H, W = cand.shape
    pool = threads.worker_pool()
    jobs = _chunks(N, H, W, threads.workers() if pool is not None else 1)
    labels = np.empty(cand.shape, dtype=np.int32)
    counts = np.zeros(len(jobs), dtype=np.int64)
    seeded: list = [None] * len(jobs)  # each chunk's labels under a seed

    def label(k: int) -> None:
        n, r0, r1 = jobs[k]
        c, s = held[0][n, r0:r1], None if held[1] is None else held[1][n, r0:r1]
        counts[k] = ndimage.label(c, structure=_EIGHT, output=labels[n, r0:r1])
        seeded[k] = labels[n, r0:r1][c == 2 if s is None else s]

    held = [cand, seeds]
    del cand, seeds
    threads.share(pool if len(jobs) > 1 else None, [(k,) for k in range(len(jobs))], label)
    held.clear()  # this call's references: when the caller kept none, their memory goes back now
    # Chunk k's labels 1..count become offsets[k] + 1..count; offsets[k] itself is its "none", never lit.
    offsets = np.concatenate([[0], np.cumsum(counts + 1)[:-1]])
    lit = np.zeros(int(counts.sum() + len(jobs)), dtype=bool)
    for k in range(len(jobs)):
        lit[seeded[k] + offsets[k]] = True
    lit[offsets] = False
    _merge(lit, _seam_pairs(labels, jobs, offsets))
    lit = lit.astype(dtype)
    out = np.empty(labels.shape, dtype=dtype)

    def look_up(k: int) -> None:
        n, r0, r1 = jobs[k]
        step = max(1, LOOKUP_ELEMENTS // W)  # np.take copies its indices to intp: a few rows at a time
        for r in range(r0, r1, step):
            np.take(lit[offsets[k] :], labels[n, r : min(r + step, r1)], out=out[n, r : min(r + step, r1)], mode="clip")

    threads.share(pool if len(jobs) > 1 else None, [(k,) for k in range(len(jobs))], look_up)
    return out
