"""Image gradients: Gaussian smoothing, 3x3 Sobel derivatives, their magnitude and angle.

Everything here runs in torch on a stack of planes, :math:`(N, H, W)`, on the
CPU or CUDA. ``x`` runs along columns (to the right) and ``y`` along rows
(downwards), as in OpenCV; ``angle = atan2(gy, gx)`` in radians in
:math:`(-\\pi, \\pi]`, as ``numpy.arctan2``, so it turns clockwise on screen.
"""

from __future__ import annotations

import math

import torch

from convlearn.corr import as_planes, filter2d
from convlearn.kernels import KERNELS, gaussian_1d

__all__ = ["gradient_angle", "gradient_magnitude", "smooth", "sobel_gradients"]


def gradient_magnitude(gx: torch.Tensor, gy: torch.Tensor) -> torch.Tensor:
    """``sqrt(gx² + gy²)``, computed without overflow (``torch.hypot``).

    Args:
        gx: the x derivative.
        gy: the y derivative, same shape.

    Returns:
        The magnitude, same shape.

    >>> gradient_magnitude(torch.tensor([3.0]), torch.tensor([4.0]))
    tensor([5.])
    """
    return torch.hypot(gx, gy)


def gradient_angle(gx: torch.Tensor, gy: torch.Tensor) -> torch.Tensor:
    """The gradient's direction ``atan2(gy, gx)`` in radians, in :math:`(-\\pi, \\pi]`.

    y points down the rows, so positive angles turn clockwise on screen.

    >>> gradient_angle(torch.tensor([0.0]), torch.tensor([1.0]))  # brighter downwards
    tensor([1.5708])
    """
    return torch.atan2(gy, gx)


def smooth(X: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian smoothing as ``cv2.GaussianBlur(ksize=(0, 0), sigmaX=sigma)`` does for 8-bit images.

    The kernel has OpenCV's size for 8-bit images, ``round(6 sigma + 1)`` made
    odd, cut down where the image is too small for it; it runs as two 1-D
    passes with OpenCV's default border (``reflect``, BORDER_REFLECT_101).

    Shape:
        - X: :math:`(..., H, W)`
        - Output: the same

    >>> smooth(torch.ones(4, 4), 1.0).allclose(torch.ones(4, 4))
    True
    """
    Xb, _ = as_planes(X, "smooth")
    if sigma <= 0:
        return X
    size = math.floor(6 * sigma + 1 + 0.5) | 1  # cvRound(sigma * 3 * 2 + 1) | 1
    reach = min(size // 2, min(Xb.shape[-2:]) - 1)
    if reach <= 0:
        return X
    g = torch.from_numpy(gaussian_1d(2 * reach + 1, sigma)).to(X)  # (k,)
    out = filter2d(Xb, g[None, :], mode="same", border="reflect")  # rows, then columns
    out = filter2d(out, g[:, None], mode="same", border="reflect")  # (N, H, W)
    return out.reshape(X.shape)


def sobel_gradients(X: torch.Tensor, border: str = "replicate") -> tuple[torch.Tensor, torch.Tensor]:
    """3x3 Sobel derivatives ``(gx, gy)`` of the input's size; replicated borders, as ``cv2.Canny``.

    Shape:
        - X: :math:`(..., H, W)`
        - Output: two tensors of X's shape
    """
    Xb, _ = as_planes(X, "sobel_gradients")
    kx = torch.from_numpy(KERNELS["sobel-x"].make([])).to(X)
    gx = filter2d(Xb, kx, mode="same", border=border)  # (N, H, W)
    gy = filter2d(Xb, kx.T.contiguous(), mode="same", border=border)
    return gx.reshape(X.shape), gy.reshape(X.shape)
