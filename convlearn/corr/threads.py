"""The CPU worker threads that the tiled engines share their tiles among.

torch's own intra-op threads split every operation and meet at a barrier
after it: a 3x3 kernel on a 4096² image in 4 MB bands is about 150 barriers
per call. On a machine whose cores are busy with other work, each barrier
can wait a scheduler time slice for a descheduled thread (on the 2-core
sandbox under load: 0.9 s for 3x3 at 4096², against 0.12 s in worker threads
and 0.10 s for OpenCV; every 2-thread FFT call took 8 ms, two scheduler
ticks). So the CPU engines run each tile single-threaded, with the tiles
shared among one worker per intra-op thread: one meeting per call, and a
worker slowed by another process only makes the others take more tiles.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from queue import Empty, SimpleQueue
from typing import TypeVar

import torch

__all__ = ["INLINE_TAPS", "MIN_SHARED_TILE", "on_worker", "one_thread", "share", "worker_pool", "workers"]

T = TypeVar("T")

#: Tiles smaller than this (elements) are not worth a worker: one op on it costs
#: about as much in overhead as in work (torch's own grain size is 2^15).
MIN_SHARED_TILE = 1 << 16
#: Work (output pixels times kernel taps) up to which a correlation runs in the calling
#: thread, single-threaded: handing it to the workers costs more than it saves. On the
#: 2-core sandbox a 3x3 kernel on 512² (2.4 M) took 0.30 ms so and 0.41 ms shared;
#: on 1024² (9.4 M) about as long either way, so 2^23.
INLINE_TAPS = 1 << 23
_pool: dict[str, object] = {"executor": None, "pid": None, "workers": 0}
_pool_lock = threading.Lock()


def workers() -> int:
    """Worker threads the CPU engines use: torch's intra-op thread count."""
    return torch.get_num_threads()


def _single_threaded() -> None:
    """Worker start-up: this thread's torch ops run on one thread."""
    torch.get_num_threads()  # torch sets each thread's count up lazily: let it happen now, not later
    torch.set_num_threads(1)  # this thread's OpenMP and MKL count (and the process default, restored below)


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run this thread's torch operations on one thread inside the block (the count restored after)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def worker_pool() -> ThreadPoolExecutor | None:
    """The shared pool of single-threaded workers, or None when torch runs on one thread.

    Made again after a fork (its threads do not survive one) or when
    ``torch.set_num_threads`` changed the count.
    """
    n = workers()
    if n <= 1:
        return None
    with _pool_lock:
        if _pool["executor"] is None or _pool["pid"] != os.getpid() or _pool["workers"] != n:
            executor = ThreadPoolExecutor(n, thread_name_prefix="convlearn-tiles", initializer=_single_threaded)
            ready = threading.Barrier(n + 1)
            for _ in range(n):  # start every worker now...
                executor.submit(ready.wait, 30)
            ready.wait(30)
            torch.set_num_threads(n)  # ...then give new threads the process's count back
            _pool.update(executor=executor, pid=os.getpid(), workers=n)
        return _pool["executor"]


def on_worker(fn: Callable[[], T], device: torch.device) -> T:
    """``fn()`` on a single-threaded worker when on the CPU with a pool, else here.

    For the odd whole-image operation (a sum, a spectrum) that would otherwise
    meet torch's intra-op barrier in the calling thread.
    """
    pool = worker_pool() if device.type == "cpu" else None
    return fn() if pool is None else pool.submit(fn).result()


def share(pool: ThreadPoolExecutor | None, jobs: list[tuple], fn: Callable[..., None]) -> None:
    """Run ``fn(*job)`` for every job on the pool's workers, each taking the next free job.

    With no pool (one worker, or a caller that keeps the work in its own thread) the jobs run
    here, in order. The first error stops the others from starting new jobs and is raised here.
    """
    if pool is None:
        for job in jobs:
            fn(*job)
        return
    queue: SimpleQueue = SimpleQueue()
    for job in jobs:
        queue.put(job)
    failed = threading.Event()

    def work() -> None:
        while not failed.is_set():
            try:
                job = queue.get_nowait()
            except Empty:
                return
            try:
                fn(*job)
            except BaseException:
                failed.set()
                raise

    futures = [pool.submit(work) for _ in range(min(_pool["workers"], len(jobs)))]
    try:
        errors = [f.exception() for f in futures]  # waits for all of them
    except BaseException:  # Ctrl-C while waiting: the workers stop after their current tile
        failed.set()
        raise
    for e in errors:
        if e is not None:
            raise e
