"""The words of ``--device``, and their check, without importing torch.

Whether CUDA is there is a fact of the machine that only torch can tell
(:func:`~convlearn.runtime.resolve_device`); whether a name is spelt right is
checked here, before torch loads.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from convlearn.errors import InputError, invalid_choice

__all__ = [
    "DEFAULT_RENDEZVOUS_TIMEOUT",
    "DEVICES",
    "RENDEZVOUS_TIMEOUT_VARIABLE",
    "TorchrunEnv",
    "check_device",
    "torchrun_env",
    "under_torchrun",
]

#: How long the ranks of a torchrun job wait for each other to join, in seconds, and the
#: variable that changes it: a stale WORLD_SIZE with no peer fails after this, not after 30 minutes.
DEFAULT_RENDEZVOUS_TIMEOUT = 60.0
RENDEZVOUS_TIMEOUT_VARIABLE = "CONVLEARN_RENDEZVOUS_TIMEOUT"
#: What to do about torchrun's variables set wrongly.
_FIX = "start the job with torchrun, or unset WORLD_SIZE to run as one process"

#: The values ``--device`` accepts (``cuda`` and ``cpu`` also with ``:N``).
DEVICES = ("auto", "cpu", "cuda")
#: The names torch.device reads: a type, then an index without a leading zero.
_DEVICE_NAME = re.compile(r"(cpu|cuda)(:(0|[1-9][0-9]*))?")


def check_device(name: str) -> str:
    """The device name, if torch could read it (whether it exists here is told later).

    >>> check_device("cuda:1")
    'cuda:1'
    >>> check_device("gpu")
    Traceback (most recent call last):
    ...
    convlearn.errors.InputError: Invalid device 'gpu'. Expected one of: auto, cpu, cuda
    """
    text = str(name).strip().lower()
    if text != "auto" and _DEVICE_NAME.fullmatch(text) is None:
        raise invalid_choice("device", name, DEVICES)
    return name


def under_torchrun() -> bool:
    """Whether torchrun started this process as one of several ranks (its ``WORLD_SIZE`` above 1).

    Raises:
        InputError: torchrun's variables set wrongly (see :func:`torchrun_env`).

    >>> under_torchrun() == (int(os.environ.get("WORLD_SIZE") or 1) > 1)
    True
    """
    return torchrun_env().world_size > 1


@dataclass(frozen=True)
class TorchrunEnv:
    """torchrun's variables, checked: this rank, the number of ranks, the local rank, the rendezvous wait."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    timeout: float = DEFAULT_RENDEZVOUS_TIMEOUT


def _whole(name: str, least: int, most: int | None = None, default: int | None = None) -> int:
    """The variable ``name`` as a whole number in [least, most]; else an InputError naming it."""
    value = os.environ.get(name, "").strip()
    if not value and default is not None:
        return default
    span = f"from {least} to {most}" if most is not None else f"of at least {least}"
    if not value:
        raise InputError(f"{name} is not set, but WORLD_SIZE is {os.environ.get('WORLD_SIZE')}: {_FIX}")
    if not re.fullmatch(r"\+?[0-9]{1,9}", value) or int(value) < least or (most is not None and int(value) > most):
        raise InputError(f"{name}={value!r} is not a whole number {span}: {_FIX}")
    return int(value)


def _timeout() -> float:
    value = os.environ.get(RENDEZVOUS_TIMEOUT_VARIABLE, "").strip()
    if not value:
        return DEFAULT_RENDEZVOUS_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < 1e7:
        raise InputError(f"{RENDEZVOUS_TIMEOUT_VARIABLE}={value!r} is not a number of seconds above 0")
    return seconds


def torchrun_env() -> TorchrunEnv:
    """torchrun's ``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``, checked.

    One process (``WORLD_SIZE`` unset or 1) reads none of the others.

    Raises:
        InputError: a variable that is not a whole number in its range, or one that
            several ranks need and that is not set; the message names it.

    >>> torchrun_env().world_size >= 1
    True
    """
    world = _whole("WORLD_SIZE", 1, default=1)
    if world == 1:
        return TorchrunEnv()
    rank = _whole("RANK", 0, world - 1)
    local = _whole("LOCAL_RANK", 0, world - 1, default=0)
    if not os.environ.get("MASTER_ADDR", "").strip():
        raise InputError(f"MASTER_ADDR is not set, but WORLD_SIZE is {world}: {_FIX}")
    _whole("MASTER_PORT", 1, 65535)
    return TorchrunEnv(rank, world, local, _timeout())
