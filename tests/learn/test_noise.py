"""The target noise model: rounding, float32, JPEG from its own tables (calibrated against the measured error)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image
from wild_data import photo

from convlearn.learn.noise import ROUNDING, NoiseModel, jpeg_quality, noise_model, robust_floor, table_floor


def test_png_8_and_16_bit_floor_is_rounding(tmp_path):
    Image.fromarray(photo(64)).save(tmp_path / "a.png")
    model = noise_model(tmp_path / "a.png")
    assert model.floor_levels == pytest.approx(1 / math.sqrt(12))
    assert model.describe() == "noise floor 0.29 levels (8-bit PNG)"
    np.save(tmp_path / "b.npy", photo(64).astype(np.uint16) * 257)
    assert noise_model(tmp_path / "b.npy").source == "16-bit"


def test_float32_floor_is_relative(tmp_path):
    np.save(tmp_path / "f.npy", np.full((8, 8), 2.0, np.float32))
    model = noise_model(tmp_path / "f.npy")
    assert model.source == "float32"
    assert model.floor_levels == pytest.approx(2.0 * 2.0**-23 * ROUNDING)


@pytest.mark.parametrize("quality", [75, 85, 90, 95, 100])
def test_jpeg_quality_read_from_its_tables(tmp_path, quality):
    Image.fromarray(photo(64)).save(tmp_path / "a.jpg", quality=quality)
    model = noise_model(tmp_path / "a.jpg")
    assert model.source == "jpeg" and model.quality == quality
    assert f"quality about {quality}" in model.describe() and model.describe().startswith("noise floor about ")


def test_jpeg_floor_against_measured_error(tmp_path, cv2):
    """Predicted / measured RMS of (decoded JPEG - lossless), over filtered photo-like images and q75..100."""
    ratios, table_ratios = [], []
    for seed in range(3):
        x = photo(256, seed)
        for y in (x, cv2.GaussianBlur(x, (5, 5), 1.2), np.asarray(Image.fromarray(x).filter(_sharpen()))):
            for q in (75, 85, 90, 95, 100):
                Image.fromarray(y).save(tmp_path / "t.jpg", quality=q)
                decoded = np.asarray(Image.open(tmp_path / "t.jpg"), float)
                measured = math.sqrt(np.mean((decoded - y) ** 2) + ROUNDING**2)  # and the rounding before the JPEG
                ratios.append(noise_model(tmp_path / "t.jpg").floor_levels / measured)
                table = np.asarray(Image.open(tmp_path / "t.jpg").quantization[0])
                table_ratios.append(math.sqrt(table_floor(table) ** 2 + 2 * ROUNDING**2) / measured)
    ratios = np.array(ratios)
    # Measured: 0.69..1.2 here (median ~0.95); 0.75..2.9 (median 1.29) on the benchmark's real photos.
    assert 0.6 < ratios.min() and ratios.max() < 3.0, ratios
    assert 0.8 < np.median(ratios) < 2.0
    # ... and its worst case is much closer than the plain q²/12 bound of the table alone
    # (up to 6x here, 20x on photos).
    assert np.abs(np.log(table_ratios)).max() > 2 * np.abs(np.log(ratios)).max()


def _sharpen():
    from PIL import ImageFilter

    return ImageFilter.SHARPEN


def test_quality_estimate_matches_ijg_tables():
    from convlearn.learn.noise import _ijg_table

    assert [jpeg_quality(_ijg_table(q)) for q in (10, 50, 75, 99)] == [10, 50, 75, 99]


def test_robust_floor_on_noise_over_a_photo():
    rng = np.random.default_rng(3)
    from scipy.ndimage import gaussian_filter

    # A photograph's fine detail is smooth next to sensor noise: blurred, so the residual is mostly the noise.
    noisy = gaussian_filter(photo(256).astype(float), 2.0) + rng.normal(0, 3, (256, 256))
    assert 2.4 < robust_floor(noisy) < 4.2


def test_describe_small_floor():
    assert NoiseModel(3.4e-8, "float32", "float32 NumPy array").describe() == (
        "noise floor 3.4e-08 levels (float32 NumPy array)"
    )
