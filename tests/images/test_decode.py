"""Reading images: integer levels to [0, 1], colour to luma, exact float files, and every refusal."""

import io

import numpy as np
import pytest
from PIL import Image

from convlearn.errors import ImageReadError
from convlearn.images import (
    LUMA,
    decode_image,
    decode_with_levels,
    integer_range,
    read_image,
    read_with_levels,
)


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


# The stored levels, kept by the same decode.


def _encoded(array: np.ndarray, fmt: str = "PNG") -> bytes:
    """The bytes of a file holding ``array``: ``.npy`` for ``fmt="npy"``, else a Pillow format."""
    buffer = io.BytesIO()
    if fmt == "npy":
        np.save(buffer, array)
    else:
        Image.fromarray(array).save(buffer, format=fmt)
    return buffer.getvalue()


def test_integer_range_of_wide_and_signed_types():
    assert integer_range(np.dtype(np.int8)) == (-128, 127)
    assert integer_range(np.uint32) == (0, 2**32 - 1) and integer_range(np.int64) == (-(2**63), 2**63 - 1)
    assert integer_range(np.float16) is None


@pytest.mark.parametrize(
    ("levels", "bounds"),
    [
        (np.array([[0, 51, 255]], np.uint8), (0, 255)),
        (np.array([[0, 255, 65535]], np.uint16), (0, 65535)),
        (np.arange(18, dtype=np.uint8).reshape(2, 3, 3), (0, 255)),
    ],
)
def test_levels_of_integer_pictures(levels, bounds):
    channels = "each" if levels.ndim == 3 else "luma"  # a grey image refuses "each"
    decoded = decode_with_levels(_encoded(levels), channels=channels)
    np.testing.assert_array_equal(decoded.levels, levels)
    assert decoded.bounds == bounds
    np.testing.assert_array_equal(decoded.values, decode_image(_encoded(levels), channels=channels))


@pytest.mark.parametrize("planes", [2, 4])
def test_npy_of_two_or_four_planes_is_refused_alike(planes):
    # A fourth plane was dropped without a word, while two planes were refused: both are refused now.
    array = np.arange(6 * planes, dtype=np.int16).reshape(2, 3, planes)
    with pytest.raises(ImageReadError, match=rf"got shape \(2, 3, {planes}\)"):
        decode_with_levels(_encoded(array, "npy"), dtype=np.float64)


@pytest.mark.parametrize(
    "data",
    [
        _encoded(np.array([[0.0, 1.0]], np.float32), "npy"),
        _encoded(np.array([[True, False]]), "npy"),
        _encoded(np.array([[True, False]])),  # bilevel
    ],
    ids=["float-npy", "bool-npy", "bilevel-png"],
)
def test_float_and_bilevel_data_have_no_levels(data):
    decoded = decode_with_levels(data)
    assert decoded.levels is None and decoded.bounds is None
    np.testing.assert_array_equal(decoded.values, decode_image(data))


def test_float_tiff_has_no_levels():
    buffer = io.BytesIO()
    Image.fromarray(np.array([[0.5, -1.0]], np.float32)).save(buffer, format="TIFF")
    decoded = decode_with_levels(buffer.getvalue())
    assert decoded.levels is None and decoded.values.tolist() == [[0.5, -1.0]]


def test_read_with_levels_reads_the_file_once_as_read_image_does(tmp_path):
    levels = np.array([[0, 7], [200, 255]], np.uint8)
    Image.fromarray(levels).save(tmp_path / "a.png")
    decoded = read_with_levels(tmp_path / "a.png", dtype=np.float64)
    np.testing.assert_array_equal(decoded.values, levels / 255)  # float64: exact
    np.testing.assert_array_equal(decoded.levels, levels)
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), decoded.values.astype(np.float32))
    with pytest.raises(ImageReadError, match="does not exist"):
        read_with_levels(tmp_path / "gone.png")


def test_levels_keep_the_size_limit():
    with pytest.raises(ImageReadError, match="larger than the limit of 4 pixels"):
        decode_with_levels(_encoded(np.zeros((3, 3), np.uint8)), max_pixels=4)
