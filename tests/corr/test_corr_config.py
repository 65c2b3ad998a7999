"""corr's words: MODES, BORDERS, STRATEGIES and their checks, readable without torch."""

import subprocess
import sys

import pytest

from convlearn.corr.config import BORDERS, MODES, STRATEGIES, check_border, check_mode, check_strategy
from convlearn.errors import InputError


@pytest.mark.parametrize(
    ("check", "choices"), [(check_mode, MODES), (check_border, BORDERS), (check_strategy, STRATEGIES)]
)
def test_every_choice_passes_its_check(check, choices):
    assert [check(c) for c in choices] == list(choices)


@pytest.mark.parametrize(
    ("check", "value", "message"),
    [
        (check_mode, "full", "Invalid mode 'full'. Expected one of: valid, same"),
        (check_border, "wrap", "Invalid border 'wrap'. Expected one of: zero, reflect, replicate, circular"),
        (check_strategy, "gpu", "Invalid strategy 'gpu'. Expected one of: auto, direct, separable, fft, conv2d"),
        (check_mode, "Same", "Invalid mode 'Same'"),  # choices are case-sensitive, as the CLI's
    ],
)
def test_a_bad_choice_names_every_good_one(check, value, message):
    with pytest.raises(InputError) as info:
        check(value)
    assert str(info.value).startswith(message)


def test_filter2d_uses_the_same_checks():
    import torch

    from convlearn.corr import filter2d

    with pytest.raises(InputError, match=r"^Invalid border 'wrap'\. Expected one of: zero, reflect"):
        filter2d(torch.ones(3, 3), torch.ones(2, 2), mode="same", border="wrap")


def test_the_settings_import_no_torch():
    code = "import sys; from convlearn.corr import MODES, BORDERS, STRATEGIES; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
