"""End-to-end tests of the commands, in tmp_path."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import invoke_cli, run_cli, runner
from PIL import Image

from convlearn.cli import app
from convlearn.images import read_image

NOTEBOOK_X = """tensor([[1., 1., 0., 0., 0., 0., 1., 1.],
        [1., 1., 0., 0., 0., 0., 1., 1.],
        [1., 1., 0., 0., 0., 0., 1., 1.],
        [1., 1., 0., 0., 0., 0., 1., 1.],
        [1., 1., 0., 0., 0., 0., 1., 1.],
        [1., 1., 0., 0., 0., 0., 1., 1.]])"""
NOTEBOOK_Y = """tensor([[ 0.,  1.,  0.,  0.,  0., -1.,  0.],
        [ 0.,  1.,  0.,  0.,  0., -1.,  0.],
        [ 0.,  1.,  0.,  0.,  0., -1.,  0.],
        [ 0.,  1.,  0.,  0.,  0., -1.,  0.],
        [ 0.,  1.,  0.,  0.,  0., -1.,  0.],
        [ 0.,  1.,  0.,  0.,  0., -1.,  0.]])"""
NOTEBOOK_ZEROS = """tensor([[0., 0., 0., 0., 0., 0., 0., 0.],
        [0., 0., 0., 0., 0., 0., 0., 0.],
        [0., 0., 0., 0., 0., 0., 0., 0.],
        [0., 0., 0., 0., 0., 0., 0., 0.],
        [0., 0., 0., 0., 0., 0., 0., 0.]])"""


def test_synth_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["synth"], catch_exceptions=False)
    assert result.exit_code == 0
    assert NOTEBOOK_X in result.output
    levels = np.asarray(Image.open(tmp_path / "stripes.png"))
    assert levels.dtype == np.uint8 and levels.shape == (6, 8)
    assert levels[0].tolist() == [255, 255, 0, 0, 0, 0, 255, 255]


def test_synth_pair(tmp_path):
    x, y = tmp_path / "x.npy", tmp_path / "y.npy"
    result = runner.invoke(app, ["synth", str(x), "--kernel", "edge", "--target", str(y)], catch_exceptions=False)
    assert result.exit_code == 0
    assert read_image(y)[0].tolist() == [0, 1, 0, 0, 0, -1, 0]


def test_synth_options(tmp_path):
    out = tmp_path / "h.npy"
    result = runner.invoke(app, ["synth", str(out), "--height", "4", "--width", "5", "--stripe", "1:3", "--horizontal"])
    assert result.exit_code == 0
    assert read_image(out).shape == (5, 4)


@pytest.mark.parametrize("stripe", ["6:2", "0:9", "x", "3:3"])
def test_synth_bad_stripe_is_usage_error(tmp_path, stripe):
    result = runner.invoke(app, ["synth", str(tmp_path / "a.png"), "--stripe", stripe])
    assert result.exit_code == 2
    assert "Invalid stripe" in result.output
    assert not (tmp_path / "a.png").exists()


def test_detect_prints_notebook_y(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner.invoke(app, ["synth"], catch_exceptions=False)
    result = runner.invoke(app, ["detect", "stripes.png", "--print"], catch_exceptions=False)
    assert result.exit_code == 0
    assert NOTEBOOK_Y in result.output
    result = runner.invoke(app, ["detect", "stripes.png", "--kernel", "1;-1", "--print"], catch_exceptions=False)
    assert NOTEBOOK_ZEROS in result.output


def test_detect_writes_exact_npy_and_same_mode(tmp_path):
    src = tmp_path / "s.png"
    runner.invoke(app, ["synth", str(src)], catch_exceptions=False)
    out = tmp_path / "y.npy"
    result = runner.invoke(app, ["detect", str(src), "-o", str(out), "--mode", "same", "--border", "replicate"])
    assert result.exit_code == 0, result.output
    y = read_image(out)
    assert y.shape == (6, 8)
    # edge's anchor is column 1: out[j] = x[j-1] - x[j]
    assert y[0].tolist() == [0, 0, 1, 0, 0, 0, -1, 0]


def test_detect_several_into_directory(tmp_path):
    for name in ("a", "b"):
        runner.invoke(app, ["synth", str(tmp_path / f"{name}.png")], catch_exceptions=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["detect", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]


def test_learn_default_is_the_notebook(tmp_path):
    out = tmp_path / "k.json"
    result = runner.invoke(app, ["learn", "--output", str(out)], catch_exceptions=False)
    assert result.exit_code == 0
    lines = [line for line in result.output.splitlines() if line.startswith("epoch")]
    assert [line.split(",")[0] for line in lines] == [f"epoch {i}" for i in range(10)]
    data = json.loads(out.read_text())
    assert np.abs(np.array(data["kernel"]) - [[1, -1]]).max() < 0.05
    assert data["bias"] is None


def test_learned_kernel_loads_in_detect(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner.invoke(app, ["synth"], catch_exceptions=False)
    runner.invoke(app, ["learn", "--epochs", "30", "-o", "k.json"], catch_exceptions=False)
    result = runner.invoke(app, ["detect", "stripes.png", "--kernel", "k.json", "-o", "y.npy"], catch_exceptions=False)
    assert result.exit_code == 0
    y = read_image(tmp_path / "y.npy")
    assert np.abs(y[0] - [0, 1, 0, 0, 0, -1, 0]).max() < 0.05


def test_learn_from_pair_files(tmp_path):
    x, y = tmp_path / "x.npy", tmp_path / "y.npy"
    runner.invoke(
        app,
        ["synth", str(x), "-p", "noise", "--height", "32", "--width", "32", "-k", "sobel-x", "--target", str(y)],
        catch_exceptions=False,
    )
    out = tmp_path / "k.json"
    args = ["learn", "-i", str(x), "-t", str(y), "--kernel-size", "3x3", "--epochs", "400", "-o", str(out)]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0
    data = json.loads(out.read_text())
    assert data["inputs"] == [str(x)] and data["solver"] == "sgd"
    assert data["loss"] < 1e-2


def test_version_and_help_do_not_import_torch():
    code = (
        "import sys; from convlearn.cli import app; sys.argv=['convlearn','--help'];\n"
        "import contextlib, io\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()): app()\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_max_pixels_default_is_pillows():
    from convlearn.cli.options import DEFAULT_MAX_PIXELS

    assert DEFAULT_MAX_PIXELS == Image.MAX_IMAGE_PIXELS


# Error paths: the exit code and the one stderr line through the installed console script (which
# tests/cli/test_errors.py checks for each exit code), the others in-process through the same boundary.


def test_missing_file_exit_2(tmp_path):
    proc = run_cli("detect", str(tmp_path / "nope.png"))
    assert proc.returncode == 2
    assert proc.stderr.decode().strip().splitlines() == [f"Error: '{tmp_path / 'nope.png'}' does not exist"]
    assert b"Traceback" not in proc.stderr


def test_bad_kernel_exit_2(tmp_path):
    runner.invoke(app, ["synth", str(tmp_path / "s.png")], catch_exceptions=False)
    proc = invoke_cli("detect", str(tmp_path / "s.png"), "--kernel", "1,,2")
    assert proc.returncode == 2
    assert b"Empty value in kernel '1,,2'" in proc.stderr


def test_kernel_larger_than_image_exit_2(tmp_path):
    runner.invoke(app, ["synth", str(tmp_path / "s.png")], catch_exceptions=False)
    proc = invoke_cli("detect", str(tmp_path / "s.png"), "--kernel", "box:7", "-o", str(tmp_path / "o.png"))
    assert proc.returncode == 2
    assert b"Kernel 7x7 is larger than the image 6x8" in proc.stderr


def test_cuda_without_cuda_exit_2(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    proc = invoke_cli("learn", "--device", "cuda")
    assert proc.returncode == 2
    assert b"CUDA is not available" in proc.stderr and b"Traceback" not in proc.stderr


def test_python_m_convlearn():
    proc = subprocess.run([sys.executable, "-m", "convlearn", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("convlearn ")
