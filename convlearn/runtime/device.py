"""Device choice, and the fp32 settings every compute path relies on.

TF32 stays off on CUDA, so that CUDA matches the CPU to fp32 rounding: on an
H100, cuDNN's TF32 default moved a 5x5 correlation by 2.4e-3 from the fp32
result. :func:`exact_fp32` turns it off for the process (the device the CLI
resolves), :func:`cudnn_exact` for one cuDNN call, whatever the caller set.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from convlearn.errors import DeviceError, invalid_choice
from convlearn.runtime.config import DEVICES

__all__ = ["DEVICES", "cudnn_exact", "exact_fp32", "resolve_device"]

_cudnn_lock = threading.RLock()


def exact_fp32() -> None:
    """Turn off TF32 for the whole process, in matmuls and in cuDNN."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


@contextmanager
def cudnn_exact(device: torch.device) -> Iterator[None]:
    """On CUDA: cuDNN with TF32 off (and autotuning on) inside, the caller's flags restored after.

    cuDNN's flags are global, so threads take turns inside (a thread restoring
    them would otherwise undo another's). Elsewhere: nothing to set.
    """
    if device.type != "cuda":
        yield
        return
    with _cudnn_lock, torch.backends.cudnn.flags(enabled=True, benchmark=True, deterministic=False, allow_tf32=False):
        yield


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """Map ``auto|cpu|cuda[:N]`` to a torch device that exists here.

    Args:
        name: ``"auto"`` picks CUDA when available, else the CPU.

    Returns:
        The device.

    Raises:
        DeviceError: CUDA asked for on a machine without it, or an unknown name.

    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(name, torch.device):
        name = str(name)
    text = str(name).strip().lower()
    if text == "auto":
        text = "cuda" if torch.cuda.is_available() else "cpu"
    base = text.split(":", 1)[0]
    if base not in DEVICES[1:]:
        raise invalid_choice("device", name, DEVICES)
    try:
        device = torch.device(text)
    except RuntimeError:
        raise invalid_choice("device", name, DEVICES) from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError("--device cuda was asked for, but CUDA is not available here. Use --device cpu or auto")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(
                f"CUDA device {device.index} does not exist; this machine has {torch.cuda.device_count()}"
            )
        exact_fp32()
    return device
