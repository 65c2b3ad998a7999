"""2-D cross-correlation: corr2d, filter2d and the engines behind them.

=============  ==========================================================
module         holds
=============  ==========================================================
correlate      corr2d and filter2d, the public entry points
planes         the image and kernel checks, images viewed as planes
padding        the border rules of ``mode="same"`` (pad_same)
engine         the engine choice (choose_strategy) and the dispatch
tiling         tiles, and the driver that fills the output tile by tile
threads        the CPU worker threads the tiles are shared among
direct         the shift-add (in place per tile, or differentiable)
separable      rank-1 factors and their 1-D passes
fft            overlap-save FFT strips, and the differentiable FFT
conv2d         ``F.conv2d`` (cuDNN on CUDA, TF32 off)
fused          the shift-add compiled into one CUDA kernel
=============  ==========================================================
"""

from convlearn.corr.correlate import MODES, corr2d, filter2d
from convlearn.corr.engine import STRATEGIES, choose_strategy
from convlearn.corr.padding import BORDERS, pad_same
from convlearn.corr.planes import as_planes

__all__ = [
    "BORDERS",
    "MODES",
    "STRATEGIES",
    "as_planes",
    "choose_strategy",
    "corr2d",
    "filter2d",
    "pad_same",
]
