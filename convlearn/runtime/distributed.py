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

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.distributed as dist

__all__ = ["Dist", "all_gather_objects", "all_reduce_sum", "barrier", "current", "setup", "shard", "teardown"]

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
    world = _env_int("WORLD_SIZE", 1)
    if world <= 1 or not dist.is_available():
        return _SINGLE
    if not dist.is_initialized():
        device = torch.device(device)
        if device.type == "cuda":
            torch.cuda.set_device(_env_int("LOCAL_RANK", 0))
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return current()


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
