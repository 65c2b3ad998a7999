"""Canny's parts and the whole method, against OpenCV's cv2.Canny(L2gradient=True) and SciPy's labels."""

from pathlib import Path

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch
from conftest import cuda
from PIL import Image

from convlearn.edges import (
    TAN_22_5,
    TAN_67_5,
    canny,
    gradient_magnitude,
    hysteresis,
    non_max_suppression,
    otsu_threshold,
    sobel_gradients,
)

SAMPLES = ["shapes", "checker", "diagonal", "noise", "stripes"]


def _sample(name: str) -> np.ndarray:
    path = Path(__file__).resolve().parents[2] / "sample_images" / f"{name}.png"
    return np.array(Image.open(path).convert("L"))


def _blurred8(cv2, seed: int, shape=(48, 64), sigma=1.5) -> np.ndarray:
    """A random 8-bit image smooth enough to have edges of every direction."""
    noise = np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), sigma)


# Canny's parts.


def _nms_reference(mag, gx, gy):
    """OpenCV's non-maximum suppression, pixel by pixel (canny.cpp), with 0 outside."""
    H, W = mag.shape
    m = np.pad(mag, 1)
    keep = np.zeros((H, W), bool)
    for i in range(H):
        for j in range(W):
            c = m[i + 1, j + 1]
            ax, ay = abs(gx[i, j]), abs(gy[i, j])
            if ay < ax * TAN_22_5:
                keep[i, j] = c > m[i + 1, j] and c >= m[i + 1, j + 2]
            elif ay > ax * TAN_67_5:
                keep[i, j] = c > m[i, j + 1] and c >= m[i + 2, j + 1]
            else:
                s = 1 if (gx[i, j] >= 0) == (gy[i, j] >= 0) else -1
                keep[i, j] = c > m[i, j + 1 - s] and c > m[i + 2, j + 1 + s]
    return keep


def test_non_max_suppression_is_opencvs_rule(cv2):
    img = torch.from_numpy(_blurred8(cv2, 3, (24, 30)).astype(np.float64))
    gx, gy = sobel_gradients(img)
    mag = gradient_magnitude(gx, gy)
    ours = non_max_suppression(mag, gx, gy).numpy()
    np.testing.assert_array_equal(ours, _nms_reference(mag.numpy(), gx.numpy(), gy.numpy()))


@pytest.mark.parametrize("seed", range(4))
def test_hysteresis_matches_scipy_labels(seed):
    rng = np.random.default_rng(seed)
    weak = rng.random((2, 40, 50)) < 0.45
    strong = weak & (rng.random(weak.shape) < 0.02)
    ours = hysteresis(torch.from_numpy(strong), torch.from_numpy(weak)).numpy()
    ref = np.zeros_like(weak)
    for k in range(2):
        labels, _ = ndi.label(weak[k], structure=np.ones((3, 3)))
        keep = np.unique(labels[strong[k]])
        ref[k] = np.isin(labels, keep[keep > 0])
    np.testing.assert_array_equal(ours, ref)


def test_hysteresis_follows_a_long_snake():
    # One pixel wide path winding through the whole image, seeded at one end.
    weak = np.zeros((21, 21), bool)
    weak[::2, :] = True
    for r in range(1, 21, 2):
        weak[r, 20 if r % 4 == 1 else 0] = True
    strong = np.zeros_like(weak)
    strong[0, 0] = True
    out = hysteresis(torch.from_numpy(strong), torch.from_numpy(weak)).numpy()
    np.testing.assert_array_equal(out, weak)


# Canny against cv2.Canny(L2gradient=True).


@pytest.mark.parametrize("name", SAMPLES)
def test_canny_is_opencvs_in_float64(cv2, name):
    # No smoothing (cv2.Canny has none) and float64: the same edges, pixel for pixel.
    img = _sample(name)
    ref = cv2.Canny(img, 50, 150, L2gradient=True) > 0
    ours = canny(torch.from_numpy(img.astype(np.float64)) / 255, 50 / 255, 150 / 255, sigma=0).numpy() > 0
    np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("seed", range(3))
def test_canny_float32_agrees_with_opencv(cv2, seed):
    # In float32, rounding can break ties between equal magnitudes the other way.
    img = _blurred8(cv2, seed)
    ref = cv2.Canny(img, 20, 60, L2gradient=True) > 0
    ours = canny(torch.from_numpy(img.astype(np.float32) / 255), 20 / 255, 60 / 255, sigma=0).numpy() > 0
    assert (ours == ref).mean() > 0.995


def _within_one_pixel(cv2, a: np.ndarray, b: np.ndarray) -> float:
    grown = cv2.dilate(b.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return float((a & grown).sum() / max(a.sum(), 1))


@pytest.mark.parametrize("name", ["shapes", "noise", "checker"])
def test_canny_with_smoothing_agrees_with_opencv_within_a_pixel(cv2, name):
    # OpenCV's usual pipeline: GaussianBlur (8-bit result), then Canny.
    img = _sample(name)
    blurred = cv2.GaussianBlur(img, (7, 7), 1.0, borderType=cv2.BORDER_REFLECT_101)
    ref = cv2.Canny(blurred, 0.1 * 255, 0.3 * 255, L2gradient=True) > 0
    ours = canny(torch.from_numpy(img.astype(np.float32) / 255), 0.1, 0.3, sigma=1.0).numpy() > 0
    assert ours.sum() > 0
    assert _within_one_pixel(cv2, ours, ref) > 0.99
    assert _within_one_pixel(cv2, ref, ours) > 0.99


def test_canny_edges_are_thin_and_binary():
    X = torch.zeros(20, 20)
    X[5:15, 5:15] = 1.0
    E = canny(X, 0.2, 0.5, sigma=1.0)
    assert set(E.unique().tolist()) == {0.0, 1.0}
    # A square outline, one pixel wide: at most one edge pixel per row in a band.
    assert (E[8:12, :10].sum(dim=1) == 1).all()


def test_canny_batch_equals_one_by_one(cv2):
    a = torch.from_numpy(_blurred8(cv2, 4).astype(np.float32) / 255)
    b = torch.from_numpy(_blurred8(cv2, 5).astype(np.float32) / 255)
    both = canny(torch.stack([a, b]), 0.05, 0.2)
    assert torch.equal(both[0], canny(a, 0.05, 0.2)) and torch.equal(both[1], canny(b, 0.05, 0.2))


def test_canny_on_tiny_images():
    assert canny(torch.ones(1, 1), 0.1, 0.2).shape == (1, 1)
    assert canny(torch.rand(2, 3), 0.1, 0.2).shape == (2, 3)


@pytest.mark.cuda
@cuda
def test_canny_and_otsu_on_cuda_match_cpu(cv2):
    from convlearn.runtime.device import exact_fp32

    exact_fp32()
    X = torch.from_numpy(_blurred8(cv2, 6, (256, 320)).astype(np.float32) / 255)
    cpu = canny(X, 0.05, 0.15)
    gpu = canny(X.cuda(), 0.05, 0.15).cpu()
    assert (cpu == gpu).float().mean() > 0.999
    assert float(otsu_threshold(X.cuda())) == pytest.approx(float(otsu_threshold(X)), abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hysteresis_paths_agree(seed):
    """The CPU's labelling and the parallel method (CUDA's) keep the same pixels, planes apart."""
    from convlearn.edges.canny import _hysteresis_label, _hysteresis_parallel

    g = torch.Generator().manual_seed(seed)
    cand = torch.rand(3, 40, 50, generator=g) < 0.45  # near the percolation threshold: long components
    seeds = cand & (torch.rand(3, 40, 50, generator=g) < 0.02)
    a, b = _hysteresis_label(cand, seeds), _hysteresis_parallel(cand, seeds)
    assert torch.equal(a, b)
    assert 0 < int(a.sum()) < int(cand.sum())
