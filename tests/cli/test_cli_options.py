"""detect's option rules through the CLI: exit 2 with the fix, or the implied option at work."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import runner

from convlearn.cli import app


@pytest.fixture
def image(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.save("in.npy", np.random.default_rng(1).random((9, 11)).astype(np.float32))
    return "in.npy"


@pytest.mark.parametrize(
    ("args", "fix"),
    [
        (["--sigma", "2"], "--sigma is Canny's smoothing: add --canny LOW,HIGH"),
        (["--mode", "valid", "--border", "reflect"], "--mode valid uses no border: drop one of them"),
        (["--scale", "abs", "-o", "out.npy"], "drop --scale"),
        (["--bit-depth", "16", "-o", "out.tif"], "drop --bit-depth"),
        (["--png-compression", "9", "-o", "out.npy"], "drop --png-compression"),
        (["--format", "npy", "-o", "out.png"], "drop --format, or end the --output name in .npy"),
        (["--canny", "0.1,0.3", "--scale", "minmax"], "drop --scale"),
    ],
)
def test_an_option_with_no_effect_exits_2_with_its_fix(image, args, fix):
    result = runner.invoke(app, ["detect", image, *args])
    assert result.exit_code == 2
    assert fix in " ".join(result.output.split())


def test_a_border_implies_mode_same_through_the_cli(image):
    result = runner.invoke(app, ["detect", image, "-k", "sobel-x", "--border", "reflect", "-o", "out.npy"])
    assert result.exit_code == 0, result.output
    assert np.load("out.npy").shape == (9, 11)


def test_sobel_is_the_magnitude_through_the_cli(image):
    assert runner.invoke(app, ["detect", image, "-k", "sobel", "--mode", "same", "-o", "a.npy"]).exit_code == 0
    assert runner.invoke(app, ["detect", image, "-k", "sobel-x", "-m", "--mode", "same", "-o", "b.npy"]).exit_code == 0
    np.testing.assert_array_equal(np.load("a.npy"), np.load("b.npy"))


@pytest.mark.parametrize("option", [["--epochs", "5"], ["--lr", "0.1"]])
def test_learn_refuses_a_step_or_epochs_for_lstsq(option):
    result = runner.invoke(app, ["learn", "--solver", "lstsq", *option])
    assert result.exit_code == 2
    assert "--solver lstsq solves in one pass, with no epochs or step: drop --epochs and --lr" in result.output
