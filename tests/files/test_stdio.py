"""'-' as a path: images from stdin and to stdout."""

import numpy as np
import pytest
from PIL import Image

from convlearn.errors import ImageReadError, InputError


class _Stream:
    """A text stream with a binary buffer, as sys.stdin and sys.stdout are."""

    def __init__(self, data: bytes = b""):
        import io

        self.buffer = io.BytesIO(data)


def test_read_input_from_stdin(monkeypatch):
    import io

    from convlearn.images.stdio import read_input

    buffer = io.BytesIO()
    Image.fromarray(np.array([[0, 255]], dtype=np.uint8)).save(buffer, format="PNG")
    monkeypatch.setattr("sys.stdin", _Stream(buffer.getvalue()))
    assert read_input("-").tolist() == [[0.0, 1.0]]


def test_read_input_empty_stdin(monkeypatch):
    from convlearn.images.stdio import read_input

    monkeypatch.setattr("sys.stdin", _Stream(b""))
    with pytest.raises(ImageReadError, match="<stdin>: the file is empty"):
        read_input("-")


@pytest.mark.parametrize("fmt", ["png", "npy", "tif"])
def test_write_output_to_stdout_roundtrips(monkeypatch, fmt):
    from convlearn.images import decode_image
    from convlearn.images.stdio import write_output

    stream = _Stream()
    monkeypatch.setattr("sys.stdout", stream)
    values = np.array([[0.0, 0.5, 1.0]], dtype=np.float32)
    assert write_output("-", values, scale="clip", fmt=fmt) == "-"
    back = decode_image(stream.buffer.getvalue())
    np.testing.assert_allclose(back, values, atol=0.5 / 255 if fmt == "png" else 0)


def test_write_output_bad_format(monkeypatch):
    from convlearn.images.stdio import write_output

    monkeypatch.setattr("sys.stdout", _Stream())
    with pytest.raises(InputError, match="^Invalid format 'gif'. Expected one of: png, tif, npy$"):
        write_output("-", np.zeros((2, 2)), fmt="gif")
