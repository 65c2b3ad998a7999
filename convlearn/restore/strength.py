"""The regularisation strength, chosen from the blurred image itself.

The Wiener solve's prior says the sharp image's gradients are white with
variance ``c``, so its power spectrum is ``c / |D^|^2``; the blurred image's is
then ``c |K^|^2 / |D^|^2 + sigma^2``, ``sigma`` the noise. Both ``c`` and
``sigma`` are fitted to the blurred image's spectrum by maximum likelihood
(Whittle's), with ``sigma`` held at or above the known floor (8-bit rounding, a
JPEG's tables). The Bayes-optimal strength under that prior is ``sigma^2 / c``.

The spectrum is Welch's: the mean of windowed tiles' periodograms, so the
frame's edges (where the image is not periodic) add no false high frequencies,
and a 12 MP image costs no more than a few dozen small FFTs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from convlearn.corr.fft import fast_size
from convlearn.corr.threads import one_thread
from convlearn.restore.blur import gradient_symbol

__all__ = ["StrengthChoice", "choose_strength", "welch_spectrum"]

#: Most tiles in the spectrum: enough for a smooth estimate, few enough to be quick.
MAX_TILES = 64
#: Slopes tried for the prior spectrum ``c / |D^|^a``: natural images fall off as ``|f|^-2`` to ``|f|^-4``.
SLOPES = (1.5, 2.0, 2.5, 3.0, 3.5, 4.0)
#: Points per decade of the fit's grids over ``c`` and ``sigma^2``: a coarse one, then two finer ones around its best.
GRID_PER_DECADE = (3, 12, 48)


@dataclass(frozen=True)
class StrengthChoice:
    """The strength and the two fitted figures behind it: the noise and the prior's gradient variance."""

    strength: float
    sigma: float
    prior_scale: float  # c of the prior spectrum c / |D^|^slope
    slope: float
    sigma_fitted: bool  # True when the fit put the noise above the floor


def _tile_side(plane_shape: tuple[int, int], kernel_shape: tuple[int, int]) -> int:
    """Tiles of at least 128 pixels and 4 kernels a side, no larger than the plane."""
    side = fast_size(max(128, 4 * max(kernel_shape)))
    return min(side, *plane_shape)


def welch_spectrum(b: torch.Tensor, side: int) -> torch.Tensor:
    """The power spectrum of a plane: the mean periodogram of Hann-windowed ``side`` x ``side`` tiles.

    Normalised so that white noise of variance ``s^2`` gives ``s^2`` at every frequency.

    Shape:
        - b: :math:`(H, W)`
        - Output: :math:`(side, side // 2 + 1)`, float64
    """
    H, W = b.shape
    rows = torch.linspace(0, H - side, max(1, min(int(math.sqrt(MAX_TILES)), H // side))).round().long()
    cols = torch.linspace(0, W - side, max(1, min(int(math.sqrt(MAX_TILES)), W // side))).round().long()
    hann = torch.hann_window(side, periodic=False, dtype=torch.float64, device=b.device)
    window = hann[:, None] * hann[None, :]  # (side, side)
    tiles = torch.stack([b[r : r + side, c : c + side] for r in rows.tolist() for c in cols.tolist()])
    tiles = tiles.to(torch.float64)  # (T, side, side)
    tiles = tiles - tiles.mean(dim=(-1, -2), keepdim=True)
    power = torch.fft.rfft2(tiles * window).abs().square().mean(dim=0)  # (side, side // 2 + 1)
    return power / window.square().sum()


def _whittle(power: torch.Tensor, shape: torch.Tensor, c: torch.Tensor, s2: torch.Tensor) -> torch.Tensor:
    """The negative log-likelihood of the spectrum for every (c, s2) pair: ``sum log m + P / m``."""
    cost = torch.empty(len(c), len(s2), dtype=power.dtype, device=power.device)
    for i in range(len(c)):  # one row of c at a time: the whole (C, S, F) cube reached 5 images' memory on 12 MP
        model = c[i] * shape[None, :] + s2[:, None]  # (S, F)
        cost[i] = (model.log() + power[None, :] / model).sum(dim=-1)
    return cost  # (C, S)


def _fit(power: torch.Tensor, shape: torch.Tensor, floor: float, exact: bool) -> tuple[float, float, float]:
    """The (c, s2) of least Whittle cost for one spectral shape, and that cost: a coarse grid, then finer ones.

    ``s2`` stays at ``floor`` when ``exact``, else it is fitted at or above it.
    """
    scale = float(power.mean())
    c_range, s_range = (scale * 1e-8, scale * 1e4), (floor, floor if exact else max(floor * 10, scale * 10))
    for per_decade in GRID_PER_DECADE:
        c = _log_grid(*c_range, per_decade)
        s2 = _log_grid(*s_range, per_decade)
        cost = _whittle(power, shape, c, s2)
        i, j = divmod(int(torch.argmin(cost)), cost.shape[1])
        c_range = (float(c[max(i - 1, 0)]), float(c[min(i + 1, len(c) - 1)]))
        s_range = (float(s2[max(j - 1, 0)]), float(s2[min(j + 1, len(s2) - 1)]))
    return float(c[i]), float(s2[j]), float(cost[i, j])


def _expected_error(transfer: torch.Tensor, gradient: torch.Tensor, prior: torch.Tensor, s2: float) -> torch.Tensor:
    """The restoration's expected squared error, summed over frequencies, for every strength of a grid.

    At one frequency the Tikhonov filter ``T / (T + l G)`` (T the blur's power
    transfer, G the Laplacian's symbol) leaves the noise ``s2 T / (T + l G)^2``
    and loses the signal ``prior (l G)^2 / (T + l G)^2``.

    Returns:
        ``(strengths, errors)``, each (L,).
    """
    strengths = _log_grid(1e-9, 1e2, 32)
    errors = torch.empty_like(strengths)
    for start in range(0, len(strengths), 16):  # 16 strengths at a time: all 353 at once held 5 (L, F) float64
        lg = strengths[start : start + 16, None] * gradient[None, :]  # (16, F) arrays, 115 MB at the peak
        denominator = (transfer[None, :] + lg).square()
        errors[start : start + 16] = ((s2 * transfer[None, :] + prior[None, :] * lg.square()) / denominator).sum(-1)
    return strengths, errors


def choose_strength(b: torch.Tensor, K: torch.Tensor, noise_floor: float, *, exact: bool = False) -> StrengthChoice:
    """Fit a prior spectrum and the noise to a blurred plane, and give the strength of least expected error.

    The prior spectrum is ``c / |D^|^a``, with ``a`` from :data:`SLOPES` (``a = 2``
    is the Wiener solve's own prior); the noise is white. All three are fitted by
    maximum likelihood, then the strength minimises the expected squared error
    of the restoration under that fit.

    Args:
        b: the blurred plane, bias removed.
        K: the kernel (h, w).
        noise_floor: the least noise the image can have (its rounding), 0 when unknown.
        exact: the noise is ``noise_floor`` exactly, not fitted.

    Returns:
        The strength, with the fitted noise and prior.

    Shape:
        - b: :math:`(H, W)`; K: :math:`(h, w)`
    """
    side = _tile_side(tuple(b.shape), tuple(K.shape))
    # One thread whatever the plane's size: the fit works on small tiles, where splitting every
    # operation over threads cost 5.9 of a 12 MP restore's 11 s on the loaded 2-core sandbox.
    with one_thread():
        return _choose(b, K, side, noise_floor, exact)


def _choose(b: torch.Tensor, K: torch.Tensor, side: int, noise_floor: float, exact: bool) -> StrengthChoice:
    """:func:`choose_strength` on ``side`` x ``side`` tiles."""
    # The spectra are small (side² values): the fit runs on the CPU, where its grids are made, whatever
    # the plane's device (on an H200 a CUDA plane met CPU grids here and the restore failed).
    power = welch_spectrum(b, side).flatten()[1:].cpu()  # DC dropped: the tiles' means are removed
    transfer = torch.fft.rfft2(K.detach().cpu().to(torch.float64), s=(side, side)).abs().square().flatten()[1:]
    gradient = gradient_symbol((side, side), "cpu").flatten()[1:]
    scale = float(power.mean())
    if scale <= 0.0:  # a flat image: nothing to restore, any strength gives it back
        return StrengthChoice(1.0, noise_floor, 0.0, 2.0, False)
    floor = max(noise_floor**2, scale * 1e-12)
    fits = [(_fit(power, transfer / gradient ** (a / 2), floor, exact), a) for a in SLOPES]
    (c, s2, _), slope = min(fits, key=lambda f: f[0][2])
    strengths, errors = _expected_error(transfer, gradient, c / gradient ** (slope / 2), s2)
    strength = float(strengths[int(torch.argmin(errors))])
    return StrengthChoice(strength, math.sqrt(s2), c, slope, not exact and s2 > floor * 1.05)


def _log_grid(low: float, high: float, per_decade: int) -> torch.Tensor:
    """Points evenly spaced in log between low and high, ``per_decade`` a decade (at least 9)."""
    n = max(9, int(per_decade * math.log10(max(high / low, 1.0 + 1e-9))) + 1)
    return torch.logspace(math.log10(low), math.log10(high), n, dtype=torch.float64)
