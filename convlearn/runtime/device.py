"""Device choice, and the fp32 settings every compute path relies on."""

from __future__ import annotations

import torch

from convlearn.errors import DeviceError, invalid_choice

__all__ = ["DEVICES", "exact_fp32", "resolve_device"]

#: The values ``--device`` accepts.
DEVICES = ("auto", "cpu", "cuda")


def exact_fp32() -> None:
    """Turn off TF32 so CUDA matches the CPU to fp32 rounding.

    On an H100, cuDNN's TF32 default moved a 5x5 correlation by 2.4e-3 from the
    fp32 result (measured by the team; see the core issue).
    """
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


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
