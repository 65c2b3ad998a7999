"""2-D cross-correlation: corr2d, filter2d and the engines behind them.

=============  ==========================================================
module         holds
=============  ==========================================================
config         the words: MODES, BORDERS, STRATEGIES and their checks
correlate      corr2d and filter2d, the public entry points
planes         the image and kernel checks, images viewed as planes
padding        the border rules of ``mode="same"`` (pad_same)
table          the engines, one record each (cost, tiling, run, autograd)
engine         the engine choice (choose_strategy) and the dispatch
tiling         tiles, and the driver that fills the output tile by tile
threads        the CPU worker threads the tiles are shared among
direct         the shift-add (in place per tile, or differentiable)
separable      rank-1 factors and their 1-D passes
fft            overlap-save strips, and the differentiable FFT
conv2d         ``F.conv2d`` (cuDNN on CUDA, TF32 off)
fused          the shift-add compiled into one CUDA kernel
=============  ==========================================================

Names are imported lazily (PEP 562): ``from convlearn.corr import MODES``
reads :mod:`~convlearn.corr.config` alone and does not import torch.
"""

from __future__ import annotations

from convlearn.lazy import lazy_exports

# public name -> module of this package that defines it
_EXPORTS = {
    "BORDERS": "config",
    "MODES": "config",
    "STRATEGIES": "config",
    "check_border": "config",
    "check_mode": "config",
    "check_strategy": "config",
    "corr2d": "correlate",
    "filter2d": "correlate",
    "as_planes": "planes",
    "pad_same": "padding",
    "ENGINES": "table",
    "Engine": "table",
    "choose_strategy": "engine",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
