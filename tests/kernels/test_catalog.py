"""What ``convlearn kernels`` shows, as the library returns it."""

import json

import numpy as np

from convlearn.kernels import KERNELS, BuiltinEntry, KernelDetails, kernel_to_json, parse_kernel, run_kernels


def test_the_builtins_in_table_order():
    entries = run_kernels()
    assert [e.info.name for e in entries] == list(KERNELS)
    assert all(isinstance(e, BuiltinEntry) for e in entries)
    by_name = {e.info.name: e for e in entries}
    assert by_name["sobel-y"].gradient == ("sobel-x", "sobel-y")
    assert by_name["edge-t"].gradient == ("edge", "edge-t")
    assert by_name["laplacian"].gradient is None
    assert by_name["box"].weight.shape == (3, 3)  # box's default size


def test_the_builtins_as_json():
    text = run_kernels(as_json=True)
    assert text.endswith("}\n")
    data = json.loads(text)
    assert list(data) == list(KERNELS)
    assert data["edge"] == [[1.0, -1.0]]


def test_one_kernel():
    details = run_kernels(spec="gaussian:5,1.2")
    assert isinstance(details, KernelDetails)
    assert details.convention == KERNELS["gaussian"].convention
    assert details.gradient == ("gaussian:5,1.2", "gaussian:5,1.2.T")
    inline = run_kernels(spec="1,0,-1")
    assert inline.convention is None and inline.gradient == ("inline", "inline.T")


def test_one_kernel_for_a_convolution():
    details = run_kernels(spec="3x2+0+1: 1 2 3 4 5 6")
    assert details.kernel.origin == (1, 0)
    np.testing.assert_array_equal(details.convolution.weight, details.kernel.weight[::-1, ::-1])
    assert details.convolution.origin == (0, 2)


def test_one_kernel_as_json():
    spec = "3x2+0+1: 1 2 3 4 5 6"
    assert run_kernels(spec=spec, as_json=True) == kernel_to_json(parse_kernel(spec))
