"""Size, bias, clipping, the linear verdict and the name, chosen from the data under the noise model."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image, ImageFilter
from wild_data import photo

from convlearn.learn.noise import noise_model
from convlearn.learn.select import decide

K3 = np.array([[0.05, -0.2, 0.1], [-0.15, 1.3, -0.1], [0.12, -0.22, 0.1]])


def _decide(tmp_path, x, y, fmt):
    """Save y as the other program would (PNG, JPEG at quality fmt, or float32 .npy) and decide from the file."""
    if fmt == "float32":
        path = tmp_path / "t.npy"
        np.save(path, y.astype(np.float32))
        target = np.load(path).astype(np.float64)
    else:
        path = tmp_path / ("t.png" if fmt == "png" else "t.jpg")
        Image.fromarray(y).save(path, **({} if fmt == "png" else {"quality": int(fmt)}))
        target = np.asarray(Image.open(path), dtype=np.float64)
    return decide(x, target, noise_model(path))


@pytest.mark.parametrize("fmt", ["png", "95", "90", "float32"])
def test_3x3_comes_back_3x3(tmp_path, cv2, fmt):
    x = photo(192)
    if fmt == "float32":
        xf = x.astype(np.float32) / 255
        d = _decide(tmp_path, xf, cv2.filter2D(xf, -1, K3.astype(np.float32), borderType=cv2.BORDER_REFLECT), fmt)
        assert d.kernel.shape == (3, 3)
        assert np.abs(d.kernel - K3).max() < 1e-6
    else:
        d = _decide(tmp_path, x, cv2.filter2D(x, -1, K3), fmt)
        assert d.kernel.shape == (3, 3), d.why
    assert d.linear, d.why


def test_an_exact_float_target_of_a_sharpen_is_linear_and_a_float_median_is_not(tmp_path, cv2):
    """A float32 filter rounds in its own sums: a sharpen (weights summing to 9 in size) stays linear."""
    xf = photo(192).astype(np.float32) / 255
    sharpen = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], np.float32)
    d = _decide(tmp_path, xf, cv2.filter2D(xf, -1, sharpen, borderType=cv2.BORDER_REFLECT), "float32")
    assert d.kernel.shape == (3, 3) and d.linear, d.why
    assert "with the filter's own rounding" in d.noise.description
    median = _decide(tmp_path, xf, cv2.medianBlur(xf, 5), "float32")
    assert not median.linear, median.why


LINEAR = {
    "cv GaussianBlur": lambda cv2, x: cv2.GaussianBlur(x, (5, 5), 1.2),
    "cv blur": lambda cv2, x: cv2.blur(x, (3, 3)),
    "cv filter2D": lambda cv2, x: cv2.filter2D(x, -1, K3),
    "pil SHARPEN": lambda cv2, x: np.asarray(Image.fromarray(x).filter(ImageFilter.SHARPEN)),
    "pil SMOOTH": lambda cv2, x: np.asarray(Image.fromarray(x).filter(ImageFilter.SMOOTH)),
}
NONLINEAR = {
    "median": lambda cv2, x: cv2.medianBlur(x, 5),
    "bilateral": lambda cv2, x: cv2.bilateralFilter(x, 9, 50, 5),
    "unsharp threshold": lambda cv2, x: np.asarray(Image.fromarray(x).filter(ImageFilter.UnsharpMask(2, 150, 3))),
    "max": lambda cv2, x: np.asarray(Image.fromarray(x).filter(ImageFilter.MaxFilter(3))),
    "min": lambda cv2, x: np.asarray(Image.fromarray(x).filter(ImageFilter.MinFilter(3))),
    "gamma": lambda cv2, x: np.round(255 * (x / 255.0) ** 0.8).astype(np.uint8),
}


@pytest.mark.parametrize("fmt", ["png", "100", "90", "75"])
@pytest.mark.parametrize("name", sorted(LINEAR))
def test_linear_filters_behind_jpeg_are_not_flagged(tmp_path, cv2, name, fmt):
    x = photo(192, seed=2)
    d = _decide(tmp_path, x, LINEAR[name](cv2, x), fmt)
    assert d.linear, d.why


#: Known misses of the pixel verdict of :func:`decide` alone: on this heavily textured image a q90 JPEG's error
#: (floor ~3.7 levels) hides a median's, a bilateral's and a thresholded unsharp mask's residual, and the non-linear
#: terms do not catch it. ``learn`` judges a greyscale JPEG by its quantisation bins instead, which catch the median
#: and the unsharp mask (tests/cli/test_cli_learn_wild.py).
MISSED = {("median", "90"), ("bilateral", "90"), ("unsharp threshold", "90")}


@pytest.mark.parametrize("fmt", ["png", "90"])
@pytest.mark.parametrize("name", sorted(NONLINEAR))
def test_nonlinear_filters_are_flagged(tmp_path, cv2, name, fmt, request):
    if (name, fmt) in MISSED:
        request.applymarker(pytest.mark.xfail(reason="prototype verdict misses it behind this JPEG", strict=True))
    x = photo(192, seed=2)
    d = _decide(tmp_path, x, NONLINEAR[name](cv2, x), fmt)
    assert not d.linear, d.why


def test_gaussian_behind_q90_jpeg_is_named(tmp_path, cv2):
    x = photo(256, seed=4)
    d = _decide(tmp_path, x, cv2.GaussianBlur(x, (5, 5), 1.2), "90")
    m = re.fullmatch(r"gaussian:5,([0-9.]+)", d.name or "")
    assert m and abs(float(m.group(1)) - 1.2) <= 0.1, d.name


def test_never_named_with_another_dc_gain(tmp_path):
    """EDGE_ENHANCE's weights sum to 1: a multiple of a Laplacian (sum 0) must not be its name."""
    x = photo(192, seed=5)
    d = _decide(tmp_path, x, np.asarray(Image.fromarray(x).filter(ImageFilter.EDGE_ENHANCE)), "png")
    assert abs(d.kernel.sum() - 1) < 0.02
    assert d.name is None or ("lap" not in d.name and "log" not in d.name), d.name


def test_offset_gets_a_bias(tmp_path, cv2):
    x = photo(192, seed=6)
    d = _decide(tmp_path, x, cv2.Sobel(x, cv2.CV_8U, 1, 0, scale=0.25, delta=128), "png")
    assert d.kernel.shape == (3, 3) and d.bias == pytest.approx(128, abs=0.5)
