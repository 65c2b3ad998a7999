"""Exports to OpenCV, SciPy, ImageMagick, Pillow and JSON (convlearn.kernels.export), run with those tools.

Each exported snippet is applied by its tool and compared with corr2d.
ImageMagick is not installed here, so its command is checked against
ImageMagick's documented Convolve semantics (emulated below), not run.
"""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from convlearn.corr import filter2d
from convlearn.errors import InputError, KernelSpecError
from convlearn.kernels import Kernel, load_kernel_file, parse_kernel, run_export
from convlearn.kernels.export import TOOLS, export_kernel, imagemagick_kernel, pillow_kernel

RNG = np.random.default_rng(42)


# Asymmetric kernels, so that a flip or a transpose shows.
K3 = np.array([[1.0, 2.0, 0.0], [-1.0, 0.0, 1.0], [0.0, -2.0, -1.0]])


K5 = RNG.normal(size=(5, 5)).round(3)


def run_snippet(text: str, image):
    """Execute an exported Python snippet with ``image`` bound; return its ``result``."""
    namespace = {"image": image}
    exec(compile(text, "<export>", "exec"), namespace)
    return namespace["result"]


# Anchors and sizes.


@pytest.mark.parametrize("spec", ["edge", "roberts-x", "3x2+0+1: 1,2,3 -4,5,-6", "4x3+3+2: 1,2,3,4 5,6,7,8 9,0,-2,7"])
def test_opencv_scipy_and_pillow_exports_match_corr2d_anchored(cv2, spec):
    kernel = parse_kernel(spec)
    image = RNG.random((12, 14))
    expected = filter2d(
        torch.from_numpy(image), torch.from_numpy(kernel.weight), mode="same", border="reflect", anchor=kernel.anchor
    ).numpy()
    for tool in ("opencv", "scipy"):
        np.testing.assert_allclose(run_snippet(export_kernel(kernel, tool), image), expected, atol=1e-9, err_msg=tool)
    if max(kernel.shape) <= 3:
        x8 = (image * 30).round().astype(np.uint8) + 100
        out = np.asarray(run_snippet(export_kernel(kernel, "pillow"), Image.fromarray(x8))).astype(float)
        reference = filter2d(
            torch.from_numpy(x8.astype(float)), torch.from_numpy(kernel.weight), mode="same", anchor=kernel.anchor
        ).numpy()
        inner = np.s_[2:-2, 2:-2]  # Pillow leaves a 3x3 kernel's one-pixel border unfiltered
        np.testing.assert_array_equal(out[inner], np.clip(np.floor(reference[inner] + 0.5), 0, 255))


def test_pillow_kernel_pads_to_3x3_or_5x5_around_the_anchor():
    assert pillow_kernel(parse_kernel("edge")).tolist() == [[0, 0, 0], [1, -1, 0], [0, 0, 0]]
    four = pillow_kernel(Kernel(np.arange(16.0).reshape(4, 4)))
    assert four.shape == (5, 5) and four[::-1][:4, :4].tolist() == np.arange(16.0).reshape(4, 4).tolist()
    assert pillow_kernel(Kernel(K3)).tolist() == K3[::-1].tolist()
    with pytest.raises(InputError, match="Pillow's ImageFilter.Kernel takes only 3x3 and 5x5 kernels; this 7x7"):
        pillow_kernel(Kernel(np.ones((7, 7))))
    with pytest.raises(InputError, match="does not fit"):
        pillow_kernel(Kernel(np.ones((3, 3)), anchor=(0, 0)))  # anchor in a corner: needs 5x5
        pillow_kernel(Kernel(np.ones((5, 5)), anchor=(0, 0)))


# ImageMagick: not installed here, so checked against its documented semantics.


def imagemagick_convolve(image: np.ndarray, spec: str) -> np.ndarray:
    """ImageMagick's -morphology Convolve as MagickCore/morphology.c defines it, on the valid interior.

    Convolve reflects the kernel about its origin: out(x, y) = sum_{u, v} R[v, u] * in(x + ox - u, y + oy - v),
    with R the kernel as written and (ox, oy) its origin.
    """
    geometry, values = spec.split(":")
    size, ox, oy = geometry.split("+")
    w, h = (int(v) for v in size.split("x"))
    R = np.array([float(v) for v in values.replace(",", " ").split()]).reshape(h, w)
    ox, oy = int(ox), int(oy)
    H, W = image.shape
    out = np.zeros_like(image)
    for y in range(h, H - h):
        for x in range(w, W - w):
            out[y, x] = sum(R[v, u] * image[y + oy - v, x + ox - u] for v in range(h) for u in range(w))
    return out


@pytest.mark.parametrize("spec", ["sobel-x", "edge", "3x2+0+1: 1,2,3 -4,5,-6", "1,2;3,4;5,6"])
def test_imagemagick_string_convolves_to_the_correlation(spec):
    kernel = parse_kernel(spec)
    h, w = kernel.shape
    image = RNG.random((10, 11))
    text = imagemagick_kernel(kernel)
    expected = filter2d(
        torch.from_numpy(image), torch.from_numpy(kernel.weight), mode="same", anchor=kernel.anchor
    ).numpy()
    inner = np.s_[h : 10 - h, w : 11 - w]
    np.testing.assert_allclose(imagemagick_convolve(image, text)[inner], expected[inner], atol=1e-12)
    # convlearn itself reads the string as ImageMagick's Correlate would: the rotated kernel, origin mirrored.
    back = parse_kernel(text)
    assert back.weight.tolist() == kernel.weight[::-1, ::-1].tolist()
    ay, ax = kernel.origin
    assert back.origin == (h - 1 - ay, w - 1 - ax)


def test_imagemagick_command():
    text = export_kernel(Kernel(K3, 0.25), "imagemagick")
    command = text.splitlines()[-1]
    assert command == (
        "$(command -v magick || echo convert) input.png -define convolve:bias=25% "
        "-morphology Convolve '3x3+1+1: -1,-2,0 1,0,-1 0,2,1' output.png"
    )
    assert "rotated by 180 degrees" in text


# Text details.


def test_json_export_reads_back():
    kernel = Kernel(K5, -0.125)
    text = export_kernel(kernel, "json")
    data = json.loads(text)
    assert data == {"kernel": K5.tolist(), "bias": -0.125}


def test_json_export_keeps_the_anchor(tmp_path):
    kernel = parse_kernel("3x2+0+1: 1,2,3 -4,5,-6")
    text = export_kernel(kernel, "json")
    assert json.loads(text) == {"kernel": kernel.weight.tolist(), "bias": None, "anchor": [1, 0]}
    path = tmp_path / "k.json"
    path.write_text(text)
    back = load_kernel_file(path)
    assert back.anchor == kernel.anchor == (1, 0)
    assert back.weight.tolist() == kernel.weight.tolist()
    assert "anchor" not in export_kernel(parse_kernel("sobel-x"), "json")  # an un-anchored kernel stays centred


def test_json_export_layout():
    # One row per line, -0.0 written 0.0, no final newline (the command adds one).
    text = export_kernel(Kernel(np.array([[1.0, -0.0], [0.25, 3.0]]), 2.0), "json")
    assert text == '{\n  "kernel": [\n    [1.0, 0.0],\n    [0.25, 3.0]\n  ],\n  "bias": 2.0\n}'
    rounded = export_kernel(Kernel(np.array([[1 / 3, -1e-9]]), 1 / 7), "json", decimals=3)
    assert json.loads(rounded) == {"kernel": [[0.333, 0.0]], "bias": 0.143}


def test_json_export_file_loads(tmp_path):
    path = tmp_path / "k.json"
    path.write_text(export_kernel(Kernel(K3), "json"))
    loaded = load_kernel_file(path)
    assert loaded.weight.tolist() == K3.tolist() and loaded.bias is None


def test_values_are_exact_unless_digits_are_asked_for():
    value = 0.1 + 2e-17 * 3
    exact = export_kernel(Kernel(np.array([[value, 1 / 3]])), "opencv")
    assert repr(value) in exact and repr(1 / 3) in exact
    rounded = export_kernel(Kernel(np.array([[1 / 3, -2 / 3, 4e-9]])), "scipy", decimals=3)
    assert "[0.333, -0.667, 0.0]" in rounded


def test_bias_units():
    kernel = Kernel(np.ones((3, 3)), 0.5)
    assert "delta=127.5" in export_kernel(kernel, "opencv")
    assert "offset=32767.5" in export_kernel(kernel, "pillow", max_level=65535)
    assert "+ 0.5  #" in export_kernel(kernel, "scipy", max_level=1)
    assert "delta" not in export_kernel(Kernel(np.ones((3, 3))), "opencv")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (dict(tool="matlab"), "Invalid tool 'matlab'. Expected one of: " + ", ".join(TOOLS)),
        (dict(tool="opencv", max_level=0.0), "Invalid max level 0.0"),
        (dict(tool="opencv", decimals=16), "Invalid decimals 16; use 0 to 15"),
    ],
)
def test_bad_arguments(args, message):
    with pytest.raises(InputError, match=message):
        export_kernel(Kernel(K3), **args)


def test_run_export_checks_the_tool_before_the_kernel():
    with pytest.raises(InputError, match="Invalid tool 'gimp'"):
        run_export(kernel="no-such-kernel", to="gimp")
    with pytest.raises(KernelSpecError, match="Unknown kernel 'no-such-kernel'"):
        run_export(kernel="no-such-kernel", to="json")
    with pytest.raises(InputError, match="Invalid decimals 16"):
        run_export(kernel="edge", to="json", decimals=16)


def test_run_export_takes_a_spec_or_a_kernel():
    by_spec = run_export(kernel="sobel-x", to="scipy", max_level=1, decimals=2)
    assert by_spec == export_kernel(parse_kernel("sobel-x"), "scipy", max_level=1, decimals=2)
    assert run_export(kernel=Kernel(K3), to="opencv") == export_kernel(Kernel(K3), "opencv")


# Colour kernels: plane by plane in OpenCV and SciPy; refused by Pillow and ImageMagick.

KC_EACH = Kernel(RNG.normal(size=(3, 3, 3)).round(3), (0.1, -0.2, 0.05))
KC_FULL = Kernel(RNG.normal(size=(3, 3, 3, 3)).round(3), (0.1, -0.2, 0.05))


def colour_reference(image: np.ndarray, kernel: Kernel) -> np.ndarray:
    """What detect computes with a colour kernel in --mode same --border reflect (OpenCV's default border)."""
    X = torch.from_numpy(image).permute(2, 0, 1)  # (3, H, W)
    K = torch.from_numpy(kernel.weight)

    def f(i, k):
        return filter2d(X[i], k, mode="same", border="reflect")

    planes = [
        (f(o, K[o]) if K.dim() == 3 else sum(f(i, K[o, i]) for i in range(3))) + b * 255
        for o, b in enumerate(kernel.biases())
    ]
    return torch.stack(planes, -1).numpy()


@pytest.mark.parametrize("kernel", [KC_EACH, KC_FULL], ids=["each", "full"])
def test_opencv_colour_snippet_matches_the_planes(cv2, kernel):
    image = RNG.integers(0, 256, size=(20, 24, 3)).astype(np.float64)
    result = run_snippet(export_kernel(kernel, "opencv"), image)
    assert result.shape == (20, 24, 3)
    np.testing.assert_allclose(result, colour_reference(image, kernel), atol=1e-9)


@pytest.mark.parametrize("kernel", [KC_EACH, KC_FULL], ids=["each", "full"])
def test_scipy_colour_snippet_matches_the_planes(kernel):
    pytest.importorskip("scipy")
    image = RNG.integers(0, 256, size=(20, 24, 3)).astype(np.float64)
    result = run_snippet(export_kernel(kernel, "scipy"), image)
    np.testing.assert_allclose(result, colour_reference(image, kernel), atol=1e-9)


@pytest.mark.parametrize("kernel", [KC_EACH, KC_FULL], ids=["each", "full"])
def test_pillow_and_imagemagick_refuse_colour_kernels(kernel):
    with pytest.raises(InputError, match="Pillow's ImageFilter.Kernel applies one kernel to every band"):
        export_kernel(kernel, "pillow")
    with pytest.raises(InputError, match="ImageMagick cannot express this 3x3x3"):
        export_kernel(kernel, "imagemagick")


def test_colour_json_export_reads_back(tmp_path):
    path = tmp_path / "k.json"
    path.write_text(export_kernel(KC_FULL, "json"))
    back = load_kernel_file(path)
    assert np.array_equal(back.weight, KC_FULL.weight) and back.bias == KC_FULL.bias
