"""The spec parser: names, inline matrices, ImageMagick strings, and the suggestion for a misspelt name."""

import numpy as np
import pytest
import torch

from convlearn.corr import filter2d
from convlearn.errors import KernelSpecError
from convlearn.kernels import parse_kernel, parse_matrix


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


def test_parse_matrix_shape():
    assert parse_matrix("1,2,3;4,5,6").shape == (2, 3)


# ImageMagick kernel strings.


@pytest.mark.parametrize(
    ("spec", "weight", "anchor"),
    [
        ("3x3: 1,0,-1 2,0,-2 1,0,-1", [[1, 0, -1], [2, 0, -2], [1, 0, -1]], (1, 1)),
        ("3x3+0+0: 1 0 -1 2 0 -2 1 0 -1", [[1, 0, -1], [2, 0, -2], [1, 0, -1]], (0, 0)),
        ("3x1+2+0: 1 2 3", [[1, 2, 3]], (0, 2)),
        ("2x2: 1 2 3 4", [[1, 2], [3, 4]], (0, 0)),  # ImageMagick's even origin: (w-1)/2, rounded down
        ("3: 0 1 0 1 -4 1 0 1 0", [[0, 1, 0], [1, -4, 1], [0, 1, 0]], (1, 1)),
        ("3x3: nan 1 - 1 1 1 - 1 nan", [[0, 1, 0], [1, 1, 1], [0, 1, 0]], (1, 1)),
    ],
)
def test_imagemagick_strings(spec, weight, anchor):
    K = parse_kernel(spec)
    np.testing.assert_array_equal(K.weight, weight)
    assert K.origin == anchor


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("3x3: 1 2 3", "declares 3x3 = 9 values but has 3"),
        ("3x3+3+0: 1 2 3 4 5 6 7 8 9", "Origin +3+0 lies outside the 3x3 kernel"),
        ("2x1: 1 2; 3x1: 1 2 3", "convlearn takes one kernel"),
        ("2x1: 1 x", "Invalid number 'x'"),
    ],
)
def test_bad_imagemagick_strings(spec, message):
    with pytest.raises(KernelSpecError, match=message.replace("+", r"\+")):
        parse_kernel(spec)


def test_imagemagick_origin_is_the_anchor_of_same():
    X = torch.from_numpy(np.random.default_rng(10).random((13, 17)))
    K = parse_kernel("3x3+0+0: 0 0 0 0 0 0 0 0 1")  # picks X[i+2, j+2]
    Y = filter2d(X, torch.from_numpy(K.weight), mode="same", border="zero", anchor=K.anchor)
    torch.testing.assert_close(Y[:-2, :-2], X[2:, 2:])


# Suggestions.


@pytest.mark.parametrize(
    ("spec", "suggestion"),
    [
        ("sob", "sobel"),
        ("sobelx", "sobel-x"),
        ("sobel_y", "sobel-y"),
        ("scharrx", "scharr-x"),
        ("lapalcian", "laplacian"),
        ("gausian:5,1.5", "gaussian:5,1.5"),
        ("robert-y", "roberts-y"),
    ],
)
def test_bad_name_suggests_the_closest(spec, suggestion):
    with pytest.raises(KernelSpecError, match=f"^Unknown kernel '{spec}'. Did you mean '{suggestion}'\\?$"):
        parse_kernel(spec)


def test_far_name_lists_kernels():
    with pytest.raises(KernelSpecError, match="Run `convlearn kernels` to list them"):
        parse_kernel("zzzz")
