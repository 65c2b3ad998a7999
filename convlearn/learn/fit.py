"""One fit: pairs read into the normal equations at one size, then the registered solver run on them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import torch

from convlearn.errors import InputError
from convlearn.learn.descent import descend
from convlearn.learn.iterative import train
from convlearn.learn.normal import NormalEquations, normal_equations, safe_step, sum_over_ranks
from convlearn.learn.pairs import Pair, align_pair
from convlearn.learn.report import LearnResult, fit_report, unpack
from convlearn.learn.solvers import LearnConfig, Solver
from convlearn.runtime import distributed

__all__ = ["fit_pairs"]


def fit_pairs(
    source: Iterable[Pair],
    cfg: LearnConfig,
    solver: Solver,
    device: torch.device,
    notebook: bool,
    on_epoch: Callable[[int, float], None] | None,
    on_start: Callable[..., None] | None,
    equations: list[NormalEquations] | None = None,
) -> LearnResult:
    """Read the pairs into the normal equations at ``cfg``'s size (appended to ``equations``), and run the solver."""
    names: list[tuple[str, str]] = []
    kept: list[Pair] = []  # the aligned pairs an iterative solver trains on

    on_equations = solver.on_equations(notebook, cfg.lr)

    def read() -> Iterator[Pair]:
        for pair in source:
            names.append((pair.input_name, pair.target_name))
            aligned = align_pair(pair, cfg.kernel_size, cfg.anchor)
            if solver.iterative and not on_equations:
                kept.append(aligned)
            yield aligned

    ne = distributed.fail_together(
        lambda: normal_equations(read(), cfg.kernel_size, cfg.bias, device=device, aligned=True)
    )
    ne = sum_over_ranks(ne)
    names = distributed.gather_shards(names)
    if ne.pairs == 0:
        raise InputError("No training pairs given")
    if equations is not None:
        equations.append(ne)
    if on_equations:
        return descend(ne, config=cfg, solver=solver, names=names, on_epoch=on_epoch, on_start=on_start)
    if solver.iterative:
        return train(
            kept,
            config=cfg,
            solver=solver,
            ne=ne,
            device=device,
            notebook=notebook,
            names=names,
            on_epoch=on_epoch,
            on_start=on_start,
        )
    k = ne.solve()
    weight, bias = unpack(k, cfg.kernel_size, cfg.bias, torch.float64, cfg.in_channels)
    return LearnResult(
        weight=weight,
        bias=bias,
        lr=None,
        solver=solver.name,
        stopped="solved",
        report=fit_report(ne, k, k),
        safe_lr=safe_step(ne.gram),
        inputs=[x for x, _ in names],
        targets=[y for _, y in names],
    )
