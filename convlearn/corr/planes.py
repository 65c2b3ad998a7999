"""The inputs corr2d accepts: images viewed as planes, and the kernel checked against them."""

from __future__ import annotations

import torch

from convlearn.errors import InputError

__all__ = ["as_images", "as_planes", "check_kernel"]


def as_planes(X: torch.Tensor, what: str) -> tuple[torch.Tensor, tuple[int, ...]]:
    """View X of shape (..., H, W) as planes (N, H, W), and give the leading shape to restore.

    Args:
        X: a floating-point tensor of shape (..., H, W).
        what: the caller's name, for the error message.

    Returns:
        ``(planes, lead)``: ``planes`` of shape (N, H, W), a view where the
        layout allows, and ``lead = X.shape[:-2]``.

    Raises:
        InputError: X is not a tensor, has fewer than 2 dimensions, or is not floating point.

    >>> as_planes(torch.zeros(2, 3, 4, 5), "corr2d")[0].shape
    torch.Size([6, 4, 5])
    """
    if not isinstance(X, torch.Tensor):
        raise InputError(f"{what} expects a torch.Tensor, got {type(X).__name__}")
    if X.dim() < 2:
        raise InputError(f"{what} expects planes of shape (..., H, W), got {tuple(X.shape)}")
    if not X.is_floating_point():
        raise InputError(f"{what} expects a floating-point tensor, got {X.dtype}")
    return X.reshape(-1, *X.shape[-2:]), tuple(X.shape[:-2])


def as_images(X: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
    """View an image (H, W), (B, H, W) or (B, 1, H, W) as (N, H, W), remembering the leading shape."""
    if isinstance(X, torch.Tensor) and (X.dim() not in (2, 3, 4) or (X.dim() == 4 and X.shape[1] != 1)):
        raise InputError(f"corr2d expects an image of shape (H, W), (B, H, W) or (B, 1, H, W), got {tuple(X.shape)}")
    return as_planes(X, "corr2d")


def check_kernel(Xb: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """K as a 2-D tensor no larger than the images ``Xb`` (N, H, W), in their dtype and on their device."""
    if not isinstance(K, torch.Tensor):
        K = torch.as_tensor(K)
    if K.dim() != 2 or K.numel() == 0:
        raise InputError(f"corr2d expects a non-empty 2-D kernel, got shape {tuple(K.shape)}")
    h, w = K.shape
    H, W = Xb.shape[-2:]
    if h > H or w > W:
        raise InputError(f"Kernel {h}x{w} is larger than the image {H}x{W}. Use a smaller kernel or a larger image")
    return K.to(device=Xb.device, dtype=Xb.dtype)
