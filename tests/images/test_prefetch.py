"""Decoding ahead: results in order, a bounded look-ahead, errors carried per item, and batches of one shape."""

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from convlearn.errors import ImageReadError
from convlearn.files import Source
from convlearn.images import Loaded, group_batches, prefetch


def _sources(n: int) -> list[Source]:
    return [Source(str(i), Path(f"{i}.png")) for i in range(n)]


class _Counting:
    """A load that records how many items were started, and on which threads."""

    def __init__(self, delay: float = 0.0):
        self.started = 0
        self.threads: set[str] = set()
        self.delay = delay
        self.lock = threading.Lock()

    def __call__(self, source: Source) -> int:
        with self.lock:
            self.started += 1
            self.threads.add(threading.current_thread().name)
        time.sleep(self.delay)
        return int(source.path)


@pytest.mark.parametrize("workers", [1, 4])
def test_results_come_in_input_order(workers):
    def load(source):
        time.sleep(0.002 * (7 - int(source.path) % 7))  # later items finish first
        return int(source.path) * 10

    got = list(prefetch(_sources(20), load, workers=workers, depth=5))
    assert [x.index for x in got] == list(range(20))
    assert [x.value for x in got] == [i * 10 for i in range(20)]
    assert all(x.error is None and x.seconds > 0 for x in got)


def test_the_look_ahead_is_bounded_by_depth():
    load = _Counting()
    depth = 3
    loader = prefetch(_sources(12), load, workers=4, depth=depth)
    for item in loader:
        time.sleep(0.02)  # give the workers time to run ahead as far as they may
        assert load.started <= item.index + 1 + depth
    assert load.started == 12


def test_without_workers_each_item_loads_when_asked_on_the_caller_thread():
    load = _Counting()
    loader = prefetch(_sources(3), load, workers=0)
    assert load.started == 0
    for item in loader:
        assert load.started == item.index + 1
    assert load.threads == {threading.current_thread().name}


def test_each_error_stays_with_its_item():
    def load(source):
        if source.path in ("1", "3"):
            raise ImageReadError(f"{source.path}: broken")
        return source.path

    got = list(prefetch(_sources(5), load, workers=2, depth=2))
    assert [str(x.error) if x.error else x.value for x in got] == ["0", "1: broken", "2", "3: broken", "4"]
    assert [x.value for x in got if x.error] == [None, None]
    assert got[1].source == Source("1", Path("1.png"))


def test_close_stops_the_workers_early():
    load = _Counting(delay=0.01)
    loader = prefetch(_sources(50), load, workers=2, depth=2)
    first = next(iter(loader))
    loader.close()
    time.sleep(0.1)
    assert first.value == 0 and load.started <= 1 + 2  # the item taken and the look-ahead, nothing more


def _loaded(*items: tuple[tuple[int, ...], BaseException | None]) -> list[Loaded]:
    return [Loaded(i, Source(str(i), Path(str(i))), np.zeros(shape), err) for i, (shape, err) in enumerate(items)]


def test_a_failed_item_closes_the_batch_before_it():
    items = _loaded(((2, 2), None), ((2, 2), ValueError()), ((2, 2), None), ((2, 2), None))
    groups = list(group_batches(items, max_items=8, max_pixels=100, shape_of=np.shape))
    assert [[x.index for x in g] for g in groups] == [[0], [1], [2, 3]]


def test_an_item_larger_than_the_pixel_limit_still_goes_alone():
    items = _loaded(((2, 2), None), ((10, 10), None), ((10, 10), None))
    groups = list(group_batches(items, max_items=8, max_pixels=50, shape_of=np.shape))
    assert [[x.index for x in g] for g in groups] == [[0], [1], [2]]
    assert list(group_batches([], max_items=8, max_pixels=50, shape_of=np.shape)) == []
