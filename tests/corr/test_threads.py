"""The CPU worker threads: thread counts left alone, a pool made again after a fork, the first error raised."""

import threading

import pytest
import torch
from corr_cases import rand, randn

from convlearn.corr import corr2d, threads


def test_workers_leave_thread_counts_as_they_were():
    before = torch.get_num_threads()
    X = rand(600, 600)
    corr2d(X, randn(3, 3))
    assert torch.get_num_threads() == before
    seen = []
    t = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    t.start()
    t.join()
    assert seen == [before]  # a new thread still gets the process's count


def test_worker_pool_is_made_again_after_a_fork(monkeypatch):
    if threads.workers() < 2:
        pytest.skip("torch runs on one thread here: no pool")
    first = threads.worker_pool()
    assert threads.worker_pool() is first
    monkeypatch.setattr(threads.os, "getpid", lambda: -1)  # as in a forked child
    assert threads.worker_pool() is not first


def test_share_raises_the_first_error_and_stops():
    if threads.workers() < 2:
        pytest.skip("torch runs on one thread here: no pool")
    done = []

    def job(i):
        if i == 3:
            raise ValueError("tile 3 failed")
        done.append(i)

    with pytest.raises(ValueError, match="tile 3 failed"):
        threads.share(threads.worker_pool(), [(i,) for i in range(200)], job)
    assert len(done) < 199
