"""The automatic size, bias and clipping of ``learn``, and its verdict: chosen from the data under the noise model.

With ``--kernel-size auto`` (the default with pairs) on luma pairs read from
files whose target has the input's size, the target's noise model
(:mod:`convlearn.learn.noise`) is read from its file, and
:func:`convlearn.learn.select.decide` chooses, on the first pair, the size (by
held-out prediction), the bias (when ``--bias`` is not given), the clipping
margin, whether the filter is linear and the built-in that explains the pair.
The solver then fits that size on every pair, with the clipped pixels left out.
Other pairs (in memory, valid-sized, colour) keep the support search of
:mod:`convlearn.learn.support`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace

import numpy as np
import torch

from convlearn.learn.config import LearnConfig
from convlearn.learn.noise import NoiseModel, noise_model
from convlearn.learn.pairs import Pair
from convlearn.learn.select import LINEAR_RATIO, Decision, clip_mask, decide

__all__ = ["CROP", "DataChoice", "applies", "choose"]

#: Behind a greyscale JPEG, linear while the fitted coefficients miss their bins by at most this RMS (levels):
#: linear filters missed by 0.00-0.08 on photographs at quality 75-95, non-linear ones by 0.3-2.2.
MISS_LINEAR = 0.2
#: The bins' kernel is kept while it costs at most this many floor² per pixel more than the pixels' fit:
#: 0.09 for Pillow's SHARPEN at q90 (2 levels off instead of 10), 0.2-0.25 for 5x5-7x7 blurs, which it made worse.
BINS_COST = 0.15
#: The selection samples ~60,000 pixels, so a centre crop of this side is all it reads of a larger pair.
CROP = 1536


@dataclass
class DataChoice:
    """What the data chose, and why.

    Attributes:
        decision: the :class:`~convlearn.learn.select.Decision` on the first pair.
        reason: why this size, one phrase (``3x3: the smallest that predicts ...``).
        full_scale: the target's range in levels (255 for 8-bit, 1 for float data).
    """

    decision: Decision
    reason: str
    full_scale: float
    refined: tuple[np.ndarray, float | None] | None = None  # behind a JPEG: the kernel and bias fitted to its bins
    rms_levels: float | None = None  # the refined kernel's RMS residual in levels
    miss: float = math.nan  # behind a JPEG: how far (RMS, levels) the refined kernel's coefficients miss their bins

    @property
    def linear(self) -> bool:
        """The verdict: behind a greyscale JPEG, whether the coefficients fall in their bins; else the pixels'.

        Behind a JPEG whose bins could not be used (a colour one, or a clipped filter), only the RMS
        residual against the floor counts: JPEG's error grows with the local derivatives, so the
        non-linear terms of :func:`convlearn.learn.select.nonlinear_gain` predict some of it.
        """
        d = self.decision
        if not math.isnan(self.miss):
            return self.miss <= MISS_LINEAR
        if d.noise.source == "jpeg":
            return d.rms <= LINEAR_RATIO * d.noise.floor_levels
        return d.linear

    @property
    def noise(self) -> NoiseModel:
        """The target's noise model."""
        return self.decision.noise

    def record(self, rms: float) -> dict:
        """The kernel file's verdict keys: ``linear``, the RMS residual and the noise floor in levels, the margin.

        Args:
            rms: the fitted kernel's RMS residual, in the target's values (levels / full scale).
        """
        d = self.decision
        rms_levels = self.rms_levels if self.rms_levels is not None else rms * self.full_scale
        return {
            "linear": bool(self.linear),
            "rms_levels": float(f"{rms_levels:.6g}") if math.isfinite(rms_levels) else None,
            "noise_floor_levels": float(f"{d.noise.floor_levels:.6g}"),
            "noise": d.noise.describe(),
            "clip_margin_levels": d.margin,
            "nonlinear_share": round(d.nonlinear, 4),
            "fitted_to": "JPEG bins" if self.refined is not None else "pixels",
            **({} if math.isnan(self.miss) else {"bins_missed_by_levels": round(self.miss, 4)}),
        }

    def closest(self, weight: np.ndarray) -> dict | None:
        """The built-in the data named (see :func:`convlearn.learn.select.name_kernel`), as ``closest`` records it."""
        from convlearn.kernels import parse_kernel

        name = self.decision.name
        if name is None:
            return None
        scale, _, spec = name.rpartition(" x ")
        k = parse_kernel(spec).weight
        full = np.zeros(weight.shape)
        a, c = (weight.shape[0] - k.shape[0]) // 2, (weight.shape[1] - k.shape[1]) // 2
        full[a : a + k.shape[0], c : c + k.shape[1]] = k
        s = float(scale) if scale else 1.0
        found = {"spec": spec, "max_abs_diff": float(np.abs(s * full - weight).max()), "by": "data"}
        return found if not scale else {"spec": spec, "scale": s, **{k: v for k, v in found.items() if k != "spec"}}


def applies(pairs: list[Pair], config: LearnConfig) -> bool:
    """The data choose: automatic size, luma, and every target a same-sized file.

    >>> applies([Pair(torch.zeros(4, 4), torch.zeros(4, 4))], LearnConfig(kernel_size="auto"))
    False
    """
    return (
        config.kernel_size == "auto"
        and config.channels == "luma"
        and bool(pairs)
        and all(p.input.ndim == 2 and p.input.shape == p.target.shape and os.path.isfile(p.target_name) for p in pairs)
    )


def _origin(shape: tuple[int, int]) -> tuple[int, int]:
    """The top-left corner of the centre crop, on JPEG's 8x8 grid."""
    H, W = shape
    return max(0, (H - CROP) // 2) // 8 * 8, max(0, (W - CROP) // 2) // 8 * 8


def choose(pairs: list[Pair], config: LearnConfig) -> tuple[LearnConfig, list[Pair], DataChoice]:
    """The size, bias and clipping margin from the data; the pairs with the clipped pixels masked out.

    Args:
        pairs: same-sized luma pairs read from files (see :func:`applies`).
        config: the settings; ``auto_bias`` lets the data choose the bias,
            ``clip_margin`` (levels) overrides the margin from the noise model.

    Returns:
        ``(config, pairs, choice)``: the config with its size and bias set.
    """
    first = pairs[0]
    noise = noise_model(first.target_name)
    scale = noise.full_scale
    top, left = _origin(tuple(first.target.shape))
    x = first.input.numpy()[top : top + CROP, left : left + CROP].astype(np.float64) * scale
    y = first.target.numpy()[top : top + CROP, left : left + CROP].astype(np.float64) * scale
    bias = None if config.auto_bias else config.bias
    d = decide(x, y, noise, margin=config.clip_margin, bias=bias)
    h, w = d.kernel.shape
    config = replace(config, kernel_size=(h, w), anchor=None, bias=d.bias_fitted)
    if config.auto_solver:  # the exact kernel in one pass; no solver, epochs or step was asked for
        config = replace(config, solver="lstsq")
    masked = [_masked(p, d, noise_model(p.target_name) if i else noise) for i, p in enumerate(pairs)]
    tried = "held-out pixels" if len(d.scores) > 1 else "the given bias"
    why = f"{h}x{w}: the smallest that predicts {tried} as well as any size up to 15x15"
    if d.bias_fitted:
        why += ", with a bias"
    choice = DataChoice(d, why, scale)
    if noise.source == "jpeg":
        _refine(choice, first.target_name, x, y, (top, left))
    return config, masked, choice


def _refine(choice: DataChoice, path: str, x: np.ndarray, y: np.ndarray, origin: tuple[int, int]) -> None:
    """Behind a greyscale JPEG target: the kernel fitted to its quantisation bins (:mod:`convlearn.learn.jpegfit`)."""
    from PIL import Image
    from scipy.ndimage import correlate

    from convlearn.learn.jpegfit import refine

    with Image.open(path) as im:
        if im.mode != "L" or not getattr(im, "quantization", None):
            return  # a colour JPEG's luma is not the plane it quantised
        table = np.asarray(im.quantization[0], dtype=np.float64)
    d = choice.decision
    keep, _ = clip_mask(y, d.noise, d.margin)
    k, b, blocks, miss = refine(x, y, table, d.kernel, d.bias if d.bias_fitted else None, keep, origin)
    if not blocks:
        return
    r = max(k.shape) // 2
    inner = (slice(r, y.shape[0] - r), slice(r, y.shape[1] - r))

    def mse(kernel, offset):
        res = (y - correlate(x, kernel, mode="reflect") - offset)[inner]
        return float(np.mean(res[keep[inner]] ** 2))

    choice.miss = miss
    refined = mse(k, b or 0.0)
    # Wide smooth kernels are barely pinned down by the bins: keep the pixels' fit when the
    # bins' one explains the pixels worse by more than BINS_COST floor² per pixel.
    if refined <= mse(d.kernel, d.bias) + BINS_COST * d.noise.floor_levels**2:
        choice.refined, choice.rms_levels = (k, b), math.sqrt(refined)


def _masked(pair: Pair, d: Decision, noise: NoiseModel) -> Pair:
    """The pair with target pixels within the margin of a clipped end left out, judged by the kernel's prediction."""
    if d.margin <= 0:
        return pair
    from scipy.ndimage import correlate

    scale = noise.full_scale
    x = pair.input.numpy().astype(np.float64) * scale
    y = pair.target.numpy().astype(np.float64) * scale
    keep, _ = clip_mask(y, noise, d.margin)
    if keep.all():
        return pair
    pred = correlate(x, d.kernel, mode="reflect") + d.bias
    keep = (pred > d.margin) & (pred < scale - d.margin) & (y > 0) & (y < scale)
    mask = torch.from_numpy(keep)
    return replace(pair, mask=mask if pair.mask is None else pair.mask & mask)
