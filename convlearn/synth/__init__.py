"""Synthetic test images, starting with the notebook's striped 6x8 image.

=========  ==============================================================
module     holds
=========  ==============================================================
config     the patterns, ``SynthConfig`` and the stripe parser (no torch)
make       the drawing, exact targets, and ``run_synth``
=========  ==============================================================

Names load lazily (PEP 562), so the CLI reads ``PATTERNS`` without torch.
"""

from __future__ import annotations

from convlearn.lazy import lazy_exports

_EXPORTS = {
    "MAX_CELL": "config",
    "PATTERNS": "config",
    "SynthConfig": "config",
    "default_stripe": "config",
    "parse_stripe": "config",
    "SynthResult": "make",
    "make_image": "make",
    "make_target": "make",
    "run_synth": "make",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
