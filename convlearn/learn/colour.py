"""Colour kernels: ``learn --channels each`` and ``--channels full``.

A colour pair's input and target are RGB, :math:`(3, H, W)`. Output channel o is
its own least-squares problem, so every solver runs once per output channel,
on that channel's plane pairs:

- ``each``: channel c of the target from channel c of the input alone, a kernel
  :math:`(h, w)` per channel; the three make a :math:`(3, h, w)` weight.
- ``full``: channel o of the target from all three input channels, as
  ``nn.Conv2d(3, 3)``: ``Y_o = sum_i corr2d(X_i, K[o, i]) (+ bias[o])``. Its
  unknowns are the three input planes' windows stacked (``3 h w``, plus the
  bias), so the Gram matrix of those stacked patches is the same for every o;
  the weight is :math:`(3, 3, h, w)`.

With ``--kernel-size auto`` (``each`` only) the support is found per channel,
on each channel's own pair (input plane c, target plane c), and the three
windows are united, so one size serves every plane. ``full`` needs its size
given: a channel's own pair cannot tell its support, since the other input
channels' share of the target, correlated with it in any real picture, reads as
structure there (on a 512² photo-like pair the probe kept the whole 15x15), and
a probe over all three input planes (3 x 225 unknowns) would cost ~9 times the
luma probe.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import torch

from convlearn.errors import InputError
from convlearn.learn.closest import closest_builtin
from convlearn.learn.config import FULL_NEEDS_SIZE, LearnConfig, Solver
from convlearn.learn.fit import fit_pairs
from convlearn.learn.hooks import LearnHooks
from convlearn.learn.normal import NormalEquations
from convlearn.learn.pairs import Pair
from convlearn.learn.result import FitReport, LearnResult, TrainingDiverged, TrainingInterrupted
from convlearn.learn.support import Support, find_support

__all__ = ["CHANNEL_NAMES", "colour_support", "learn_colour"]

#: The output channels' names, in order.
CHANNEL_NAMES = ("R", "G", "B")


def _planes(pairs: Sequence[Pair], channels: str, o: int) -> list[Pair]:
    """Output channel o's plane pairs: input plane o (each) or all three input planes (full), target plane o."""
    out = []
    for pair in pairs:
        if pair.input.dim() != 3 or pair.target.dim() != 3 or pair.input.shape[0] != 3 or pair.target.shape[0] != 3:
            raise InputError(
                f"--channels {channels} needs RGB pairs, (3, H, W) input and target; "
                f"{pair.input_name!r} gives {tuple(pair.input.shape)} and {tuple(pair.target.shape)}"
            )
        X = pair.input[o] if channels == "each" else pair.input  # (H, W) or (3, H, W)
        mask = pair.mask[o] if pair.mask is not None and pair.mask.dim() == 3 else pair.mask  # (H, W)
        out.append(Pair(X, pair.target[o], pair.input_name, pair.target_name, mask))
    return out


def colour_support(pairs: Sequence[Pair], *, channels: str, bias: bool, device) -> Support:
    """One size for every plane: the union of the supports found on each channel's own pair.

    Each channel's window spans rows ``-ay .. h - 1 - ay`` and columns ``-ax .. w - 1 - ax``
    around the output pixel; the union spans them all.

    Raises:
        InputError: ``channels="full"``, see :data:`FULL_NEEDS_SIZE`.
    """
    if channels == "full":
        raise InputError(FULL_NEEDS_SIZE)
    found = [find_support(_planes(pairs, "each", c), bias=bias, device=device) for c in range(3)]
    origins = [s.anchor or (s.size[0] // 2, s.size[1] // 2) for s in found]
    top = max(ay for ay, _ in origins)
    left = max(ax for _, ax in origins)
    bottom = max(s.size[0] - 1 - ay for s, (ay, _) in zip(found, origins, strict=True))
    right = max(s.size[1] - 1 - ax for s, (_, ax) in zip(found, origins, strict=True))
    size = (top + bottom + 1, left + right + 1)
    anchor = None if (top, left) == (size[0] // 2, size[1] // 2) else (top, left)
    each = ", ".join(f"{n} {s.size[0]}x{s.size[1]}" for n, s in zip(CHANNEL_NAMES, found, strict=True))
    where = "centred" if anchor is None else f"anchor {anchor[0]},{anchor[1]}"
    reason = f"{size[0]}x{size[1]} ({where}): the union of the sizes found per channel ({each})"
    return Support(size, anchor, reason)


def learn_colour(
    pairs: Sequence[Pair], cfg: LearnConfig, solver: Solver, device: torch.device, hooks: LearnHooks
) -> LearnResult:
    """Fit each output channel with the solver, and put the three fits together.

    The solver is announced once (``hooks.on_start``, before the first channel);
    ``hooks.on_epoch`` hears every channel's epochs, each channel counting from 0.

    Raises:
        InputError: pairs that are not RGB.
        TrainingDiverged, TrainingInterrupted: a channel stopped; ``result`` holds the
            channels fitted so far and that channel's kernel reached (zeros after it).
    """
    plane_cfg = replace(cfg, in_channels=3 if cfg.channels == "full" else 1)
    results: list[LearnResult] = []
    equations: list[NormalEquations] = []
    for o in range(3):
        planes = _planes(pairs, cfg.channels, o)
        try:
            told = hooks if o == 0 else replace(hooks, on_start=None)
            results.append(fit_pairs(planes, plane_cfg, solver, device, told, equations=equations))
        except (TrainingDiverged, TrainingInterrupted) as e:
            results.append(e.result)
            raise type(e)(f"{CHANNEL_NAMES[o]}: {e}", _combine(results, equations, cfg)) from None
    return _combine(results, equations, cfg)


def _combine(results: list[LearnResult], equations: list[NormalEquations], cfg: LearnConfig) -> LearnResult:
    """The three channels' results as one: the weight stacked, the bias per channel, the fit overall."""
    first = results[0]
    weights = [r.weight.detach() for r in results]
    missing = 3 - len(weights)
    weights += [torch.zeros_like(weights[0])] * missing  # channels a stopped run never reached
    biases = None if first.bias is None else tuple([float(r.bias) for r in results] + [0.0] * missing)
    complete = len(equations) == 3
    losses = _summed(r.losses for r in results)
    return LearnResult(
        weight=torch.stack(weights),  # (3, h, w) or (3, 3, h, w)
        bias=biases,
        losses=losses,
        lr=first.lr,
        epochs_run=max(r.epochs_run for r in results),
        solver=first.solver,
        stopped=_worst(r.stopped for r in results) if not missing else results[-1].stopped,
        report=_overall(results, equations) if complete else None,
        safe_lr=min((r.safe_lr for r in results if r.safe_lr is not None), default=None),
        inputs=first.inputs,
        targets=first.targets,
        channels=cfg.channels,
        channel_fits=[_channel_fit(n, r, cfg.channels) for n, r in zip(CHANNEL_NAMES, results, strict=False)],
    )


def _summed(curves) -> list[float]:
    """The total loss per epoch over the channels, a channel that stopped early keeping its last loss."""
    curves = [c for c in curves if c]
    n = max((len(c) for c in curves), default=0)
    return [sum(c[min(i, len(c) - 1)] for c in curves) for i in range(n)]


#: Why a run stopped, from the best to the worst outcome: the colour run reports its channels' worst.
_STOPS = ("solved", "converged", "stalled", "epochs", "diverged", "interrupted")


def _worst(stops) -> str:
    return max(stops, key=_STOPS.index)


def _channel_fit(name: str, result: LearnResult, channels: str) -> dict:
    """One channel's fit for the report and the JSON: R², RMS, relative gradient, and (each) the closest built-in."""
    r = result.report
    fit = {"channel": name}
    if r is not None:
        fit.update(r2=r.r2, rms=r.rms, relative_gradient=r.relative_gradient, converged=r.converged)
    if channels == "each":
        fit["closest"] = closest_builtin(result.weight.detach().to(torch.float64).numpy())
    return fit


def _overall(results: list[LearnResult], equations: list[NormalEquations]) -> FitReport:
    """The fit over all three channels: losses and variances summed, the worst channel's convergence."""
    reports = [r.report for r in results]
    n = sum(max(ne.count, 1) for ne in equations)
    ssts = [ne.yy - ne.ysum * ne.ysum / max(ne.count, 1) for ne in equations]  # each channel's variance, summed
    sst = sum(ssts)
    loss = sum(r.loss for r in reports)
    constant = sst <= 1e-12 * max(sum(ne.yy for ne in equations), 1e-300)
    best = sum(ne.loss(ne.solve()) for ne in equations)
    gaps = [r.gap for r in reports]
    return FitReport(
        loss=loss,
        rms=math.sqrt(loss / n),
        r2=None if constant else 1.0 - loss / sst,
        r2_best=None if constant else 1.0 - best / sst,
        pixels=sum(r.pixels for r in reports),  # channel values: a pixel counts once per channel
        excluded=sum(r.excluded for r in reports),
        pairs=reports[0].pairs,
        relative_gradient=max(r.relative_gradient for r in reports),
        converged=all(r.converged for r in reports),
        condition=max(r.condition for r in reports),
        gap=None if any(g is None for g in gaps) else max(gaps),
    )
