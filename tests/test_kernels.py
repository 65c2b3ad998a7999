import json

import numpy as np
import pytest

from convlearn.errors import KernelSpecError
from convlearn.kernels import KERNELS, kernel_to_json, load_kernel_file, parse_kernel, parse_matrix


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("edge", [[1, -1]]),
        ("edge-t", [[1], [-1]]),
        ("sobel-x", [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
        ("sobel-y", [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
        ("laplacian", [[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
        ("1,-1", [[1, -1]]),
        ("1;-1", [[1], [-1]]),
        ("1 0 -1; 2 0 -2; 1 0 -1", [[1, 0, -1], [2, 0, -2], [1, 0, -1]]),
        ("1,0,-1;2,0,-2;1,0,-1", [[1, 0, -1], [2, 0, -2], [1, 0, -1]]),
        ("  SOBEL-X ", [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
        ("1e-1, -.5", [[0.1, -0.5]]),
    ],
)
def test_specs(spec, expected):
    kernel = parse_kernel(spec)
    assert kernel.weight.dtype == np.float64
    np.testing.assert_array_equal(kernel.weight, np.array(expected, dtype=np.float64))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("1,,2", "Empty value in kernel '1,,2'"),
        ("abc", "Unknown kernel 'abc'"),
        ("1,2;3", "Ragged kernel '1,2;3': rows have 1, 2 values"),
        ("", "Empty kernel spec"),
        ("   ", "Empty kernel spec"),
        ("1,nan", "contains NaN or inf"),
        ("inf", "contains NaN or inf"),
        ("1;;2", "Empty row"),
        ("sobelx", "Did you mean 'sobel-x'?"),
        ("box:0", "Invalid parameters for kernel 'box'"),
        ("missing.json", "does not exist"),
    ],
)
def test_bad_specs(spec, message):
    with pytest.raises(KernelSpecError, match=message.replace("(", r"\(").replace("?", r"\?")):
        parse_kernel(spec)


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


def test_parse_matrix_shape():
    assert parse_matrix("1,2,3;4,5,6").shape == (2, 3)


def test_table_has_required_names():
    for name in ["edge", "edge-t", "sobel-x", "sobel-y", "laplacian"]:
        assert name in KERNELS


cv2 = pytest.importorskip("cv2")


@pytest.mark.parametrize(("name", "dx", "dy"), [("sobel-x", 1, 0), ("sobel-y", 0, 1)])
def test_sobel_matches_opencv(name, dx, dy):
    import torch

    from convlearn.corr import filter2d

    rng = np.random.default_rng(3)
    X = rng.random((20, 24), dtype=np.float32)
    ref = cv2.Sobel(X, cv2.CV_32F, dx, dy, ksize=3, borderType=cv2.BORDER_REFLECT_101)
    Y = filter2d(torch.from_numpy(X), torch.from_numpy(parse_kernel(name).weight), mode="same", border="reflect")
    np.testing.assert_allclose(Y.numpy(), ref, atol=1e-5)


def test_laplacian_matches_opencv():
    import torch

    from convlearn.corr import filter2d

    rng = np.random.default_rng(4)
    X = rng.random((20, 24), dtype=np.float32)
    ref = cv2.Laplacian(X, cv2.CV_32F, ksize=1, borderType=cv2.BORDER_REFLECT_101)
    Y = filter2d(torch.from_numpy(X), torch.from_numpy(parse_kernel("laplacian").weight), mode="same", border="reflect")
    np.testing.assert_allclose(Y.numpy(), ref, atol=1e-5)
