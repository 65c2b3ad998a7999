"""The words of ``--device``, and their check, without importing torch.

Whether CUDA is there is a fact of the machine that only torch can tell
(:func:`~convlearn.runtime.resolve_device`); whether a name is spelt right is
checked here, before torch loads.
"""

from __future__ import annotations

import os
import re

from convlearn.errors import invalid_choice

__all__ = ["DEVICES", "check_device", "under_torchrun"]

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

    >>> under_torchrun() == (int(os.environ.get("WORLD_SIZE") or 1) > 1)
    True
    """
    return int(os.environ.get("WORLD_SIZE") or 1) > 1
