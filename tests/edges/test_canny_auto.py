"""--canny auto (Otsu on the gradient magnitude), thresholds beyond any image refused, empty edge maps warned of."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import invoke_cli

from convlearn.detect.config import MAX_CANNY, DetectConfig, check_config, parse_canny
from convlearn.edges import canny, canny_thresholds, gradient_magnitude, otsu_threshold, smooth, sobel_gradients
from convlearn.errors import InputError

SAMPLES = Path(__file__).resolve().parents[2] / "sample_images"


def test_max_canny_is_the_largest_sobel_magnitude_of_a_unit_image():
    best = 0.0
    for bits in range(256):  # the eight outer pixels of a 3x3 window at 0 or 1: the magnitude is convex
        w = np.array([(bits >> k) & 1 for k in range(8)], float)
        X = torch.from_numpy(np.insert(w, 4, 0.5).reshape(3, 3))
        gx, gy = sobel_gradients(X)
        best = max(best, float(gradient_magnitude(gx, gy)[1, 1]))
    assert best == pytest.approx(MAX_CANNY, abs=1e-12)


def test_opencv_numbers_are_refused_with_their_image_units():
    with pytest.raises(InputError, match=r"0\.392,0\.784"):
        parse_canny("100,200")
    assert parse_canny(f"0,{MAX_CANNY}") == (0.0, MAX_CANNY)
    assert check_config(DetectConfig(canny=" AUTO ")).canny == "auto"


def test_auto_thresholds_are_otsu_of_the_magnitude_and_half_of_it():
    rng = np.random.default_rng(0)
    X = torch.from_numpy(rng.random((2, 40, 50)))
    t = canny_thresholds(X, sigma=1.0)
    gx, gy = sobel_gradients(smooth(X, 1.0))
    high = otsu_threshold(gradient_magnitude(gx, gy))
    assert t.shape == (2, 2)
    torch.testing.assert_close(t[:, 1], high, rtol=0, atol=0)
    torch.testing.assert_close(t[:, 0], high / 2, rtol=0, atol=0)


def test_per_plane_thresholds_equal_one_call_per_plane():
    X = torch.from_numpy(np.random.default_rng(1).random((3, 30, 41))).float()
    lows, highs = torch.tensor([0.05, 0.2, 0.5]), torch.tensor([0.1, 0.6, 1.5])
    together = canny(X, lows, highs, 1.0)
    for n in range(3):
        assert torch.equal(together[n], canny(X[n], float(lows[n]), float(highs[n]), 1.0))
    assert len({int(together[n].sum()) for n in range(3)}) == 3  # the thresholds did differ


def test_uint8_and_bool_edges_equal_the_float_ones():
    X = torch.from_numpy(np.random.default_rng(2).random((50, 61))).float()
    ref = canny(X, 0.1, 0.3)
    assert ref.dtype == torch.float32
    for dtype in (torch.uint8, torch.bool):
        got = canny(X, 0.1, 0.3, dtype=dtype)
        assert got.dtype == dtype and torch.equal(got.float(), ref)


def test_detect_canny_auto_tells_and_writes_its_thresholds(tmp_path):
    r = invoke_cli("detect", str(SAMPLES / "shapes.png"), "--canny", "auto", "-o", str(tmp_path / "a.png"), "--json")
    assert r.returncode == 0, r.stderr
    record = json.loads(r.stdout.decode().splitlines()[0])
    low, high = record["threshold"]
    assert 0 < low == pytest.approx(high / 2) and high < MAX_CANNY
    assert record["max"] == 1.0  # edges found
    r = invoke_cli("detect", str(SAMPLES / "shapes.png"), "--canny", "auto", "-o", str(tmp_path / "b.png"))
    assert f"{low:.4g},{high:.4g}" in r.stdout.decode() + r.stderr.decode()


def test_detect_refuses_opencv_thresholds_and_warns_of_no_edges(tmp_path):
    r = invoke_cli("detect", str(SAMPLES / "shapes.png"), "--canny", "100,200", "-o", str(tmp_path / "a.png"))
    assert r.returncode == 2 and b"0.392,0.784" in r.stderr
    assert not (tmp_path / "a.png").exists()
    r = invoke_cli("detect", str(SAMPLES / "shapes.png"), "--canny", "4,4.4", "-o", str(tmp_path / "b.png"))
    assert r.returncode == 0 and b"warning: no edges" in r.stderr
    r = invoke_cli("detect", str(SAMPLES / "shapes.png"), "--canny", "0.1,0.3", "-o", str(tmp_path / "c.png"))
    assert r.returncode == 0 and b"warning" not in r.stderr


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_banded_magnitude_is_the_whole_image_one(dtype, monkeypatch):
    """Within float64 rounding: the band-by-band magnitude that --canny auto's Otsu reads."""
    from convlearn.edges import bands

    monkeypatch.setattr(bands, "BAND_ELEMENTS", 64)  # bands of 8 rows: every band edge used
    X = torch.from_numpy(np.random.default_rng(4).random((2, 37, 29))).to(dtype)
    for sigma in (0.0, 1.0, 2.0):
        gx, gy = sobel_gradients(smooth(X, sigma))
        # The same sums as the whole-image steps; float64 smoothing may pick another engine: rounding apart.
        torch.testing.assert_close(bands.magnitude(X, sigma), gradient_magnitude(gx, gy), rtol=1e-12, atol=1e-15)
