"""corr2d's words: output sizes, border rules and engines, and their checks.

Importing this module does not import torch, so the CLI builds its choices
from these tuples and ``--help`` stays fast.
"""

from __future__ import annotations

from convlearn.errors import invalid_choice

__all__ = ["BORDERS", "MODES", "STRATEGIES", "check_border", "check_mode", "check_strategy"]

#: Output sizes: ``valid`` is the notebook's, ``same`` keeps the input's size.
MODES = ("valid", "same")
#: Border rules for ``same``. ``reflect`` is torch's reflect, OpenCV's BORDER_REFLECT_101.
BORDERS = ("zero", "reflect", "replicate", "circular")
#: How corr2d computes; ``auto`` picks one of the engines (see :func:`~convlearn.corr.choose_strategy`).
STRATEGIES = ("auto", "direct", "separable", "fft", "conv2d")


def check_mode(mode: str) -> str:
    """The mode, if it is one of :data:`MODES`.

    >>> check_mode("same")
    'same'
    >>> check_mode("full")
    Traceback (most recent call last):
    ...
    convlearn.errors.InputError: Invalid mode 'full'. Expected one of: valid, same
    """
    if mode not in MODES:
        raise invalid_choice("mode", mode, MODES)
    return mode


def check_border(border: str) -> str:
    """The border, if it is one of :data:`BORDERS`.

    >>> check_border("reflect")
    'reflect'
    """
    if border not in BORDERS:
        raise invalid_choice("border", border, BORDERS)
    return border


def check_strategy(strategy: str) -> str:
    """The strategy, if it is one of :data:`STRATEGIES`.

    >>> check_strategy("fft")
    'fft'
    """
    if strategy not in STRATEGIES:
        raise invalid_choice("strategy", strategy, STRATEGIES)
    return strategy
