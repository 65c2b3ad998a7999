"""The direct sum on CUDA as one kernel: :func:`~convlearn.corr.direct.shift_add` fused by ``torch.compile``.

The compiled function is kept per kernel shape (dynamic in the image size).
The first failed compile in a process turns the fused kernel off for good,
with one warning; corr2d then runs the eager shift-add.
"""

from __future__ import annotations

import importlib.util
import os
import types
import warnings
from collections.abc import Callable

import torch

from convlearn.corr.direct import shift_add
from convlearn.corr.tiling import TileFn
from convlearn.errors import is_device_out_of_memory

__all__ = ["FUSED_MAX_TAPS", "compile_enabled", "fused_shift_add", "fused_tile"]

#: The fused kernel is compiled for at most this many taps: its trace unrolls
#: one multiply-add per tap, and larger kernels go to the FFT anyway.
FUSED_MAX_TAPS = 121
_compiled: dict[tuple[int, int], Callable] = {}
_compile_state = {"broken": False}


def compile_enabled(device: torch.device, taps: int = 1) -> bool:
    """Whether the fused shift-add may be compiled for ``device`` and a kernel of ``taps`` taps.

    Only on CUDA, with Triton installed, up to ``FUSED_MAX_TAPS`` taps, unless
    ``CONVLEARN_COMPILE=0`` or an earlier compile failed in this process.
    """
    if device.type != "cuda" or _compile_state["broken"] or taps > FUSED_MAX_TAPS:
        return False
    if os.environ.get("CONVLEARN_COMPILE", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    if "triton" not in _compile_state:
        _compile_state["triton"] = hasattr(torch, "compile") and importlib.util.find_spec("triton") is not None
    return _compile_state["triton"]


def fused_shift_add(kernel_shape: tuple[int, int]) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The compiled :func:`~convlearn.corr.direct.shift_add` for one kernel shape.

    Falls back to the eager shift-add for good, with one warning, if
    compiling fails (no compiler, an unsupported GPU, an old torch).
    """
    if kernel_shape not in _compiled:
        # One function object with its own code object per kernel shape: dynamo keeps its
        # cache (and its limit of 8 recompiles) per code object, and a process that met 8
        # kernel shapes otherwise lost the fused kernel for good (seen on an H200).
        # dynamic=None: static shapes for the first image size (8192² 3x3: 0.29 ms against
        # 0.41 dynamic), dynamic ones once a second size comes.
        own = types.FunctionType(
            shift_add.__code__.replace(), shift_add.__globals__, f"shift_add_{kernel_shape[0]}x{kernel_shape[1]}"
        )
        _compiled[kernel_shape] = torch.compile(own, dynamic=None, fullgraph=True)
    compiled = _compiled[kernel_shape]

    def run(x: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        if _compile_state["broken"]:
            return shift_add(x, K)
        try:
            return compiled(x, K)
        except Exception as e:  # any compile failure: run eagerly instead
            if is_device_out_of_memory(e):
                raise
            _compile_state["broken"] = True
            warnings.warn(
                f"torch.compile failed ({type(e).__name__}); corr2d uses eager kernels from now on",
                RuntimeWarning,
                stacklevel=2,
            )
            return shift_add(x, K)

    return run


def fused_tile(K: torch.Tensor) -> TileFn:
    """The fused shift-add as a tile function (used when a whole image does not fit)."""
    run = fused_shift_add(tuple(K.shape))

    def tile(x: torch.Tensor, out: torch.Tensor) -> None:
        out.copy_(run(x, K))

    return tile
