"""What a fit tells its caller while it runs: one record of callbacks, and what the start tells.

Torch-free, so the command line can build its display before torch is imported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["LearnHooks", "TrainingStart"]


@dataclass(frozen=True)
class TrainingStart:
    """What an iterative solver is about to do, told once before its first epoch.

    Attributes:
        solver: its name, as ``--solver`` takes it.
        step: the step (learning rate) it uses.
        how: how that step was chosen, in words.
        epochs: the epoch budget.
        notebook: this is the notebook's own run (no pairs, its solver), which
            showed only its epochs.
    """

    solver: str
    step: float
    how: str
    epochs: int
    notebook: bool


@dataclass(frozen=True)
class LearnHooks:
    """The callbacks of one fit; each may be None.

    Attributes:
        on_start: called with a :class:`TrainingStart` before an iterative solver's
            first epoch (lstsq, which solves in one pass, calls nothing).
        on_epoch: called with ``(epoch, loss)`` after each epoch; the loss is the
            one computed before that epoch's step, as the notebook prints it.
            Raising ``KeyboardInterrupt`` from it stops the run as Ctrl-C does.

    >>> seen = []; hooks = LearnHooks(on_epoch=lambda i, loss: seen.append(i))
    >>> hooks.epoch(0, 1.5); hooks.start(TrainingStart("sgd", 0.03, "given", 10, True)); seen
    [0]
    """

    on_start: Callable[[TrainingStart], None] | None = None
    on_epoch: Callable[[int, float], None] | None = None

    def start(self, start: TrainingStart) -> None:
        """Tell ``on_start``, when there is one."""
        if self.on_start is not None:
            self.on_start(start)

    def epoch(self, epoch: int, loss: float) -> None:
        """Tell ``on_epoch``, when there is one."""
        if self.on_epoch is not None:
            self.on_epoch(epoch, loss)
