"""The Gaussian family: OpenCV's Gaussian weights, its size from sigma, and the Laplacian of Gaussian.

This module needs only numpy, so listing kernels does not import torch.
"""

from __future__ import annotations

import numpy as np

__all__ = ["gaussian_1d", "gaussian_kernel", "gaussian_size", "log_kernel", "opencv_sigma"]


def opencv_sigma(size: int, sigma: float = 0.0) -> float:
    """``sigma``, or OpenCV's default for a kernel of ``size`` when ``sigma <= 0``.

    >>> opencv_sigma(5), opencv_sigma(5, 2.0)
    (1.1, 2.0)
    """
    # OpenCV's getGaussianKernel rule for sigma <= 0 (cv2 docs, "getGaussianKernel").
    return sigma if sigma > 0 else 0.3 * ((size - 1) * 0.5 - 1) + 0.8


#: The fixed kernels OpenCV's getGaussianKernel returns for odd sizes up to 7
#: when sigma <= 0 (binomial weights, /4, /16, /64... in OpenCV 4 and 5 alike;
#: OpenCV 5 also tabulates size 9, convlearn computes that one).
_OPENCV_SMALL_GAUSSIANS = {
    1: [1.0],
    3: [0.25, 0.5, 0.25],
    5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
    7: [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125],
}


def gaussian_1d(size: int, sigma: float = 0.0) -> np.ndarray:
    """OpenCV's ``getGaussianKernel(size, sigma)``: normalised 1-D Gaussian weights.

    Odd sizes match OpenCV to rounding (``cv2.GaussianBlur`` takes no others);
    even sizes are sampled at ``i - (size - 1) / 2``, which OpenCV 5 does not do.

    >>> gaussian_1d(3).tolist()
    [0.25, 0.5, 0.25]
    """
    if sigma <= 0 and size in _OPENCV_SMALL_GAUSSIANS:
        return np.array(_OPENCV_SMALL_GAUSSIANS[size], dtype=np.float64)
    sigma = opencv_sigma(size, sigma)
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def gaussian_kernel(size: int, sigma: float = 0.0) -> np.ndarray:
    """A normalised Gaussian, the outer product of OpenCV's ``getGaussianKernel``.

    This is the kernel ``cv2.GaussianBlur(ksize=(size, size), sigmaX=sigma)`` applies.

    Args:
        size: side length.
        sigma: standard deviation; ``<= 0`` picks OpenCV's default for ``size``.

    Returns:
        float64 array of shape :math:`(size, size)` summing to 1.

    >>> gaussian_kernel(3, 0).tolist()[0]
    [0.0625, 0.125, 0.0625]
    """
    g = gaussian_1d(size, sigma)
    return np.outer(g, g)


def log_kernel(size: int, sigma: float = 0.0) -> np.ndarray:
    """Laplacian of Gaussian: SciPy's ``gaussian_laplace`` weights, shifted to sum to zero.

    The weights are those ``scipy.ndimage.gaussian_laplace(sigma=sigma,
    radius=(size - 1) // 2)`` applies (second derivatives of a Gaussian whose
    1-D weights sum to 1), minus their mean, so that flat regions give exactly 0.
    The centre is negative, as in ``cv2.Laplacian`` and :data:`KERNELS` ``laplacian``.

    >>> k = log_kernel(5, 1.0); bool(abs(k.sum()) < 1e-12 and k[2, 2] < 0)
    True
    """
    sigma = opencv_sigma(size, sigma)
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    g /= g.sum()  # (size,)
    d2 = g * (x**2 / sigma**4 - 1 / sigma**2)  # second derivative of g, (size,)
    k = np.outer(d2, g) + np.outer(g, d2)  # d2/dy2 + d2/dx2, (size, size)
    return k - k.mean()


def gaussian_size(sigma: float) -> int:
    """The side OpenCV gives a Gaussian asked for by sigma alone (ksize 0) on an 8-bit image.

    OpenCV's createGaussianKernels (modules/imgproc/src/smooth.dispatch.cpp) takes
    ``cvRound(sigma * (depth == CV_8U ? 3 : 4) * 2 + 1) | 1``: 3 sigma each side on
    8-bit images, 4 on float ones. convlearn uses the 8-bit rule, the one
    ``cv2.GaussianBlur(img, (0, 0), sigma)`` applies to the 8-bit images most
    users have; for the float rule write the size, ``gaussian:SIZE,SIGMA``.
    cvRound and Python's round both round half to even.

    >>> gaussian_size(1.0), gaussian_size(1.5), gaussian_size(2.0)
    (7, 11, 13)
    """
    return round(sigma * 3 * 2 + 1) | 1
