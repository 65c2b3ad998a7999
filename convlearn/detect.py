"""Applying a kernel to images: the library behind ``convlearn detect``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from convlearn.corr import filter2d
from convlearn.images import DEFAULT_MAX_PIXELS, read_image, write_image
from convlearn.kernels import Kernel

__all__ = ["DetectConfig", "apply_kernel", "detect_file"]


@dataclass(frozen=True)
class DetectConfig:
    """How ``detect`` filters. Defaults are the notebook's corr2d."""

    mode: str = "valid"  # valid: the notebook's output shape
    border: str = "zero"  # only used by mode "same"; zero: like nn.Conv2d's padding
    device: str = "auto"
    scale: str = "auto"  # picture mapping for .png output, see images.SCALES
    bit_depth: int = 8
    max_pixels: int | None = DEFAULT_MAX_PIXELS


def apply_kernel(image: torch.Tensor | np.ndarray, kernel: Kernel, config: DetectConfig | None = None) -> torch.Tensor:
    """Correlate an image with a kernel (plus its bias, if it has one).

    Args:
        image: float image.
        kernel: from :func:`convlearn.kernels.parse_kernel`.
        config: mode, border and device.

    Returns:
        float32 result on the chosen device.

    Shape:
        - image: :math:`(H, W)` or :math:`(B, H, W)`
        - Output: ``valid``: :math:`(..., H - h + 1, W - w + 1)`; ``same``: the image's shape

    >>> from convlearn.kernels import parse_kernel
    >>> apply_kernel(torch.tensor([[0.0, 1.0, 1.0]]), parse_kernel("edge")).tolist()
    [[-1.0, 0.0]]
    """
    from convlearn.device import resolve_device

    cfg = config or DetectConfig()
    device = resolve_device(cfg.device)
    X = torch.as_tensor(image).to(device=device, dtype=torch.float32)
    K = torch.from_numpy(kernel.weight).to(device=device, dtype=torch.float32)
    Y = filter2d(X, K, mode=cfg.mode, border=cfg.border, anchor=kernel.anchor)
    if kernel.bias is not None:
        Y = Y + kernel.bias
    return Y


def detect_file(
    path: str | os.PathLike, output: str | os.PathLike | None, kernel: Kernel, config: DetectConfig | None = None
) -> torch.Tensor:
    """Read an image, apply the kernel and (when ``output`` is given) write the result.

    Returns:
        The result, on the CPU.
    """
    cfg = config or DetectConfig()
    X = read_image(path, max_pixels=cfg.max_pixels)  # (H, W)
    Y = apply_kernel(X, kernel, cfg).cpu()
    if output is not None:
        write_image(Path(output), Y.numpy(), scale=cfg.scale, bit_depth=cfg.bit_depth)
    return Y
