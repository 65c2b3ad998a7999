"""Canny's band-by-band CPU steps against the whole-image steps: the same weak and strong pixels, bit for bit."""

import numpy as np
import pytest
import torch

from convlearn.edges import bands, gradient_magnitude, non_max_suppression, smooth, sobel_gradients


def _whole_image(X: torch.Tensor, low: float, high: float, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    gx, gy = sobel_gradients(smooth(X, sigma))
    mag = gradient_magnitude(gx, gy)
    weak = non_max_suppression(mag, gx, gy) & (mag > low)
    return weak.numpy(), (weak & (mag > high)).numpy()


def _image(shape, dtype, seed=0) -> torch.Tensor:
    # Blurred 8-bit noise: edges of every direction, many exactly equal magnitudes (ties).
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, shape, generator=g).to(torch.float64)
    x = smooth(x, 1.5).round() / 255
    return x.to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("sigma", [0.0, 1.0, 2.0])
@pytest.mark.parametrize("shape", [(1, 1, 1), (1, 2, 3), (2, 5, 7), (1, 40, 51), (3, 67, 45)])
def test_candidates_equal_the_whole_image_steps(monkeypatch, dtype, sigma, shape):
    monkeypatch.setattr(bands, "BAND_ELEMENTS", 64)  # many bands of 8 rows: every band edge gets used
    X = _image(shape, dtype)
    weak, strong = bands.candidates(X, 0.05, 0.15, sigma)
    ref_weak, ref_strong = _whole_image(X, 0.05, 0.15, sigma)
    assert weak.shape == shape and weak.dtype == bool
    np.testing.assert_array_equal(weak, ref_weak)
    np.testing.assert_array_equal(strong, ref_strong)
    assert not (strong & ~weak).any()


def test_candidates_on_a_large_image_with_default_bands():
    X = _image((1, 300, 700), torch.float32, seed=1)
    weak, strong = bands.candidates(X, 0.02, 0.1, 1.0)
    ref_weak, ref_strong = _whole_image(X, 0.02, 0.1, 1.0)
    assert weak.sum() > 1000
    np.testing.assert_array_equal(weak, ref_weak)
    np.testing.assert_array_equal(strong, ref_strong)


def test_candidates_of_a_non_contiguous_image():
    X = _image((1, 50, 60), torch.float32, seed=2)
    T = X.transpose(1, 2)  # (1, 60, 50), a view
    weak, _ = bands.candidates(T, 0.05, 0.15, 1.0)
    np.testing.assert_array_equal(weak, _whole_image(T.contiguous(), 0.05, 0.15, 1.0)[0])
