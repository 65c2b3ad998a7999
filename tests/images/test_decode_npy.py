"""``.npy`` files are memory-mapped when read from a path: the same values and levels as decoding their bytes."""

import numpy as np
import pytest

from convlearn.errors import ImageReadError
from convlearn.images import decode_image, decode_with_levels, read_image, read_with_levels


@pytest.mark.parametrize(
    "array",
    [
        np.random.default_rng(0).random((9, 11)).astype(np.float32),
        np.random.default_rng(1).random((9, 11)),  # float64
        np.random.default_rng(2).integers(0, 256, (9, 11)).astype(np.uint8),
        np.random.default_rng(3).integers(0, 65536, (7, 5, 3)).astype(np.uint16),  # colour
        np.asfortranarray(np.random.default_rng(4).random((6, 8)).astype(np.float32)),
    ],
    ids=["float32", "float64", "uint8", "uint16-rgb", "fortran"],
)
def test_a_npy_file_reads_as_its_bytes_decode(tmp_path, array):
    path = tmp_path / "a.npy"
    np.save(path, array)
    data = path.read_bytes()
    np.testing.assert_array_equal(read_image(path), decode_image(data))
    for channels in ("luma", "each"):
        if channels == "each" and array.ndim == 2:  # one plane: both ways refuse R, G and B alike
            for read in (
                lambda: read_with_levels(path, channels="each"),
                lambda: decode_with_levels(data, channels="each"),
            ):
                with pytest.raises(ImageReadError, match="single-plane"):
                    read()
            continue
        ours = read_with_levels(path, channels=channels, dtype=np.float64)
        ref = decode_with_levels(data, channels=channels, dtype=np.float64)
        np.testing.assert_array_equal(ours.values, ref.values)
        assert ours.values.dtype == np.float64 and ours.values.flags.writeable
        assert ours.bounds == ref.bounds
        if ref.levels is None:
            assert ours.levels is None
        else:
            np.testing.assert_array_equal(ours.levels, ref.levels)


def test_a_damaged_npy_file_is_an_image_read_error(tmp_path):
    path = tmp_path / "bad.npy"
    np.save(path, np.zeros((64, 64), np.float32))
    path.write_bytes(path.read_bytes()[:200])  # header intact, data cut short
    with pytest.raises(ImageReadError, match="bad.npy"):
        read_image(path)


def test_a_npy_file_with_nan_is_refused(tmp_path):
    path = tmp_path / "nan.npy"
    np.save(path, np.array([[0.0, np.nan]], np.float32))
    with pytest.raises(ImageReadError, match="NaN or inf"):
        read_image(path)
