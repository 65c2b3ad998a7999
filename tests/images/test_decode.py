"""Reading images: integer levels to [0, 1], colour to luma, exact float files, and every refusal."""

import numpy as np
import pytest
from PIL import Image

from convlearn.errors import ImageReadError
from convlearn.images import LUMA, read_image


def test_8bit_png_scaled_to_unit(tmp_path):
    levels = np.array([[0, 51, 255]], dtype=np.uint8)
    Image.fromarray(levels).save(tmp_path / "a.png")
    out = read_image(tmp_path / "a.png")
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, levels / 255, rtol=1e-6)


def test_16bit_png_scaled_by_65535(tmp_path):
    levels = np.array([[0, 1000, 65535]], dtype=np.uint16)
    Image.fromarray(levels).save(tmp_path / "a.png")
    np.testing.assert_allclose(read_image(tmp_path / "a.png"), levels / 65535, rtol=1e-6)


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif"])
def test_colour_becomes_luma(tmp_path, suffix):
    rgb = np.zeros((2, 3, 3), dtype=np.uint8)
    rgb[0, 0] = (255, 0, 0)
    rgb[0, 1] = (0, 255, 0)
    rgb[0, 2] = (0, 0, 255)
    rgb[1] = 200
    Image.fromarray(rgb).save(tmp_path / f"a{suffix}")
    out = read_image(tmp_path / f"a{suffix}")
    expected = rgb.astype(np.float64) / 255 @ np.array(LUMA)
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_jpeg_colour_becomes_luma(tmp_path):
    rgb = np.empty((16, 16, 3), dtype=np.uint8)
    rgb[:] = (200, 100, 50)  # a flat colour survives JPEG nearly exactly
    Image.fromarray(rgb).save(tmp_path / "a.jpg", quality=95)
    expected = np.array([200, 100, 50]) / 255 @ np.array(LUMA)
    np.testing.assert_allclose(read_image(tmp_path / "a.jpg"), expected, atol=2 / 255)


def test_each_channel(tmp_path):
    rgb = np.arange(18, dtype=np.uint8).reshape(2, 3, 3)
    Image.fromarray(rgb).save(tmp_path / "a.png")
    np.testing.assert_allclose(read_image(tmp_path / "a.png", channels="each"), rgb / 255, rtol=1e-6)


def test_missing_file():
    with pytest.raises(ImageReadError, match="'nope.png' does not exist"):
        read_image("nope.png")


def test_directory(tmp_path):
    with pytest.raises(ImageReadError, match="is a directory"):
        read_image(tmp_path)


def test_empty_file(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    with pytest.raises(ImageReadError, match="the file is empty"):
        read_image(tmp_path / "a.png")


def test_random_bytes(tmp_path):
    (tmp_path / "a.png").write_bytes(b"\x00\x01garbage" * 10)
    with pytest.raises(ImageReadError, match="not an image"):
        read_image(tmp_path / "a.png")


def test_truncated_png(tmp_path):
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)).save(tmp_path / "a.png")
    data = (tmp_path / "a.png").read_bytes()
    (tmp_path / "b.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="damaged or truncated"):
        read_image(tmp_path / "b.png")


def test_nan_in_npy(tmp_path):
    np.save(tmp_path / "a.npy", np.array([[1.0, np.nan]]))
    with pytest.raises(ImageReadError, match="NaN or inf"):
        read_image(tmp_path / "a.npy")


def test_decompression_bomb(tmp_path):
    Image.fromarray(np.zeros((20, 20), dtype=np.uint8)).save(tmp_path / "a.png")
    with pytest.raises(ImageReadError, match="larger than the limit of 100 pixels"):
        read_image(tmp_path / "a.png", max_pixels=100)
    assert read_image(tmp_path / "a.png", max_pixels=400).shape == (20, 20)
