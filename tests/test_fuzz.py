"""Fuzzing the parsers and loaders: whatever the bytes, only convlearn's own errors come out.

Each property runs a bounded number of examples so the suite stays fast in CI;
raise ``CONVLEARN_FUZZ_EXAMPLES`` for a longer hunt.
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from convlearn.errors import ConvlearnError
from convlearn.images import decode_image, read_image
from convlearn.kernels import MAX_KERNEL_SIDE, load_kernel_file, parse_kernel, parse_matrix
from convlearn.learn import align_target

EXAMPLES = int(os.environ.get("CONVLEARN_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# One scratch directory for the loaders that need a real file; each example overwrites it.
SCRATCH = Path(tempfile.mkdtemp(prefix="convlearn-fuzz-"))


def _valid_files() -> list[bytes]:
    """Small valid files of every kind convlearn reads, for the fuzzer to damage."""
    out = []
    for fmt, mode in [("PNG", "L"), ("PNG", "RGB"), ("PNG", "I;16"), ("TIFF", "F"), ("BMP", "RGB"), ("JPEG", "L")]:
        buffer = io.BytesIO()
        Image.new(mode, (5, 4)).save(buffer, format=fmt)
        out.append(buffer.getvalue())
    buffer = io.BytesIO()
    np.save(buffer, np.arange(12, dtype=np.float32).reshape(3, 4))
    out.append(buffer.getvalue())
    out.append(b'{"kernel": [[1, -1]], "bias": 0.5}')
    return out


VALID = _valid_files()


@st.composite
def damaged_files(draw) -> bytes:
    """A valid file with bytes overwritten, cut short, or both; or plain random bytes."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=300))
    data = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(0, 3))):
        junk = draw(st.binary(min_size=1, max_size=16))
        at = draw(st.integers(0, len(data) - 1))
        data[at : at + len(junk)] = junk
    cut = draw(st.integers(0, len(data)))
    return bytes(data[:cut]) if draw(st.booleans()) else bytes(data)


def _only_our_errors(call, *args, **kwargs):
    """Run ``call``; return its result, or None when it raised one of convlearn's errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about some damaged files before it fails
        try:
            return call(*args, **kwargs)
        except ConvlearnError as e:
            assert str(e), f"{type(e).__name__} without a message"
            return None


# Kernel specs.

SPEC_ALPHABET = "0123456789.,;: -+eExnaifNIboslgpr/"


@FUZZ
@given(st.one_of(st.text(max_size=40), st.text(alphabet=SPEC_ALPHABET, max_size=40)))
def test_parse_kernel_raises_only_kernel_spec_errors(spec):
    kernel = _only_our_errors(parse_kernel, spec)
    if kernel is not None:
        assert kernel.weight.ndim == 2 and kernel.weight.size > 0
        assert max(kernel.weight.shape) <= MAX_KERNEL_SIDE
        assert np.isfinite(kernel.weight).all()


finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)


@FUZZ
@given(
    st.integers(1, 5).flatmap(lambda w: st.lists(st.lists(finite, min_size=w, max_size=w), min_size=1, max_size=5)),
    st.sampled_from([",", " ", ", ", " , "]),
    st.sampled_from([";", " ; ", ";  "]),
)
def test_parse_matrix_round_trips(rows, sep, row_sep):
    text = row_sep.join(sep.join(repr(v) for v in row) for row in rows)
    assert parse_matrix(text).tolist() == rows


@FUZZ
@given(st.lists(st.lists(finite, min_size=2, max_size=2), min_size=1, max_size=3), st.integers(0, 5))
def test_parse_matrix_rejects_a_value_replaced_by_nan_inf_or_nothing(rows, pick):
    flat = [repr(v) for row in rows for v in row]
    for bad in ("nan", "inf", "-inf", ""):
        values = flat.copy()
        values[pick % len(values)] = bad
        text = ";".join(",".join(values[i : i + 2]) for i in range(0, len(values), 2))
        with pytest.raises(ConvlearnError):
            parse_matrix(text)


# Images.


@FUZZ
@given(damaged_files())
def test_arbitrary_bytes_as_an_image(data):
    image = _only_our_errors(decode_image, data, "fuzz.png")
    if image is not None:
        assert image.dtype == np.float32 and image.ndim == 2 and image.size > 0
        assert np.isfinite(image).all()
        assert image.flags.writeable  # torch.from_numpy warns on read-only arrays


@FUZZ
@given(damaged_files(), st.sampled_from([".png", ".npy", ".tif", ".jpg", ""]))
def test_arbitrary_bytes_as_an_image_file(data, suffix):
    path = SCRATCH / f"image{suffix}"
    path.write_bytes(data)
    image = _only_our_errors(read_image, path, max_pixels=10_000)
    if image is not None:
        assert image.ndim == 2 and image.size <= 10_000


# Kernel files.


@FUZZ
@given(damaged_files(), st.sampled_from([".json", ".npy"]))
def test_arbitrary_bytes_as_a_kernel_file(data, suffix):
    path = SCRATCH / f"kernel{suffix}"
    path.write_bytes(data)
    kernel = _only_our_errors(load_kernel_file, path)
    if kernel is not None:
        assert kernel.weight.ndim == 2 and np.isfinite(kernel.weight).all()
        assert kernel.bias is None or math.isfinite(kernel.bias)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats() | st.text(max_size=3),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(["kernel", "bias", "x"]), children)
    ),
    max_leaves=20,
)


@FUZZ
@given(json_values)
def test_any_json_document_as_a_kernel_file(value):
    path = SCRATCH / "doc.json"
    path.write_text(json.dumps(value))  # NaN and Infinity included, as Python writes them
    kernel = _only_our_errors(load_kernel_file, path)
    if kernel is not None:
        assert kernel.weight.ndim == 2 and np.isfinite(kernel.weight).all()


# Pairs for learn.


@FUZZ
@given(damaged_files(), damaged_files(), st.sampled_from([(1, 2), (3, 3), (2, 1)]))
def test_arbitrary_bytes_as_a_training_pair(x_bytes, y_bytes, kernel_size):
    x_path, y_path = SCRATCH / "x.png", SCRATCH / "y.npy"
    x_path.write_bytes(x_bytes)
    y_path.write_bytes(y_bytes)
    X = _only_our_errors(read_image, x_path, max_pixels=10_000)
    Y = _only_our_errors(read_image, y_path, max_pixels=10_000)
    if X is not None and Y is not None:
        target = _only_our_errors(align_target, torch.from_numpy(X), torch.from_numpy(Y), kernel_size, str(y_path))
        if target is not None:
            h, w = kernel_size
            assert tuple(target.shape) == (X.shape[0] - h + 1, X.shape[1] - w + 1)
