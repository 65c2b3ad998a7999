"""synth's words: the patterns, the settings of an image, and the stripe parser (no torch)."""

from __future__ import annotations

from dataclasses import dataclass

from convlearn.errors import InputError

__all__ = ["MAX_CELL", "PATTERNS", "SynthConfig", "default_stripe", "parse_stripe"]

#: Largest checker cell: any larger gives the same image (one square), and torch's int64 holds it.
MAX_CELL = 2**31 - 1
#: The patterns ``synth --pattern`` offers.
PATTERNS = ("stripes", "diagonal", "checker", "noise", "shapes")


@dataclass(frozen=True)
class SynthConfig:
    """What :func:`make_image` draws. Defaults are the notebook's image."""

    pattern: str = "stripes"  # stripes: the notebook's image
    height: int = 6  # 6: the notebook's torch.ones((6, 8))
    width: int = 8  # 8: ditto
    stripe: tuple[int, int] | None = None  # None: the middle half, [W/4, 3W/4), the notebook's 2:6 at W = 8
    horizontal: bool = False  # transpose, for horizontal stripes/edges
    cell: int = 2  # checker square side, in pixels
    seed: int = 0  # noise only: 0, so that runs repeat
    smooth: float = 0.5  # noise only: Gaussian sigma in pixels; 0.5 keeps a 3x3 Gram's condition near 1e2


def default_stripe(width: int) -> tuple[int, int]:
    """The middle half of the columns: the notebook's 2:6 for width 8.

    >>> default_stripe(8), default_stripe(1)
    ((2, 6), (0, 1))
    """
    start = width // 4
    return start, max(start + 1, (3 * width) // 4)


def parse_stripe(text: str, width: int) -> tuple[int, int]:
    """Parse ``START:STOP`` with ``0 <= START < STOP <= width``.

    >>> parse_stripe("2:6", 8)
    (2, 6)
    """
    parts = text.split(":")
    try:
        start, stop = (int(p) for p in parts)
    except ValueError:
        raise InputError(f"Invalid stripe {text!r}. Expected START:STOP, for example 2:6") from None
    if not 0 <= start < stop <= width:
        raise InputError(f"Invalid stripe {text!r}. Expected 0 <= START < STOP <= {width} (the width)")
    return start, stop
