"""The array rule at the public edge (convlearn/arrays.py): NumPy or torch in, the same type out."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import convlearn
from convlearn import DetectConfig, LearnConfig, Pair
from convlearn.errors import InputError

RNG = np.random.default_rng(23)
GREY = RNG.random((12, 14)).astype(np.float32)
RGB = RNG.random((12, 14, 3)).astype(np.float32)  # NumPy: channels last


def per_channel(f, rgb: np.ndarray) -> np.ndarray:
    return np.stack([f(rgb[..., c]) for c in range(3)], axis=-1)


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("corr2d", lambda x: convlearn.corr2d(x, np.array([[1.0, -1.0]]))),
        ("filter2d", lambda x: convlearn.filter2d(x, np.array([[1.0, -1.0]]), mode="same", border="reflect")),
        ("canny", lambda x: convlearn.canny(x, 0.1, 0.3)),
        ("apply_kernel", lambda x: convlearn.apply_kernel(x, "sobel-x")),
        ("gradient_magnitude", lambda x: convlearn.gradient_magnitude(x, x)),
    ],
)
def test_numpy_in_numpy_out_and_torch_in_torch_out_with_the_same_values(name, call):
    from_numpy = call(GREY)
    from_torch = call(torch.from_numpy(GREY))
    assert isinstance(from_numpy, np.ndarray) and isinstance(from_torch, torch.Tensor), name
    np.testing.assert_allclose(from_numpy, from_torch.numpy(), atol=1e-6)
    # colour: NumPy (H, W, 3) channels last, torch (3, H, W) channels first, each channel as a grey image
    colour = call(RGB)
    np.testing.assert_allclose(colour, per_channel(call, RGB), atol=1e-6)
    chw = call(torch.from_numpy(RGB).permute(2, 0, 1))
    np.testing.assert_allclose(chw.permute(1, 2, 0).numpy(), colour, atol=1e-6)


def test_integer_arrays_are_taken_as_their_values():
    levels = (GREY * 255).astype(np.uint8)
    out = convlearn.corr2d(levels, [[1, -1]])
    np.testing.assert_array_equal(out, levels[:, :-1].astype(np.float32) - levels[:, 1:])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: convlearn.corr2d([[0.0, 1.0]], [[1.0]]), "corr2d takes a NumPy array \\(H, W\\) or \\(H, W, C\\)"),
        (lambda: convlearn.canny("photo.png", 0.1, 0.3), "canny takes a NumPy array .* got str"),
        (lambda: convlearn.apply_kernel(GREY, 3), "apply_kernel takes a Kernel, a kernel spec .* got int"),
        (lambda: convlearn.export_kernel(object(), "opencv"), "export_kernel takes a Kernel, .* got object"),
        (lambda: convlearn.detect_image([[0.0]], "edge"), "detect_image takes a NumPy array"),
        (lambda: convlearn.learn_kernel([(GREY, GREY)]), "learn_kernel takes Pair\\(input, target\\) items; got tuple"),
        (lambda: convlearn.learn_kernel([Pair([[1.0]], GREY)]), "learn_kernel's Pair takes a NumPy array .* the input"),
        (lambda: convlearn.corr2d(np.array(["a"]), [[1.0]]), "corr2d takes .* got a NumPy array of <U1"),
        (lambda: convlearn.apply_kernel(GREY, "sobel"), "'sobel' is a gradient magnitude: use detect_image"),
    ],
)
def test_wrong_types_are_an_input_error_naming_the_function(call, message):
    with pytest.raises(InputError, match=message):
        call()


def test_a_pair_of_numpy_arrays_learns_and_the_result_kernel_goes_to_apply_and_export():
    target = convlearn.apply_kernel(GREY, convlearn.Kernel(np.array([[0.5, -1.0], [0.25, 2.0]]), 0.125))
    result = convlearn.learn_kernel([Pair(GREY, target)], LearnConfig(solver="lstsq", kernel_size=(2, 2), bias=True))
    kernel = result.kernel
    np.testing.assert_allclose(kernel.weight, [[0.5, -1.0], [0.25, 2.0]], atol=1e-5)
    assert kernel.bias == pytest.approx(0.125, abs=1e-5)
    np.testing.assert_allclose(convlearn.apply_kernel(GREY, kernel), target, atol=1e-5)
    text = convlearn.export_kernel(result, "cv2", decimals=4)
    assert "delta=31.875" in text  # the bias in levels of 255
    assert convlearn.export_kernel(result.weight, "opencv") == convlearn.export_kernel(
        convlearn.Kernel(result.weight.numpy()), "opencv"
    )


def test_a_colour_pair_of_numpy_arrays_learns_per_channel():
    kernel = convlearn.Kernel(np.array([[1.0, -1.0]]))
    target = convlearn.apply_kernel(RGB, kernel)  # (H, W - 1, 3)
    result = convlearn.learn_kernel(
        [Pair(RGB, target)], LearnConfig(solver="lstsq", kernel_size=(1, 2), channels="each")
    )
    assert result.weight.shape == (3, 1, 2)
    np.testing.assert_allclose(result.weight.numpy(), np.broadcast_to([[1.0, -1.0]], (3, 1, 2)), atol=1e-5)


def test_detect_image_gives_numpy_for_numpy():
    out = convlearn.detect_image(GREY, "sobel", DetectConfig(mode="same"))
    assert isinstance(out.values, np.ndarray) and out.values.shape == GREY.shape
    assert isinstance(convlearn.detect_image(torch.from_numpy(GREY), "sobel").values, torch.Tensor)


def test_write_image_takes_a_tensor_in_its_own_layout(tmp_path):
    convlearn.write_image(tmp_path / "a.npy", torch.from_numpy(RGB).permute(2, 0, 1))  # (3, H, W)
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), RGB)
    with pytest.raises(InputError, match="write_image takes a NumPy array .* got list"):
        convlearn.write_image(tmp_path / "b.npy", [[0.0]])
