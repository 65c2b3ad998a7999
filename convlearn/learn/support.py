"""``--kernel-size auto``: the kernel's support, found from the data.

1. A target smaller than its input says the size itself: ``(H - Ho + 1, W - Wo + 1)``.
2. Otherwise a generous square is fitted exactly (up to 15x15, odd and centred,
   bounded so that the image gives at least 20 pixels per weight).
3. Outer rows and columns whose weights are all within noise are dropped, one
   side at a time, refitting after each: a weight is within noise when it is
   under :data:`NOISE_T` standard errors, ``sqrt(s² [G⁻¹]ᵢᵢ)`` with s² the
   residual's variance per pixel, the classic least-squares error of a weight.
   A side is dropped only if the residual sum of squares grows by at most
   :data:`R2_SLACK` times what dropping that many pure-noise weights adds on
   average (s² each), so the smaller kernel keeps R² (to about ``2 m / n`` of
   ``1 - R²`` for m weights dropped of n pixels).

Every fit here is a sub-problem of the one probe: a kernel on a sub-window of
the square has patches that are a subset of the square's columns, over the same
output pixels, so its normal equations are a principal block of G and b. The
search thus accumulates the pairs once. The window left may be even or off
centre: its anchor (the output pixel's place in the kernel) is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from convlearn.errors import InputError
from convlearn.learn.normal import NormalEquations, normal_equations, sum_over_ranks
from convlearn.learn.pairs import Pair
from convlearn.runtime import distributed

__all__ = ["AUTO_MAX", "NOISE_T", "R2_SLACK", "Support", "find_support", "probe_side"]

#: The largest side tried: 15, past any common blur, sharpen or derivative kernel.
AUTO_MAX = 15
#: Pixels per weight the probe needs at least, so its weights' errors are small.
PIXELS_PER_WEIGHT = 20
#: A weight under this many standard errors is within noise (4: about 1 in 16,000
#: for Gaussian noise, so a 225-weight probe rarely keeps a zero weight by chance).
NOISE_T = 4.0
#: A side is dropped only if the residual grows by at most this many times s² per weight dropped.
R2_SLACK = 2.0


@dataclass(frozen=True)
class Support:
    """The size found, where the output pixel sits in it, and why.

    Attributes:
        size: ``(h, w)``.
        anchor: ``(row, col)`` of the output pixel in the kernel; None when centred
            at ``(h // 2, w // 2)``.
        reason: one sentence for the report.
    """

    size: tuple[int, int]
    anchor: tuple[int, int] | None
    reason: str


def probe_side(pairs: Sequence[Pair]) -> int:
    """The probe's side: the largest odd side up to :data:`AUTO_MAX` that every input has enough pixels for.

    A 40x40 input gives 7: a 9x9 probe would have 32² = 1,024 pixels for 81 weights, under 20 each.

    >>> probe_side([Pair(torch.zeros(40, 40), torch.zeros(40, 40))])
    7
    """
    side = AUTO_MAX
    for pair in pairs:
        H, W = pair.input.shape[-2:]
        while side > 1 and (side > min(H, W) or (H - side + 1) * (W - side + 1) < PIXELS_PER_WEIGHT * side * side):
            side -= 2
    return side


def find_support(pairs: Sequence[Pair], *, bias: bool = False, device: str | torch.device = "cpu") -> Support:
    """The kernel size (and anchor) the pairs call for; see the module notes.

    Args:
        pairs: this rank's pairs (under torchrun the probe is summed over ranks).
        bias: the fit has an additive offset.
        device: where to accumulate.

    Raises:
        InputError: targets that imply different sizes.

    >>> from convlearn.corr import corr2d
    >>> X = torch.rand(64, 64, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> find_support([Pair(X, corr2d(X, torch.tensor([[1.0, 2.0, 1.0]])))]).size
    (1, 3)
    """
    # Every torchrun rank must choose alike: the sizes its pairs imply and its probe side, from every rank.
    facts = distributed.all_gather_objects(({_implied(p) for p in pairs} - {None}, probe_side(pairs), len(pairs)))
    if sum(n for *_, n in facts) == 0:
        raise InputError("No training pairs given")
    implied = set().union(*(sizes for sizes, *_ in facts))
    if len(implied) > 1:
        sizes = ", ".join(f"{h}x{w}" for h, w in sorted(implied))
        raise InputError(f"The targets' sizes imply different kernel sizes ({sizes}); give --kernel-size")
    if implied:
        (size,) = implied
        return Support(size, None, f"{size[0]}x{size[1]}: the target is the valid output of a kernel that size")
    side = min(s for _, s, _ in facts)
    ne = sum_over_ranks(normal_equations(pairs, (side, side), bias, device=device))
    return _trim(ne, side, bias)


def _implied(pair: Pair) -> tuple[int, int] | None:
    """The size a valid-sized target implies; None for a same-sized one."""
    (H, W), (Ho, Wo) = pair.input.shape[-2:], pair.target.shape[-2:]
    if (H, W) == (Ho, Wo):
        return None
    if not (1 <= Ho <= H and 1 <= Wo <= W):
        raise InputError(f"{pair.target_name} is {Ho}x{Wo}, larger than its input {H}x{W}")
    return H - Ho + 1, W - Wo + 1


class _Fit:
    """The exact fit of a window ``[r0, r1] x [c0, c1]`` of the probe square: weights, t-values, residual."""

    def __init__(self, ne: NormalEquations, side: int, bias: bool, window: tuple[int, int, int, int]) -> None:
        r0, r1, c0, c1 = window
        idx = [r * side + c for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]
        idx += [side * side] if bias else []
        G, b = ne.gram.numpy()[np.ix_(idx, idx)], ne.rhs.numpy()[idx]  # (q, q), (q,)
        ev, vectors = np.linalg.eigh(G)  # numpy's LAPACK: torch's first eigh pays a one-off start of ~1 s
        keep = ev > float(ev[-1]) * 1e-13
        k = vectors[:, keep] @ ((vectors.T @ b)[keep] / ev[keep])  # (q,) G⁺ b
        self.rss = max(0.0, float(k @ G @ k - 2 * (k @ b)) + ne.yy)
        self.q = len(idx)
        self.s2 = s2 = self.rss / max(1, ne.count - len(idx))
        inverse = (vectors[:, keep] ** 2 / ev[keep]).sum(1)  # diag(G⁺), (q,)
        # float64 rounding of G, amplified by its condition number: no weight is known better.
        cond = float(ev[-1] / ev[keep][0])
        floor = float(np.abs(k).max()) * min(1e-3, 1e-15 * cond * len(idx))
        error = np.maximum(np.sqrt(s2 * inverse), floor)  # (q,); 0 only where every weight is 0
        t = np.abs(k) / np.where(error > 0, error, 1.0)
        self.t = t[: len(idx) - int(bias)]  # (h * w,) the weights' |t|, the bias left out
        self.window, self.width = window, c1 - c0 + 1

    def side_t(self, side: str) -> float:
        """The largest |t| along one outer side of the window."""
        t = self.t.reshape(-1, self.width)  # (h, w)
        edge = {"top": t[0], "bottom": t[-1], "left": t[:, 0], "right": t[:, -1]}[side]
        return float(edge.max())


def _trim(ne: NormalEquations, side: int, bias: bool) -> Support:
    """Drop noise sides from the probe square, one at a time, while R² holds."""
    n = max(ne.count, 1)
    sst = max(ne.yy - ne.ysum * ne.ysum / n, 1e-300)
    full = _Fit(ne, side, bias, (0, side - 1, 0, side - 1))
    fit = full
    while True:
        r0, r1, c0, c1 = fit.window
        shrinks = {"top": (r0 + 1, r1, c0, c1), "bottom": (r0, r1 - 1, c0, c1)} if r1 > r0 else {}
        shrinks |= {"left": (r0, r1, c0 + 1, c1), "right": (r0, r1, c0, c1 - 1)} if c1 > c0 else {}
        quiet = sorted((fit.side_t(s), s) for s in shrinks if fit.side_t(s) < NOISE_T)
        chosen = None
        for _, name in quiet:
            trial = _Fit(ne, side, bias, shrinks[name])
            if trial.rss <= full.rss + R2_SLACK * (full.q - trial.q) * full.s2 + 1e-12 * sst:
                chosen = trial
                break
        if chosen is None:
            break
        fit = chosen
    r0, r1, c0, c1 = fit.window
    h, w = r1 - r0 + 1, c1 - c0 + 1
    anchor = (side // 2 - r0, side // 2 - c0)
    centred = anchor == (h // 2, w // 2)
    r2 = 1.0 - fit.rss / sst
    where = "centred" if centred else f"anchor ({anchor[0]}, {anchor[1]})"
    reason = (
        f"{h}x{w} ({where}): fitted {side}x{side}, then dropped the outer rows and columns whose weights were "
        f"within noise (< {NOISE_T:g} standard errors); R² {1.0 - full.rss / sst:.6f} -> {r2:.6f}"
    )
    return Support((h, w), None if centred else anchor, reason)
