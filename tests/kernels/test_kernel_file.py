"""Kernel files: the one reader and writer, .json and .npy, bias, anchor and metadata."""

import json

import numpy as np
import pytest

from convlearn.errors import InputError, KernelSpecError
from convlearn.kernels import Kernel, format_kernel_file, kernel_to_json, load_kernel_file, parse_kernel
from convlearn.kernels.kernel import check_weight
from convlearn.kernels.kernel_file import LAYOUTS


def test_kernel_file_roundtrip(tmp_path):
    kernel = parse_kernel("1,2;3,4")
    path = tmp_path / "k.json"
    path.write_text(kernel_to_json(kernel, solver="sgd"))
    back = parse_kernel(str(path))
    np.testing.assert_array_equal(back.weight, kernel.weight)
    assert back.bias is None
    assert back.meta["solver"] == "sgd"


def test_kernel_json_with_bias(tmp_path):
    path = tmp_path / "k.json"
    path.write_text(json.dumps({"kernel": [[1, -1]], "bias": 0.5}))
    assert parse_kernel(str(path)).bias == 0.5


def test_kernel_npy(tmp_path):
    path = tmp_path / "k.npy"
    np.save(path, np.array([[1.0, -1.0]], dtype=np.float32))
    np.testing.assert_array_equal(load_kernel_file(path).weight, [[1.0, -1.0]])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"weights": [[1]]}', 'no "kernel" key'),
        ('{"kernel": [1, 2]}', "list of rows of numbers"),
        ('{"kernel": [[1, 2], [3]]}', "ragged rows"),
        ('{"kernel": [[1]], "bias": "x"}', "bias"),
        ("not json", "not valid JSON"),
    ],
)
def test_bad_kernel_json(tmp_path, content, message):
    path = tmp_path / "k.json"
    path.write_text(content)
    with pytest.raises(KernelSpecError, match=message):
        parse_kernel(str(path))


def test_npy_object_dtype_refused(tmp_path):
    path = tmp_path / "k.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(KernelSpecError, match="not a plain numeric .npy"):
        parse_kernel(str(path))


def test_pickle_file_refused(tmp_path):
    import pickle

    path = tmp_path / "k.pkl"
    path.write_bytes(pickle.dumps([[1, -1]]))
    with pytest.raises(KernelSpecError, match="never loads pickles"):
        parse_kernel(str(path))


def test_anchor_survives_a_kernel_file(tmp_path):
    K = parse_kernel("3x2+0+1: 1 2 3 4 5 6")
    (tmp_path / "k.json").write_text(kernel_to_json(K))
    back = parse_kernel(str(tmp_path / "k.json"))
    np.testing.assert_array_equal(back.weight, K.weight)
    assert back.origin == (1, 0)
    (tmp_path / "bad.json").write_text(json.dumps({"kernel": [[1, 2]], "anchor": [1, 0]}))
    with pytest.raises(KernelSpecError, match='"anchor" must be \\[row, col\\] inside the 1x2 kernel'):
        parse_kernel(str(tmp_path / "bad.json"))


# The writer.


def test_indented_layout_is_json_dumps():
    kernel = Kernel(np.array([[1.0, -0.0], [0.5, 2.0]]), 0.25)
    text = kernel_to_json(kernel, solver="lstsq", kernel_size=[2, 2])
    expected = {"kernel": [[1.0, -0.0], [0.5, 2.0]], "bias": 0.25, "solver": "lstsq", "kernel_size": [2, 2]}
    assert text == json.dumps(expected, indent=2) + "\n"
    assert format_kernel_file(kernel, meta={"solver": "lstsq", "kernel_size": [2, 2]}) == text


def test_rows_layout_reads_back_the_same_kernel(tmp_path):
    kernel = parse_kernel("3x2+2+0: 1 -2 3 0.5 5 -6")
    for layout in LAYOUTS:
        path = tmp_path / f"{layout}.json"
        path.write_text(format_kernel_file(kernel, layout=layout))
        back = load_kernel_file(path)
        assert back.weight.tolist() == kernel.weight.tolist() and back.anchor == kernel.anchor == (0, 2)
    assert format_kernel_file(Kernel(np.array([[1.0, -0.0]])), layout="rows") == (
        '{\n  "kernel": [\n    [1.0, 0.0]\n  ],\n  "bias": null\n}\n'
    )


def test_decimals_round_every_value():
    text = format_kernel_file(Kernel(np.array([[1 / 3, -1e-9]]), 2 / 3), decimals=2)
    assert json.loads(text) == {"kernel": [[0.33, 0.0]], "bias": 0.67}
    assert '"-0.0"' not in text and "-0.0" not in text


def test_unknown_layout():
    with pytest.raises(InputError, match="Invalid layout 'csv'. Expected one of: indented, rows"):
        format_kernel_file(Kernel(np.ones((1, 1))), layout="csv")


# Colour kernels: (3, h, w) per channel, (3, 3, h, w) across channels.

COLOUR_KERNELS = [
    (np.arange(18.0).reshape(3, 2, 3) - 5, (0.1, -0.2, 0.3)),
    (np.arange(18.0).reshape(3, 2, 3) / 7, 0.25),
    (np.random.default_rng(3).standard_normal((3, 3, 2, 2)), None),
    (np.random.default_rng(4).standard_normal((3, 3, 3, 1)), (1.0, 2.0, -3.5)),
]


@pytest.mark.parametrize("weight, bias", COLOUR_KERNELS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_colour_kernel_file_round_trip(tmp_path, weight, bias, layout):
    path = tmp_path / "k.json"
    path.write_text(format_kernel_file(Kernel(weight, bias, anchor=(1, 0)), layout=layout))
    back = load_kernel_file(path)
    assert np.array_equal(back.weight, weight) and back.bias == bias and back.anchor == (1, 0)
    assert back.shape == weight.shape[-2:]
    assert back.channels == ("each" if weight.ndim == 3 else "full")


@pytest.mark.parametrize("weight, bias", COLOUR_KERNELS[:3])
def test_colour_kernel_npy_round_trip(tmp_path, weight, bias):
    np.save(tmp_path / "k.npy", weight)
    back = load_kernel_file(tmp_path / "k.npy")
    assert np.array_equal(back.weight, weight) and back.bias is None


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"kernel": [[[1, 2]], [[3, 4]]]}', "list of rows of numbers"),
        ('{"kernel": [[[1, 2]], [[3, 4]], [[5]]]}', "ragged rows"),
        ('{"kernel": [[[1]], [[2]], [[3]]], "bias": [1, 2]}', "a list of 3 numbers"),
        ('{"kernel": [[1, 2]], "bias": [1, 2, 3]}', '"bias" must be a number or null'),
        ('{"kernel": [[[1]], [[2]], [[3]]], "anchor": [1, 0]}', '"anchor" must be'),
    ],
)
def test_bad_colour_kernel_files(tmp_path, content, message):
    path = tmp_path / "k.json"
    path.write_text(content)
    with pytest.raises(KernelSpecError, match=message):
        load_kernel_file(path)


def test_a_colour_weight_is_refused_where_one_plane_is_needed():
    with pytest.raises(KernelSpecError, match="must be a non-empty 2-D matrix, got shape"):
        check_weight(np.zeros((3, 2, 2)), "x")


def test_a_npy_of_another_shape_is_refused(tmp_path):
    np.save(tmp_path / "k.npy", np.zeros((2, 2, 2)))
    with pytest.raises(KernelSpecError, match=r"must be a non-empty 2-D matrix, \(3, h, w\) or \(3, 3, h, w\) array"):
        load_kernel_file(tmp_path / "k.npy")
