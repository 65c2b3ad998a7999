"""Kernel values as text: exact Python literals, and short numbers for a command line."""

from __future__ import annotations

__all__ = ["py_literal", "round_value", "short_number"]


def round_value(v: float, decimals: int | None) -> float:
    """``v`` as a float, rounded to ``decimals`` places when given, with ``-0.0`` made ``0.0``.

    >>> round_value(-1e-9, 3), round_value(1 / 3, None)
    (0.0, 0.3333333333333333)
    """
    v = float(v)
    if decimals is not None:
        v = round(v, decimals)
    return 0.0 if v == 0 else v  # no "-0.0"


def py_literal(v: float, decimals: int | None) -> str:
    """A Python (and JSON) float literal that reads back to the same value.

    >>> py_literal(2, None), py_literal(-0.0, None)
    ('2.0', '0.0')
    """
    return repr(round_value(v, decimals))


def short_number(v: float, decimals: int | None) -> str:
    """A number for a command line: integers without ".0".

    >>> short_number(2.0, None), short_number(0.125, 2)
    ('2', '0.12')
    """
    v = round_value(v, decimals)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
