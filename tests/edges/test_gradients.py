"""Smoothing, Sobel gradients, magnitude and angle, against OpenCV."""

import math

import numpy as np
import torch

from convlearn.edges import gradient_angle, gradient_magnitude, smooth, sobel_gradients


def _blurred8(cv2, seed: int, shape=(48, 64), sigma=1.5) -> np.ndarray:
    """A random 8-bit image smooth enough to have edges of every direction."""
    noise = np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), sigma)


def test_magnitude_and_angle_match_opencv_sobel(cv2):
    X = _blurred8(cv2, 0).astype(np.float32) / 255
    gx = cv2.Sobel(X, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REPLICATE)
    gy = cv2.Sobel(X, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REPLICATE)
    tx, ty = sobel_gradients(torch.from_numpy(X))
    np.testing.assert_allclose(tx.numpy(), gx, atol=1e-5)
    np.testing.assert_allclose(ty.numpy(), gy, atol=1e-5)
    np.testing.assert_allclose(gradient_magnitude(tx, ty).numpy(), cv2.magnitude(gx, gy), rtol=1e-4, atol=1e-5)
    theta = gradient_angle(tx, ty).numpy()
    assert theta.min() >= -math.pi and theta.max() <= math.pi
    # cv2.phase is in [0, 2 pi); the same direction modulo 2 pi, where the gradient is not ~0.
    strong = cv2.magnitude(gx, gy) > 1e-3
    diff = np.angle(np.exp(1j * (theta - cv2.phase(gx, gy))))
    assert np.abs(diff[strong]).max() < 1e-3


def test_magnitude_by_hand():
    assert gradient_magnitude(torch.tensor([3.0, 0.0]), torch.tensor([4.0, -2.0])).tolist() == [5.0, 2.0]
    angles = gradient_angle(torch.tensor([1.0, 0.0, -1.0]), torch.tensor([0.0, 1.0, 0.0]))
    torch.testing.assert_close(angles, torch.tensor([0.0, math.pi / 2, math.pi]))


def test_smooth_matches_opencv_gaussian_blur(cv2):
    X = _blurred8(cv2, 2).astype(np.float32) / 255
    ref = cv2.GaussianBlur(X, (7, 7), 1.0, borderType=cv2.BORDER_REFLECT_101)
    np.testing.assert_allclose(smooth(torch.from_numpy(X), 1.0).numpy(), ref, atol=1e-6)
