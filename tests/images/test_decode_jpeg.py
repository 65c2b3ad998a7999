"""Colour JPEGs read as luma: libjpeg's Y plane, decoded straight to grey (the lead's choice in issue 11)."""

import io

import numpy as np
import pytest
from PIL import Image

from convlearn.images import LUMA, decode_image, decode_with_levels


def _jpeg(rgb: np.ndarray, quality: int = 95) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def _smooth_rgb(h: int = 96, w: int = 128) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    rgb = np.stack([0.2 + 0.6 * x, 0.3 + 0.4 * y, 0.5 + 0.3 * np.sin(3 * x + 2 * y)], -1)
    return np.rint(rgb * 255).astype(np.uint8)


def _noisy_rgb(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (40, 56, 3)).astype(np.uint8)


@pytest.mark.parametrize("rgb", [_smooth_rgb(), _noisy_rgb()], ids=["smooth", "noise"])
def test_jpeg_luma_is_the_y_plane(rgb):
    data = _jpeg(rgb)
    with Image.open(io.BytesIO(data)) as image:
        image.draft("L", image.size)  # libjpeg's own grey output, at full size
        y = np.asarray(image)
    assert y.shape == rgb.shape[:2]
    ours = decode_image(data)
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours, (y.astype(np.float64) / 255).astype(np.float32))


def test_jpeg_luma_is_close_to_the_luma_of_its_rgb_on_a_smooth_image():
    data = _jpeg(_smooth_rgb())
    from_rgb = decode_with_levels(data).values  # the RGB decode, then 0.299 R + 0.587 G + 0.114 B
    diff = np.abs(decode_image(data).astype(np.float64) - from_rgb) * 255
    assert diff.max() <= 1.0  # no clipping on a smooth image: 8-bit rounding only
    assert diff.mean() < 0.35


def test_jpeg_in_colour_and_png_keep_the_rgb_decode():
    rgb = _noisy_rgb(1)
    jpeg = _jpeg(rgb)
    with Image.open(io.BytesIO(jpeg)) as image:
        decoded_rgb = np.asarray(image.convert("RGB"))
    np.testing.assert_array_equal(decode_image(jpeg, channels="each"), (decoded_rgb / 255).astype(np.float32))
    expected = ((rgb.astype(np.float64) / 255) @ np.array(LUMA)).astype(np.float32)
    np.testing.assert_array_equal(decode_image(_png(rgb)), expected)


def test_grey_levels_are_level_over_255():
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    for dtype in (np.float32, np.float64):
        got = decode_image(_png(levels), dtype=dtype)
        np.testing.assert_array_equal(got, (levels.astype(np.float64) / 255).astype(dtype))
        assert got.dtype == dtype
