import numpy as np
import pytest
from PIL import Image

from convlearn.errors import ImageReadError, InputError
from convlearn.images import LUMA, read_image, to_picture, write_image


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


@pytest.mark.parametrize("suffix", [".npy", ".tif", ".tiff"])
def test_exact_roundtrip(tmp_path, suffix):
    values = np.random.default_rng(0).standard_normal((7, 5)).astype(np.float32)
    write_image(tmp_path / f"a{suffix}", values)
    np.testing.assert_array_equal(read_image(tmp_path / f"a{suffix}"), values)


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


def test_failed_write_leaves_old_file(tmp_path):
    target = tmp_path / "a.png"
    target.write_bytes(b"old")
    with pytest.raises(InputError):
        write_image(target.with_suffix(".xyz"), np.zeros((2, 2)))
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


# Every output format, round-tripped.


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


@pytest.mark.parametrize(("scale", "expected"), [("minmax", [0, 32768, 65535]), ("signed", [0, 32768, 65535])])
def test_16bit_scales(scale, expected):
    assert to_picture(np.array([[-1.0, 0.0, 1.0]]), scale, bit_depth=16).tolist() == [expected]


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


# stdin and stdout.


class _Stream:
    """A text stream with a binary buffer, as sys.stdin and sys.stdout are."""

    def __init__(self, data: bytes = b""):
        import io

        self.buffer = io.BytesIO(data)


def test_read_input_from_stdin(monkeypatch):
    import io

    from convlearn.images import read_input

    buffer = io.BytesIO()
    Image.fromarray(np.array([[0, 255]], dtype=np.uint8)).save(buffer, format="PNG")
    monkeypatch.setattr("sys.stdin", _Stream(buffer.getvalue()))
    assert read_input("-").tolist() == [[0.0, 1.0]]


def test_read_input_empty_stdin(monkeypatch):
    from convlearn.images import read_input

    monkeypatch.setattr("sys.stdin", _Stream(b""))
    with pytest.raises(ImageReadError, match="<stdin>: the file is empty"):
        read_input("-")


@pytest.mark.parametrize("fmt", ["png", "npy", "tif"])
def test_write_output_to_stdout_roundtrips(monkeypatch, fmt):
    from convlearn.images import decode_image, write_output

    stream = _Stream()
    monkeypatch.setattr("sys.stdout", stream)
    values = np.array([[0.0, 0.5, 1.0]], dtype=np.float32)
    assert write_output("-", values, scale="clip", fmt=fmt) == "-"
    back = decode_image(stream.buffer.getvalue())
    np.testing.assert_allclose(back, values, atol=0.5 / 255 if fmt == "png" else 0)


def test_write_output_bad_format(monkeypatch):
    from convlearn.images import write_output

    monkeypatch.setattr("sys.stdout", _Stream())
    with pytest.raises(InputError, match="^Invalid format 'gif'. Expected one of: png, tif, npy$"):
        write_output("-", np.zeros((2, 2)), fmt="gif")
