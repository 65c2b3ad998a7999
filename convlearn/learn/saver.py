"""What :func:`convlearn.learn.run_learn` returns and writes: the :class:`LearnRun` and its kernel file."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from convlearn.files import write_text
from convlearn.learn.report import fit_notes, max_abs_difference
from convlearn.learn.result import LearnResult, TrainingDiverged, TrainingInterrupted
from convlearn.runtime import distributed

__all__ = ["LearnRun", "Saver"]


@dataclass
class LearnRun:
    """What :func:`run_learn` did.

    Attributes:
        result: the learned kernel and its fit.
        record: what the kernel file holds beside the kernel (the fit report,
            the pairs, ``reference`` when one was given).
        text: the kernel file's text, written to ``output`` when one was given.
        notes: warnings about the fit, one sentence each (see :func:`fit_notes`).
        reference_diff: the largest difference from the reference kernel, if any.
        notebook: the notebook's own run (no pairs, its solver).
        main: this process tells the result (rank 0 under torchrun; always in one process).
    """

    result: LearnResult
    record: dict
    text: str
    notes: list[str] = field(default_factory=list)
    reference_diff: float | None = None
    notebook: bool = False
    main: bool = True


@dataclass
class Saver:
    """Turns a result into a :class:`LearnRun`, writing the kernel file on rank 0.

    Attributes:
        output: where the kernel file goes; None: nowhere.
        spec: the reference as given, for the record.
        reference: the parsed reference :class:`~convlearn.kernels.Kernel`, or None.
        notebook: the notebook's own run.
        main: this process writes (rank 0).
    """

    output: str | os.PathLike | None
    spec: str | None
    reference: object
    notebook: bool
    main: bool

    def save(self, result: LearnResult) -> LearnRun:
        """The kernel file's record and text, written to ``output`` on rank 0."""
        from convlearn.kernels import kernel_to_json

        record = result.record()
        diff = None if self.reference is None else max_abs_difference(result, self.reference)
        if self.reference is not None:
            record["reference"] = {"spec": self.spec, "max_abs_diff": diff}
        text = kernel_to_json(result.kernel, **record)
        if self.output is not None and self.main:
            write_text(self.output, text)
        return LearnRun(result, record, text, fit_notes(result), diff, self.notebook, self.main)

    def stopped(self, e: TrainingDiverged | TrainingInterrupted) -> TrainingDiverged | TrainingInterrupted:
        """Save the kernel a stopped run kept; the error to raise, saying where it went."""
        self.save(e.result)
        if isinstance(e, TrainingInterrupted):
            written = f" and written to {self.output}" if self.output is not None else " (give --output to keep it)"
            return TrainingInterrupted(f"{e}{written}", e.result)
        distributed.barrier()  # every rank diverges together; none exits before rank 0 has saved
        written = f"; it was written to {self.output}" if self.output is not None else ""
        return TrainingDiverged(f"{e}{written}", e.result)
