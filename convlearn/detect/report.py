"""What happened to each file of a batch, so that one failure does not stop the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from convlearn.errors import Interrupted
from convlearn.files import STDIO, Source

__all__ = ["BatchInterrupted", "BatchReport", "FileResult"]


@dataclass
class FileResult:
    """What happened to one input."""

    source: str
    output: str | None = None
    angle_output: str | None = None
    shape: tuple[int, ...] = ()
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    threshold: float | list[float] | None = None  # the one used, when --threshold was asked for
    seconds: float = 0.0  # reading + this file's share of its batch on the device + writing
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def to_file(self) -> bool:
        """Whether the result went to a file (not to stdout, nor only to ``on_result``)."""
        return self.output not in (None, STDIO)

    @property
    def source_name(self) -> str:
        """The input as a person reads it: ``<stdin>`` for ``-``."""
        return "<stdin>" if self.source == STDIO else self.source

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` record: shape, min, max, mean, output path and time taken."""
        if self.error is not None:
            return {"input": self.source, "error": self.error}
        data: dict[str, Any] = {
            "input": self.source,
            "output": self.output,
            "shape": list(self.shape),
            "min": self.min,
            "max": self.max,
            "mean": self.mean,
            "seconds": round(self.seconds, 6),
        }
        if self.angle_output is not None:
            data["angle_output"] = self.angle_output
        if self.threshold is not None:
            data["threshold"] = self.threshold
        return data


@dataclass
class BatchReport:
    """Every input's :class:`FileResult`, in input order, and what was left undone."""

    sources: list[Source]
    results: list[FileResult] = field(default_factory=list)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if not r.ok]

    @property
    def done(self) -> list[FileResult]:
        return [r for r in self.results if r.ok]

    @property
    def not_done(self) -> list[str]:
        """The inputs that have no result yet (after Ctrl-C)."""
        seen = {r.source for r in self.results}
        return [s.path for s in self.sources if s.path not in seen]

    def interrupted_message(self, limit: int = 20) -> str:
        """``Interrupted after 3 of 10 files; not done: d.png, e.png, ...``."""
        left = self.not_done
        names = ", ".join(left[:limit]) + (f", ... ({len(left) - limit} more)" if len(left) > limit else "")
        failed = f" ({len(self.failed)} failed)" if self.failed else ""
        return (
            f"Interrupted after {len(self.results)} of {len(self.sources)} files{failed}; "
            f"not done: {names or 'none'}. Every output written is complete"
        )


class BatchInterrupted(Interrupted):
    """Ctrl-C in a batch (exit code 130): the message names the inputs not done; ``report`` holds what was."""

    def __init__(self, report: BatchReport):
        super().__init__(report.interrupted_message())
        self.report = report
