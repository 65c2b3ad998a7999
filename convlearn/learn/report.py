"""How well a kernel fits: its report from the normal equations, the warnings, the distance from a reference."""

from __future__ import annotations

import math

import torch

from convlearn.errors import InputError
from convlearn.learn.choose import MISS_LINEAR
from convlearn.learn.config import solver_named
from convlearn.learn.normal import CONVERGED_RTOL, NormalEquations
from convlearn.learn.result import FitReport, LearnResult

__all__ = ["R2_WARNING", "fit_notes", "fit_report", "max_abs_difference", "verdict_notes"]

#: Below this R² the target is not well explained by a linear filter of the input.
R2_WARNING = 0.99


def fit_report(ne: NormalEquations, k: torch.Tensor, exact: torch.Tensor | None = None) -> FitReport:
    """Measure a kernel vector k against the normal equations.

    Args:
        ne: from :func:`normal_equations`.
        k: the kernel's values row by row, then the bias when fitted, :math:`(p,)`.
        exact: the least-squares kernel vector, if already solved.

    Returns:
        The :class:`FitReport`.

    >>> from convlearn.learn import Pair, normal_equations
    >>> X = torch.arange(12.0).reshape(3, 4); ne = normal_equations([Pair(X, 2 * X)], (1, 1))
    >>> r = fit_report(ne, torch.tensor([2.0])); (r.loss, r.r2, r.converged)
    (0.0, 1.0, True)
    """
    k = k.detach().to("cpu", torch.float64).reshape(-1)
    exact = ne.solve() if exact is None else exact.detach().to("cpu", torch.float64).reshape(-1)
    n = max(ne.count, 1)
    sst = ne.yy - ne.ysum * ne.ysum / n
    constant = sst <= 1e-12 * max(ne.yy, 1e-300)
    loss = ne.loss(k)
    condition = ne.condition()
    rel = ne.relative_gradient(k)
    return FitReport(
        loss=loss,
        rms=math.sqrt(loss / n),
        r2=None if constant else 1.0 - loss / sst,
        r2_best=None if constant else 1.0 - ne.loss(exact) / sst,
        pixels=ne.count,
        excluded=ne.excluded,
        pairs=ne.pairs,
        relative_gradient=rel,
        converged=rel <= CONVERGED_RTOL,
        condition=condition,
        gap=float((k - exact).abs().max()) if math.isfinite(condition) else None,
    )


def fit_notes(result: LearnResult) -> list[str]:
    """Warnings about a result, one sentence each: a poor linear fit, a run that did not converge.

    >>> from convlearn.learn import LearnConfig, learn_kernel
    >>> fit_notes(learn_kernel(config=LearnConfig(solver="lstsq")))
    []
    """
    notes = []
    report = result.report
    if report is None:
        return notes
    if result.choice is not None:
        notes += verdict_notes(result)
    elif report.r2_best is not None and report.r2_best < R2_WARNING:
        notes.append(
            f"R² is {report.r2_best:.4f} at best (< {R2_WARNING}): the target is not well explained by a linear "
            f"filter of the input (a non-linear filter, a different alignment, or a larger kernel?)"
        )
    solver = solver_named(result.solver)
    if solver.iterative and result.stopped in ("epochs", "stalled") and not report.converged:
        runs = f"{result.epochs_run} epoch{'s' if result.epochs_run != 1 else ''}"
        notes.append(
            f"{result.solver} did not converge in {runs}: the relative gradient is {report.relative_gradient:.2e} "
            f"(converged means <= {CONVERGED_RTOL:g}). --solver lstsq gives the exact kernel in one pass"
            + solver.alternative
        )
    if not math.isfinite(report.condition):
        notes.append(
            "The inputs do not determine the kernel uniquely (their patches are linearly dependent): "
            + (
                "the smallest kernel that fits as well as any is given"
                if not solver.iterative
                else "other kernels fit equally well"
            )
        )
    return notes


#: Warn when the clipping margin leaves out more than this share of the target's pixels.
CLIPPED_WARNING = 0.2


def verdict_notes(result: LearnResult) -> list[str]:
    """Warnings from what the data chose: a filter that is not linear, a kernel at the size limit, much clipped.

    Each names what was measured and the option that would help.
    """
    choice, report = result.choice, result.report
    d, record = choice.decision, choice.record(report.rms)
    notes = []
    if not choice.linear and not math.isnan(choice.miss):
        notes.append(
            f"not linear: fitted to the JPEG target's quantisation bins, the kernel's DCT coefficients miss them by "
            f"{choice.miss:.2g} levels RMS (a linear filter misses by under {MISS_LINEAR:g}); the RMS residual is "
            f"{record['rms_levels']:.3g} levels against a {record['noise']}. No kernel reproduces this filter "
            "(a median, bilateral, threshold, max/min or tone curve?); the kernel written is the closest linear one"
        )
    elif not choice.linear:
        ratio = record["rms_levels"] / max(record["noise_floor_levels"], 1e-300)
        notes.append(
            f"not linear: the RMS residual is {record['rms_levels']:.3g} levels, {ratio:.3g} times the "
            f"{record['noise']}"
            + (
                f", and squares and products of the input's local derivatives predict {d.nonlinear:.0%} of it"
                if d.nonlinear >= 0.01
                else ""
            )
            + ". No kernel reproduces this filter (a median, bilateral, threshold, "
            "max/min or tone curve?); the kernel written is only the closest linear one"
        )
    h, w = result.weight.shape[-2:]
    if max(h, w) >= 15:
        notes.append(
            f"The kernel found is {h}x{w}, the largest the automatic size tries: the filter may reach further. "
            "Give --kernel-size HxW (21x21, say) to fit a larger one"
        )
    total = report.pixels + report.excluded
    if d.margin > 0 and total and report.excluded > CLIPPED_WARNING * total:
        notes.append(
            f"{report.excluded / total:.0%} of the target's pixels lie within {d.margin:g} levels of a clipped end "
            "and were left out; give --clip-margin LEVELS to change the margin (0: only the end levels)"
        )
    return notes


def max_abs_difference(result: LearnResult, reference) -> float:
    """The largest absolute difference between a learned kernel and a reference :class:`~convlearn.kernels.Kernel`.

    The bias is compared too when either has one (a missing bias counts as 0).

    Raises:
        InputError: the shapes differ.

    >>> from convlearn.kernels import parse_kernel
    >>> from convlearn.learn import LearnConfig, learn_kernel
    >>> max_abs_difference(learn_kernel(config=LearnConfig(solver="lstsq")), parse_kernel("edge"))
    0.0
    """
    ref = torch.as_tensor(reference.weight, dtype=torch.float64)
    weight = result.weight.detach().to(torch.float64)
    if tuple(ref.shape) != tuple(weight.shape):
        raise InputError(
            f"The reference kernel is {ref.shape[0]}x{ref.shape[1]} but the learned one is "
            f"{weight.shape[0]}x{weight.shape[1]}; give --reference a kernel of --kernel-size"
        )
    diff = float((weight - ref).abs().max())
    if result.bias is not None or reference.bias is not None:
        diff = max(diff, abs((result.bias or 0.0) - (reference.bias or 0.0)))
    return diff
