"""learn's settings (convlearn.learn.config): torch-free, the notebook's defaults, every check's exact message."""

import subprocess
import sys

import pytest

from convlearn.errors import InputError
from convlearn.learn.config import (
    AUTO,
    CHANNELS,
    DTYPES,
    FULL_NEEDS_SIZE,
    SOLVERS,
    LearnConfig,
    check_colour,
    check_config,
    check_ranges,
    check_steps,
    parse_size,
)


def test_importing_the_settings_does_not_import_torch():
    code = "import convlearn.learn.config, convlearn.learn.hooks, sys; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_choices_and_the_notebooks_defaults():
    assert SOLVERS == ("sgd", "lstsq", "adam", "lbfgs")
    assert DTYPES == ("float32", "float64") and CHANNELS == ("luma", "each", "full")
    c = LearnConfig()
    assert (c.kernel_size, c.solver, c.dtype, c.bias, c.lr, c.epochs_for_solver()) == (
        (1, 2),
        "sgd",
        "float32",
        False,
        None,
        10,
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (LearnConfig(solver="newton"), "Invalid solver 'newton'. Expected one of: sgd, lstsq, adam, lbfgs"),
        (LearnConfig(dtype="half"), "Invalid dtype 'half'. Expected one of: float32, float64"),
        (
            LearnConfig(seed=2**64),
            "Invalid --seed 18446744073709551616. Expected a whole number from -2**63 to 2**64 - 1",
        ),
        (LearnConfig(epochs=2**63), "Invalid --epochs 9223372036854775808. Expected at most 2**63 - 1"),
        (LearnConfig(kernel_size=(0, 2)), "Invalid kernel size 0x2; both sides must be at least 1"),
        (LearnConfig(epochs=-1), "Invalid epochs -1; it must be 0 or more"),
        (LearnConfig(lr=-1.0), "Invalid step -1.0; --lr must be a positive number"),
        (LearnConfig(lr=float("nan")), "Invalid step nan; --lr must be a positive number"),
        (LearnConfig(lr=1e39), "Invalid --lr 1e+39. Expected a positive number up to 3.403e+38 (float32's largest)"),
    ],
)
def test_check_config_messages(config, message):
    with pytest.raises(InputError) as caught:
        check_config(config)
    assert str(caught.value) == message


def test_check_config_returns_the_solver_and_passes_auto():
    assert check_config(LearnConfig(kernel_size=AUTO, solver="adam")).lr == 0.1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3by3", "Invalid kernel size '3by3'. Expected HxW, height first, for example 3x5"),
        ("3x3x3", "Invalid kernel size '3x3x3'. Expected HxW, height first, for example 3x5"),
        ("0x2", "Invalid kernel size '0x2'; both sides must be at least 1"),
    ],
)
def test_parse_size_messages(text, message):
    with pytest.raises(InputError) as caught:
        parse_size(text)
    assert str(caught.value) == message


def test_parse_size():
    assert parse_size("3x5") == (3, 5) and parse_size("2X2") == (2, 2)


@pytest.mark.parametrize(
    ("config", "notebook", "message"),
    [
        (LearnConfig(channels="rgb"), False, "Invalid channels 'rgb'. Expected one of: luma, each, full"),
        (LearnConfig(channels="each"), True, "--channels each learns from colour pairs; give --input and --target"),
        (LearnConfig(channels="full", kernel_size=AUTO), False, FULL_NEEDS_SIZE),
    ],
)
def test_check_colour_messages(config, notebook, message):
    with pytest.raises(InputError) as caught:
        check_colour(config, notebook=notebook)
    assert str(caught.value) == message


def test_check_colour_says_whether_the_fit_is_in_colour():
    assert check_colour(LearnConfig(), notebook=True) is False
    assert check_colour(LearnConfig(channels="full", kernel_size=(3, 3)), notebook=False) is True


def test_ranges_and_steps_pass_what_torch_holds():
    check_ranges(lr=3.4e38, seed=-(2**63), epochs=2**63 - 1)
    check_ranges(seed=2**64 - 1)
    check_steps(None, None)
    check_steps(0, 1e-12)
