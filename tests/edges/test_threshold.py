"""Thresholds: a number or Otsu's, against OpenCV and an exhaustive search."""

import itertools

import numpy as np
import pytest
import torch

from convlearn.edges import apply_threshold, otsu_threshold
from convlearn.errors import InputError


def _blurred8(cv2, seed: int, shape=(48, 64), sigma=1.5) -> np.ndarray:
    """A random 8-bit image smooth enough to have edges of every direction."""
    noise = np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), sigma)


def test_threshold_keeps_values_strictly_above():
    binary, t = apply_threshold(torch.tensor([[0.2, 0.5, 0.7], [0.5, 0.51, -1.0]]), 0.5)
    assert binary.tolist() == [[0, 0, 1], [0, 1, 0]]
    assert float(t) == 0.5


@pytest.mark.parametrize("seed", range(6))
def test_otsu_matches_opencv_on_8bit_images(cv2, seed):
    img = _blurred8(cv2, seed, sigma=3.0)
    _, ref = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    X = torch.from_numpy(img.astype(np.float32) / 255)
    binary, t = apply_threshold(X, "otsu")
    np.testing.assert_array_equal(binary.numpy() > 0, ref > 0)
    assert 0 < float(t) < 1


def test_otsu_by_hand_and_per_plane():
    # Two clusters: the threshold sits halfway between them.
    assert float(otsu_threshold(torch.tensor([[0.0, 0.1, 0.9, 1.0]]))) == pytest.approx(0.5)
    a = torch.tensor([[0.0, 0.1, 0.9, 1.0]])
    b = torch.tensor([[10.0, 11.0, 30.0, 31.0]])
    ts = otsu_threshold(torch.stack([a, b]))
    assert ts.shape == (2,)
    assert ts.tolist() == pytest.approx([0.5, 20.5])
    # A flat plane: nothing lies above its value.
    binary, t = apply_threshold(torch.full((3, 3), 0.4), "otsu")
    assert float(t) == pytest.approx(0.4) and binary.sum() == 0


def test_otsu_split_is_the_best_split():
    # Exhaustive reference: every split between sorted distinct values.
    v = np.random.default_rng(1).choice(np.linspace(0, 1, 60), size=500)
    values = np.unique(v)

    def between(t):
        lo, hi = v[v <= t], v[v > t]
        return len(lo) * len(hi) * (lo.mean() - hi.mean()) ** 2

    best = max(((a + b) / 2 for a, b in itertools.pairwise(values)), key=between)
    t = float(otsu_threshold(torch.from_numpy(v).reshape(20, 25)))
    assert t == pytest.approx(best)


def test_a_threshold_is_a_value_not_text():
    with pytest.raises(InputError, match=r"^Invalid threshold '0.5'. Expected a number, 'otsu' or a tensor$"):
        apply_threshold(torch.zeros(2, 2), "0.5")
