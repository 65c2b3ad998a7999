"""Writing images: picture scales, 8- and 16-bit levels, exact float files, every format round-tripped."""

import io

import numpy as np
import pytest
from PIL import Image

from convlearn.errors import InputError
from convlearn.images import LUMA, encode_image, read_image, to_picture, write_image


def test_png_signed_picture(tmp_path):
    write_image(tmp_path / "a.png", np.array([[-2.0, 0.0, 2.0]]))
    assert np.asarray(Image.open(tmp_path / "a.png")).tolist() == [[0, 128, 255]]


def test_png_unit_values_stay_exact(tmp_path):
    write_image(tmp_path / "a.png", np.array([[0.0, 1.0]]))
    assert np.asarray(Image.open(tmp_path / "a.png")).tolist() == [[0, 255]]


@pytest.mark.parametrize(
    ("scale", "expected"),
    [("clip", [0, 0, 255]), ("signed", [0, 128, 255]), ("abs", [255, 0, 255]), ("minmax", [0, 128, 255])],
)
def test_scales(scale, expected):
    assert to_picture(np.array([[-1.0, 0.0, 1.0]]), scale).tolist() == [expected]


def test_bad_scale_message():
    with pytest.raises(InputError, match="^Invalid scale 'x'. Expected one of: auto, clip, signed, abs, minmax$"):
        to_picture(np.zeros((1, 1)), "x")


@pytest.mark.parametrize(("scale", "expected"), [("minmax", [0, 32768, 65535]), ("signed", [0, 32768, 65535])])
def test_16bit_scales(scale, expected):
    assert to_picture(np.array([[-1.0, 0.0, 1.0]]), scale, bit_depth=16).tolist() == [expected]


def test_failed_write_leaves_old_file(tmp_path):
    target = tmp_path / "a.png"
    target.write_bytes(b"old")
    with pytest.raises(InputError):
        write_image(target.with_suffix(".xyz"), np.zeros((2, 2)))
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


@pytest.mark.parametrize(
    ("suffix", "kwargs", "message"),
    [
        (".tif", {}, "A float TIFF holds one plane"),
        (".png", {"bit_depth": 16}, "16-bit output needs a single-plane .png"),
    ],
)
def test_colour_refused_where_the_format_has_one_plane(tmp_path, suffix, kwargs, message):
    with pytest.raises(InputError, match=message):
        write_image(tmp_path / f"a{suffix}", np.zeros((2, 2, 3)), **kwargs)
    assert list(tmp_path.iterdir()) == []


# Every output format, round-tripped.


@pytest.mark.parametrize("suffix", [".npy", ".tif", ".tiff"])
def test_exact_roundtrip(tmp_path, suffix):
    values = np.random.default_rng(0).standard_normal((7, 5)).astype(np.float32)
    write_image(tmp_path / f"a{suffix}", values)
    np.testing.assert_array_equal(read_image(tmp_path / f"a{suffix}"), values)


def test_8bit_png_roundtrip_is_exact_on_levels(tmp_path):
    values = (np.arange(256, dtype=np.float64).reshape(16, 16) / 255).astype(np.float32)
    write_image(tmp_path / "a.png", values, scale="clip")
    assert np.asarray(Image.open(tmp_path / "a.png")).dtype == np.uint8
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), values)


def test_16bit_png_roundtrip_is_exact_on_levels(tmp_path):
    levels = np.random.default_rng(1).integers(0, 65536, (9, 11))
    values = (levels / 65535).astype(np.float32)
    write_image(tmp_path / "a.png", values, scale="clip", bit_depth=16)
    with Image.open(tmp_path / "a.png") as image:
        assert image.mode.startswith("I")  # 16-bit grey, not 8-bit
        np.testing.assert_array_equal(np.asarray(image).astype(np.int64), levels)
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), values)


def test_colour_png_roundtrip(tmp_path):
    rgb = (np.random.default_rng(2).integers(0, 256, (5, 7, 3)) / 255).astype(np.float32)
    write_image(tmp_path / "a.png", rgb, scale="clip")
    with Image.open(tmp_path / "a.png") as image:
        assert image.mode == "RGB"
    np.testing.assert_array_equal(read_image(tmp_path / "a.png", channels="each"), rgb)


def test_colour_npy_roundtrip(tmp_path):
    rgb = np.random.default_rng(3).standard_normal((4, 6, 3)).astype(np.float32)
    write_image(tmp_path / "a.npy", rgb)
    np.testing.assert_array_equal(read_image(tmp_path / "a.npy", channels="each"), rgb)
    # Read as luma, the same file becomes one plane.
    np.testing.assert_allclose(read_image(tmp_path / "a.npy"), rgb @ np.array(LUMA, dtype=np.float32), atol=1e-6)


def test_float_tiff_is_32bit(tmp_path):
    values = np.array([[-1.5, 1e-8, 3e5]], dtype=np.float32)
    write_image(tmp_path / "a.tif", values)
    with Image.open(tmp_path / "a.tif") as image:
        assert image.mode == "F"
    np.testing.assert_array_equal(read_image(tmp_path / "a.tif"), values)


@pytest.mark.parametrize("level", range(10))
@pytest.mark.parametrize(("shape", "dtype"), [((9, 11), np.uint8), ((9, 11, 3), np.uint8), ((9, 11), np.uint16)])
def test_png_every_compression_level_keeps_the_levels(level, shape, dtype):
    from convlearn.images import encode_png

    levels = np.random.default_rng(level).integers(0, np.iinfo(dtype).max + 1, shape).astype(dtype)
    with Image.open(io.BytesIO(encode_png(levels, level))) as image:
        np.testing.assert_array_equal(np.asarray(image).astype(np.int64), levels.astype(np.int64))


def test_png_compression_level_sets_the_size():
    from convlearn.images import encode_png

    levels = np.tile(np.arange(64, dtype=np.uint8), (64, 1))
    assert len(encode_png(levels, 0)) > 64 * 64 > len(encode_png(levels, 1)) >= len(encode_png(levels, 9))


def test_png_compression_out_of_range_message():
    with pytest.raises(InputError, match="^Invalid PNG compression 10. Expected one of: 0, 1, 2"):
        encode_image(np.zeros((2, 2)), ".png", png_compression=10)
