"""Running under ``torchrun``: ranks, sharding and reductions on torch.distributed.

convlearn never schedules work itself. When ``torchrun`` starts it, the usual
environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``,
``MASTER_PORT``) is set; :func:`setup` joins the process group (gloo on the
CPU, NCCL on CUDA) and every helper here becomes a no-op in a single process.

Each rank reads only its own share of the inputs (:func:`shard`: items
``rank, rank + world, ...`` of the sorted list), so every output is written
exactly once, by the rank that owns its input. Inputs and outputs are assumed
to live on a filesystem that every rank sees at the same path.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import torch
import torch.distributed as dist

from convlearn.errors import ConvlearnError, InputError, Interrupted
from convlearn.runtime.config import RENDEZVOUS_TIMEOUT_VARIABLE, TorchrunEnv, torchrun_env

__all__ = [
    "Dist",
    "all_gather_objects",
    "all_reduce_sum",
    "barrier",
    "current",
    "fail_together",
    "gather_shards",
    "iter_shard",
    "setup",
    "shard",
    "summed",
    "teardown",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Dist:
    """Where this process stands in the job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0 solves, writes shared outputs and prints summaries."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1


_SINGLE = Dist()


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def current() -> Dist:
    """This process's place, read from the process group or torchrun's environment."""
    if dist.is_available() and dist.is_initialized():
        return Dist(dist.get_rank(), dist.get_world_size(), _env_int("LOCAL_RANK", 0))
    return _SINGLE


def setup(device: torch.device | str = "cpu") -> Dist:
    """Join torchrun's process group when there is one; otherwise do nothing.

    Args:
        device: the compute device; CUDA uses NCCL (one GPU per local rank),
            the CPU uses gloo.

    Returns:
        This process's :class:`Dist`.
    """
    env = torchrun_env()
    if env.world_size <= 1 or not dist.is_available():
        return _SINGLE
    if not dist.is_initialized():
        device = torch.device(device)
        if device.type == "cuda":
            torch.cuda.set_device(env.local_rank)
        _join(env, "nccl" if device.type == "cuda" else "gloo")
    return current()


def _join(env: TorchrunEnv, backend: str) -> None:
    """``init_process_group`` within ``env.timeout`` seconds, on a helper thread.

    torch waits for the other ranks inside C++, where Python's signal handlers do
    not run: the main thread waits here instead, so Ctrl-C and SIGTERM end the wait
    at once. A peer that never comes, a port in use: an InputError naming the variable.
    """
    outcome: list[BaseException | None] = []

    def join() -> None:
        try:
            dist.init_process_group(backend=backend, timeout=timedelta(seconds=env.timeout))
            outcome.append(None)
        except BaseException as e:  # handed to the main thread
            outcome.append(e)

    helper = threading.Thread(target=join, name="convlearn-rendezvous", daemon=True)
    helper.start()
    helper.join(env.timeout + 30)  # torch's own timeout ends it first; this one if torch does not
    if not outcome:
        raise _no_peer(env)
    if outcome[0] is not None:
        raise _join_error(outcome[0], env) from None


def _no_peer(env: TorchrunEnv) -> InputError:
    return InputError(
        f"WORLD_SIZE is {env.world_size}, but the other ranks did not join within {env.timeout:g} s "
        f"(a stale WORLD_SIZE?). Unset WORLD_SIZE to run as one process, or set {RENDEZVOUS_TIMEOUT_VARIABLE} "
        "to wait longer"
    )


def _join_error(e: BaseException, env: TorchrunEnv) -> BaseException:
    """torch's failure to join, as the variable to fix."""
    text = str(e)
    if "address already in use" in text.lower() or "EADDRINUSE" in text:
        port, host = os.environ.get("MASTER_PORT"), os.environ.get("MASTER_ADDR")
        return InputError(f"MASTER_PORT={port} is already in use on MASTER_ADDR={host}; choose a free port")
    if "timed out" in text.lower() or "timeout" in text.lower():
        return _no_peer(env)
    if isinstance(e, (RuntimeError, ValueError, OSError)) and not isinstance(e, ConvlearnError):
        first = text.strip().splitlines()[0] if text.strip() else type(e).__name__
        return InputError(
            f"Cannot join torchrun's process group at MASTER_ADDR={os.environ.get('MASTER_ADDR')} "
            f"MASTER_PORT={os.environ.get('MASTER_PORT')}: {first}"
        )
    return e


def teardown() -> None:
    """Leave the process group (safe to call when none was joined)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def shard(items: Sequence[T], where: Dist | None = None) -> list[T]:
    """This rank's share: items ``rank, rank + world, ...`` (all of them in one process).

    >>> shard(list("abcde"), Dist(rank=1, world_size=2))
    ['b', 'd']
    """
    where = where or current()
    return list(items[where.rank :: where.world_size])


def iter_shard(items: Iterable[T], where: Dist | None = None) -> Iterator[T]:
    """This rank's share, like :func:`shard`, read lazily.

    A sequence is indexed at this rank's positions only, so a lazy sequence
    (one that reads a file per item) reads just this rank's items.

    >>> list(iter_shard(iter("abcde"), Dist(rank=1, world_size=2)))
    ['b', 'd']
    """
    where = where or current()
    if not where.active:
        return iter(items)
    if isinstance(items, Sequence):
        return (items[i] for i in range(where.rank, len(items), where.world_size))
    return itertools.islice(items, where.rank, None, where.world_size)


def gather_shards(share: list[T], where: Dist | None = None) -> list[T]:
    """Every rank's :func:`shard` of a list, back in the order of the whole list.

    Rank r held items ``r, r + world, ...``; every rank gets the whole list.

    >>> gather_shards(["a", "b"])  # one process: its share is the whole list
    ['a', 'b']
    """
    where = where or current()
    if not where.active:
        return share
    shares = all_gather_objects(share)
    merged = []
    for j in range(max(len(s) for s in shares)):
        merged.extend(s[j] for s in shares if j < len(s))
    return merged


#: The error a rank raises for another rank's failure, by that failure's exit code.
_FAILURE_BY_EXIT_CODE = {InputError.exit_code: InputError, Interrupted.exit_code: Interrupted}


def fail_together(compute: Callable[[], T], where: Dist | None = None) -> T:
    """``compute()`` on every rank; when it fails on any rank, every rank raises.

    Every rank first tells the others whether its ``compute()`` failed, so none
    waits forever in a later collective call: the failing rank raises its own
    error, the others one with the same message, naming that rank, and the
    same exit code. In one process this is just ``compute()``.

    Raises:
        ConvlearnError: another rank failed (InputError for exit code 2,
            Interrupted for 130).
    """
    where = where or current()
    if not where.active:
        return compute()
    failure: BaseException | None = None
    try:
        value = compute()
    except (Exception, KeyboardInterrupt) as e:
        failure = e
    told = None if failure is None else (str(failure), getattr(failure, "exit_code", 1))
    failures = [(rank, t) for rank, t in enumerate(all_gather_objects(told)) if t is not None]
    if failure is not None:
        raise failure
    if failures:
        rank, (message, code) = failures[0]
        raise _FAILURE_BY_EXIT_CODE.get(code, ConvlearnError)(f"rank {rank}: {message}")
    return value


def summed(*tensors: torch.Tensor) -> list[torch.Tensor]:
    """Tensors of one dtype summed over all ranks in one ``all_reduce``, as new tensors.

    They travel as one flat tensor, so the reduction is a single collective
    call; each comes back in its own shape. In one process: copies.

    >>> [t.tolist() for t in summed(torch.ones(2), torch.zeros(()))]
    [[1.0, 1.0], 0.0]
    """
    flat = torch.cat([t.reshape(-1) for t in tensors])
    all_reduce_sum(flat)
    out, offset = [], 0
    for t in tensors:
        out.append(flat[offset : offset + t.numel()].view_as(t).clone())
        offset += t.numel()
    return out


def all_reduce_sum(*tensors: torch.Tensor) -> None:
    """Sum tensors over all ranks, in place (nothing to do in one process).

    Every rank must call it with tensors of the same shapes and dtypes, in the
    same order. CPU tensors go through the GPU under NCCL.

    >>> t = torch.ones(2); all_reduce_sum(t); t.tolist()  # one process: unchanged
    [1.0, 1.0]
    """
    if not current().active:
        return
    nccl = dist.get_backend() == "nccl"
    for tensor in tensors:
        if nccl and tensor.device.type != "cuda":  # NCCL reduces only GPU tensors
            moved = tensor.to(torch.device("cuda", torch.cuda.current_device()))
            dist.all_reduce(moved, op=dist.ReduceOp.SUM)
            tensor.copy_(moved)
        else:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)


def barrier() -> None:
    """Wait until every rank is here (nothing to do in one process).

    Ranks that finish early wait here for rank 0's last output: once one rank
    exits with an error, torchrun stops the others.
    """
    if current().active:
        dist.barrier()


def all_gather_objects(obj: T) -> list[T]:
    """Every rank's ``obj``, in rank order (``[obj]`` in one process)."""
    where = current()
    if not where.active:
        return [obj]
    gathered: list = [None] * where.world_size
    dist.all_gather_object(gathered, obj)
    return gathered
