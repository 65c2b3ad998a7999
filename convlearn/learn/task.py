"""What a solver is given: one fit's normal equations, its aligned pairs, their names, the device.

:func:`convlearn.learn.fit.fit_pairs` reads the pairs into a :class:`Task`;
each method of :data:`convlearn.learn.solvers.REGISTRY` runs on one, and builds
its :class:`LearnResult` through :meth:`Task.result`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import torch

from convlearn.learn.config import LearnConfig, Solver, notebook_run
from convlearn.learn.hooks import TrainingStart
from convlearn.learn.normal import NormalEquations, safe_step
from convlearn.learn.pairs import Pair
from convlearn.learn.result import FitReport, LearnResult, unpack

__all__ = ["Task"]


@dataclass
class Task:
    """One fit's data, as every solver sees it.

    Attributes:
        ne: the normal equations of every pair (summed over torchrun ranks).
        names: every pair's ``(input, target)`` names, in order.
        device: where to train.
        notebook: the pairs are the notebook's own problem (its step applies).
        pairs: this rank's pairs, aligned (see :func:`align_pair`), kept for the
            methods that step over the pixels; empty for the others.
    """

    ne: NormalEquations
    names: Sequence[tuple[str, str]]
    device: torch.device
    notebook: bool = False
    pairs: Sequence[Pair] = field(default_factory=list)

    @cached_property
    def safe_lr(self) -> float:
        """The safe SGD step for this data (see :func:`safe_step`)."""
        return safe_step(self.ne.gram)

    def started(self, solver: Solver, step: float, how: str, epochs: int) -> TrainingStart:
        """What ``solver`` is about to do on this task."""
        return TrainingStart(solver.name, step, how, epochs, notebook_run(solver.name, notebook=self.notebook))

    def result(
        self,
        k: torch.Tensor,
        *,
        config: LearnConfig,
        solver: Solver,
        dtype: torch.dtype,
        stopped: str,
        report: FitReport,
        **fields,
    ) -> LearnResult:
        """The :class:`LearnResult` for kernel vector ``k`` :math:`(p,)`, its weight in ``dtype``.

        ``fields`` are the rest of :class:`LearnResult`'s (losses, lr, epochs_run).
        """
        weight, bias = unpack(k, config.kernel_size, config.bias, dtype, config.in_channels)
        return LearnResult(
            weight=weight,
            bias=bias,
            solver=solver.name,
            stopped=stopped,
            report=report,
            safe_lr=self.safe_lr,
            inputs=[x for x, _ in self.names],
            targets=[y for _, y in self.names],
            **fields,
        )
