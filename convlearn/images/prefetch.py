"""Decode ahead: the next files load on background threads while the caller works on the current ones.

- :func:`prefetch` yields each input's :class:`Loaded` result in order, at most
  ``depth`` files ahead of the consumer;
- :func:`group_batches` stacks neighbours of one shape into a batch for the device.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from convlearn.files.inputs import Source

__all__ = ["Loaded", "group_batches", "prefetch"]


@dataclass
class Loaded:
    """One input after decoding: its value, or the error that stopped it."""

    index: int
    source: Source
    value: Any = None
    error: BaseException | None = None
    seconds: float = 0.0


class _Prefetcher:
    """Decode inputs on daemon threads, at most ``depth`` ahead of the consumer, yielded in order."""

    def __init__(self, sources: Sequence[Source], load: Callable[[Source], Any], workers: int, depth: int):
        self._sources = list(sources)
        self._load = load
        self._depth = max(1, depth)
        self._results: dict[int, Loaded] = {}
        self._cond = threading.Condition()
        self._next = 0  # the next index a worker takes
        self._consumed = 0  # the consumer has taken everything below this
        self._stopped = False
        self._threads = [
            threading.Thread(target=self._work, name=f"convlearn-decode-{i}", daemon=True) for i in range(workers)
        ]
        for t in self._threads:
            t.start()

    def _run(self, i: int) -> Loaded:
        source = self._sources[i]
        t0 = time.perf_counter()
        try:
            value = self._load(source)
        except Exception as e:  # reported per file; the consumer decides
            return Loaded(i, source, None, e, time.perf_counter() - t0)
        return Loaded(i, source, value, None, time.perf_counter() - t0)

    def _work(self) -> None:
        while True:
            with self._cond:
                while (
                    not self._stopped and self._next < len(self._sources) and self._next >= self._consumed + self._depth
                ):
                    self._cond.wait()
                if self._stopped or self._next >= len(self._sources):
                    return
                i = self._next
                self._next += 1
            loaded = self._run(i)
            with self._cond:
                self._results[i] = loaded
                self._cond.notify_all()

    def __iter__(self) -> Iterator[Loaded]:
        for i in range(len(self._sources)):
            if not self._threads:
                yield self._run(i)  # no workers: decode here, in order
                continue
            with self._cond:
                while i not in self._results:
                    self._cond.wait(0.1)  # a timeout keeps Ctrl-C prompt
                loaded = self._results.pop(i)
                self._consumed = i + 1
                self._cond.notify_all()
            yield loaded

    def close(self) -> None:
        with self._cond:
            self._stopped = True
            self._results.clear()
            self._cond.notify_all()


def prefetch(
    sources: Sequence[Source], load: Callable[[Source], Any], *, workers: int = 2, depth: int = 16
) -> _Prefetcher:
    """Decode ``sources`` with ``load`` on ``workers`` background threads, in order.

    The threads run at most ``depth`` files ahead of the consumer, so memory stays
    bounded; with ``workers=0`` each file is decoded when it is asked for. A
    failing ``load`` does not stop the others: its :class:`Loaded` carries the
    error. Call ``close()`` when stopping early (the threads are daemons, so an
    interrupted run does not wait for them).

    >>> from pathlib import Path
    >>> from convlearn.files import Source
    >>> [x.value for x in prefetch([Source("a", Path("a"))], lambda s: s.path.upper(), workers=1)]
    ['A']
    """
    return _Prefetcher(sources, load, workers, depth)


def group_batches(
    loaded: Iterable[Loaded], *, max_items: int, max_pixels: int, shape_of: Callable[[Any], tuple[int, ...]]
) -> Iterator[list[Loaded]]:
    """Group neighbouring inputs of one shape into batches for the device.

    A batch holds at most ``max_items`` inputs and (beyond its first) at most
    ``max_pixels`` values; an input that failed to load comes alone, at once.
    """
    pending: list[Loaded] = []
    pixels = 0
    for item in loaded:
        if item.error is not None:
            if pending:
                yield pending
                pending, pixels = [], 0
            yield [item]
            continue
        shape = shape_of(item.value)
        size = 1
        for d in shape:
            size *= d
        if pending and (shape_of(pending[0].value) != shape or pixels + size > max_pixels):
            yield pending
            pending, pixels = [], 0
        pending.append(item)
        pixels += size
        if len(pending) >= max_items:
            yield pending
            pending, pixels = [], 0
    if pending:
        yield pending
