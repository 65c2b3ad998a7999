"""``convlearn export`` end to end, and round trips through the tools themselves.

A target made by OpenCV (or Pillow), a kernel learned from it by ``convlearn
learn``, exported by ``convlearn export`` and applied by the same tool must
reproduce the target.
"""

import json

import numpy as np
import pytest
import torch
from conftest import run_cli, runner
from PIL import Image, ImageFilter
from scipy import ndimage

from convlearn.cli import app
from convlearn.corr import filter2d
from convlearn.kernels import load_kernel_file, parse_kernel, run_export

RNG = np.random.default_rng(42)


# Asymmetric kernels, so that a flip or a transpose shows.
K3 = np.array([[1.0, 2.0, 0.0], [-1.0, 0.0, 1.0], [0.0, -2.0, -1.0]])


K5 = RNG.normal(size=(5, 5)).round(3)


def run_snippet(text: str, image):
    """Execute an exported Python snippet with ``image`` bound; return its ``result``."""
    namespace = {"image": image}
    exec(compile(text, "<export>", "exec"), namespace)
    return namespace["result"]


def levels(size=40, seed=0) -> np.ndarray:
    return (
        RNG.integers(0, 256, (size, size + 3), dtype=np.uint8)
        if seed == 0
        else (np.random.default_rng(seed).integers(0, 256, (size, size + 3), dtype=np.uint8))
    )


def learn_and_export(tmp_path, x, y, size: str, tool: str, *extra: str) -> str:
    out = tmp_path / "k.json"
    args = ["learn", "-i", str(x), "-t", str(y), "--kernel-size", size, "--solver", "lstsq", "-o", str(out), "-q"]
    result = runner.invoke(app, [*args, *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    exported = runner.invoke(app, ["export", str(out), "--to", tool], catch_exceptions=False)
    assert exported.exit_code == 0, exported.output
    return exported.stdout


# Round trips through the tools themselves.


def test_round_trip_opencv_8bit_clipped_with_offset(cv2, tmp_path):
    x = levels()
    y = cv2.filter2D(x, -1, K3, delta=128)  # uint8: rounded and clipped, as OpenCV writes it
    assert ((y == 0) | (y == 255)).mean() > 0.1  # clipping matters here
    Image.fromarray(x).save(tmp_path / "x.png")
    Image.fromarray(y).save(tmp_path / "y.png")
    snippet = learn_and_export(tmp_path, tmp_path / "x.png", tmp_path / "y.png", "3x3", "opencv", "--bias")
    assert "cv2.filter2D(image, -1, kernel, delta=" in snippet
    assert np.array_equal(run_snippet(snippet, x), y)


def test_round_trip_opencv_float_5x5(cv2, tmp_path):
    x = RNG.random((36, 41)).astype(np.float32)
    y = cv2.filter2D(x, -1, K5, delta=0.3)  # float32, same size, BORDER_REFLECT_101
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    snippet = learn_and_export(tmp_path, tmp_path / "x.npy", tmp_path / "y.npy", "5x5", "opencv", "--bias")
    data = json.loads((tmp_path / "k.json").read_text())
    assert np.abs(np.array(data["kernel"]) - K5).max() < 1e-5
    snippet = runner.invoke(app, ["export", str(tmp_path / "k.json"), "--to", "opencv", "--max-level", "1"]).stdout
    np.testing.assert_allclose(run_snippet(snippet, x), y, atol=1e-5)


def test_round_trip_pillow_with_offset(tmp_path):
    x = Image.fromarray(levels(seed=3))
    y = x.filter(ImageFilter.Kernel((3, 3), K3.ravel().tolist(), scale=1, offset=128))
    x.save(tmp_path / "x.png")
    y.save(tmp_path / "y.png")
    snippet = learn_and_export(tmp_path, tmp_path / "x.png", tmp_path / "y.png", "3x3", "pillow", "--bias")
    assert np.array_equal(np.asarray(run_snippet(snippet, x)), np.asarray(y))
    # The fact behind the export: what Pillow computes is a correlation with the rows flipped.
    learned = np.array(json.loads((tmp_path / "k.json").read_text())["kernel"])
    np.testing.assert_allclose(learned, K3[::-1], atol=1e-5)


def test_round_trip_pillow_5x5(tmp_path):
    x = Image.fromarray(levels(seed=4))
    weights = np.zeros((5, 5))  # integers, so that Pillow's rounding is exact; zero-sum, so few pixels clip
    weights[0, 1], weights[2, 2], weights[4, 3], weights[3, 0] = 1, -1, 2, -2
    y = x.filter(ImageFilter.Kernel((5, 5), weights.ravel().tolist(), scale=1, offset=100))
    x.save(tmp_path / "x.png")
    y.save(tmp_path / "y.png")
    snippet = learn_and_export(tmp_path, tmp_path / "x.png", tmp_path / "y.png", "5x5", "pillow", "--bias")
    assert np.array_equal(np.asarray(run_snippet(snippet, x)), np.asarray(y))


def test_round_trip_scipy(tmp_path):
    x = RNG.random((30, 33))
    y = ndimage.correlate(x, K5, mode="mirror") - 0.2
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    learn_and_export(tmp_path, tmp_path / "x.npy", tmp_path / "y.npy", "5x5", "scipy", "--bias")
    snippet = runner.invoke(app, ["export", str(tmp_path / "k.json"), "--to", "scipy", "--max-level", "1"]).stdout
    np.testing.assert_allclose(run_snippet(snippet, x), y, atol=1e-5)


# The command.


def test_export_cli_prints_the_snippet():
    result = runner.invoke(app, ["export", "sobel-x", "--to", "imagemagick"], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == (
        "$(command -v magick || echo convert) input.png -morphology Convolve '3x3+1+1: 1,0,-1 2,0,-2 1,0,-1' output.png"
    )


def test_export_cli_errors_through_the_console_script(tmp_path):
    proc = run_cli("export", "sobel-x", "--to", "gimp")
    assert proc.returncode == 2
    err = " ".join(proc.stderr.decode().split())
    assert "Invalid tool 'gimp'. Expected one of: opencv, scipy, imagemagick, pillow, json; or an alias: cv2" in err
    assert b"Traceback" not in proc.stderr
    result = runner.invoke(app, ["export", "box:7", "--to", "pillow"])
    assert result.exit_code == 2 and "takes only 3x3 and 5x5" in result.stderr


@pytest.mark.parametrize(
    ("spec", "origin"),
    [
        ("3x3+0+0: 1 2 3 4 5 -6 7 8 9", (0, 0)),  # an ImageMagick origin in a corner
        ("2x2: 1 -2 3 4", (0, 0)),  # ImageMagick's default origin for an even size: up-left of the centre
        ("3x2+2+1: 1 2 3 4 5 6", (1, 2)),
    ],
)
def test_anchored_kernel_round_trips_through_export_json(tmp_path, spec, origin):
    exported = runner.invoke(app, ["export", spec, "--to", "json"], catch_exceptions=False)
    assert exported.exit_code == 0
    path = tmp_path / "k.json"
    path.write_text(exported.stdout)
    kernel, back = parse_kernel(spec), load_kernel_file(path)
    assert back.origin == kernel.origin == origin
    assert json.loads(exported.stdout)["anchor"] == list(origin)
    np.testing.assert_array_equal(back.weight, kernel.weight)
    # detect -k FILE filters as detect -k SPEC does, around the same origin.
    image = tmp_path / "x.npy"
    np.save(image, RNG.random((9, 11)))
    results = []
    for k, name in [(spec, "spec.npy"), (str(path), "file.npy")]:
        args = ["detect", str(image), "-k", k, "--mode", "same", "-o", str(tmp_path / name), "-q"]
        assert runner.invoke(app, args, catch_exceptions=False).exit_code == 0
        results.append(np.load(tmp_path / name))
    np.testing.assert_array_equal(results[1], results[0])
    X, K = torch.from_numpy(np.load(image)), torch.from_numpy(kernel.weight)
    np.testing.assert_allclose(results[1], filter2d(X, K, mode="same", anchor=origin).numpy(), atol=1e-6)
    assert not np.allclose(results[1], filter2d(X, K, mode="same").numpy(), atol=1e-6)  # centred, it would differ


@pytest.mark.parametrize(
    ("alias", "tool"),
    [
        ("cv2", "opencv"),
        ("OpenCV", "opencv"),
        ("PIL", "pillow"),
        ("magick", "imagemagick"),
        ("Convert", "imagemagick"),
        ("ndimage", "scipy"),
    ],
)
def test_export_takes_the_names_other_tools_users_type(alias, tool):
    assert run_export(kernel="sobel-x", to=alias) == run_export(kernel="sobel-x", to=tool)
