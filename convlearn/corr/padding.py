"""Border padding: what ``filter2d(mode="same")`` adds around the image before the valid correlation."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from convlearn.corr.config import check_border
from convlearn.corr.planes import as_images
from convlearn.errors import InputError

__all__ = ["pad_same"]

_TORCH_PAD = {"zero": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


def pad_same(
    X: torch.Tensor, kernel_shape: tuple[int, int], border: str = "zero", anchor: tuple[int, int] | None = None
) -> torch.Tensor:
    """Pad X so that a valid corr2d with a kernel of ``kernel_shape`` keeps X's size.

    The output pixel sits at the kernel's ``anchor`` (default: the centre
    ``(h // 2, w // 2)``, as in OpenCV and SciPy).

    Args:
        X: image(s), floating point.
        kernel_shape: the kernel's ``(h, w)``.
        border: ``zero``, ``reflect`` (OpenCV's REFLECT_101), ``replicate`` or ``circular``.
        anchor: the kernel's ``(row, col)`` origin; default the centre.

    Returns:
        X with ``h - 1`` rows and ``w - 1`` columns added around it.

    Shape:
        - X: :math:`(H, W)`, :math:`(B, H, W)` or :math:`(B, 1, H, W)`
        - Output: X's leading shape, then :math:`(H + h - 1, W + w - 1)`

    Raises:
        InputError: an unknown border, or an image too small for ``reflect`` or ``circular``.

    >>> pad_same(torch.ones(2, 2), (3, 3)).shape
    torch.Size([4, 4])
    """
    check_border(border)
    h, w = kernel_shape
    ay, ax = anchor if anchor is not None else (h // 2, w // 2)
    Xb, lead = as_images(X)
    H, W = Xb.shape[-2:]
    pads = (ax, w - 1 - ax, ay, h - 1 - ay)  # left, right, top, bottom
    if border == "reflect" and (max(ay, h - 1 - ay) >= H or max(ax, w - 1 - ax) >= W):
        raise InputError(
            f"Border 'reflect' needs an image larger than the kernel's reach; the image is {H}x{W} for a {h}x{w} kernel"
        )
    if border == "circular" and (max(ay, h - 1 - ay) > H or max(ax, w - 1 - ax) > W):
        raise InputError(
            f"Border 'circular' needs an image at least as large as the kernel's reach; the image is {H}x{W}"
        )
    padded = F.pad(Xb.unsqueeze(1), pads, mode=_TORCH_PAD[border]).squeeze(1)  # (N, H+h-1, W+w-1)
    return padded.reshape(*lead, *padded.shape[-2:])
