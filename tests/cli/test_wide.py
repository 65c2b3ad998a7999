"""Wide kernels and narrow terminals: tables fit by fewer digits or a compact matrix, and nothing is cut."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import runner
from rich.console import Console

from convlearn.cli import app
from convlearn.cli.render import kernel_table
from convlearn.kernels import KERNELS, parse_kernel


def rendered(thing, width: int) -> str:
    out = io.StringIO()
    Console(file=out, width=width, soft_wrap=True, color_system=None).print(thing)
    return out.getvalue()


@pytest.mark.parametrize("width", [60, 80, 120, 200])
@pytest.mark.parametrize("spec", ["sobel-x", "log:9,1.4", "gaussian:s2", "log:15,2"])
def test_a_kernel_table_fits_the_width_or_turns_compact_and_never_cuts_a_number(spec, width):
    weight = parse_kernel(spec).weight
    text = rendered(kernel_table(weight, spec, width=width), width)
    assert "…" not in text
    compact = "too wide for a table" in text
    if not compact:
        assert max(len(line) for line in text.splitlines()) <= width
    digits = 2 if compact else int(text.split(" significant digits")[0].split()[-1]) if "significant" in text else 4
    for v in weight.ravel():
        assert f"{v:.{digits}g}" in text  # every value, whole, at the digits shown


def test_a_table_that_fits_keeps_four_digits_and_says_nothing():
    text = rendered(kernel_table(parse_kernel("gaussian:3").weight, "g", width=80), 80)
    assert "0.0625" in text and "significant" not in text


def test_a_too_wide_table_says_how_many_digits_it_shows():
    weight = np.full((1, 12), -0.123456789)
    text = rendered(kernel_table(weight, "w", width=110), 110)
    assert "significant digits, to fit 110 columns" in text and "…" not in text


@pytest.mark.parametrize("width", ["60", "80", "120", "200"])
def test_kernels_never_cuts_a_name(width):
    result = runner.invoke(app, ["kernels"], env={"COLUMNS": width})
    assert result.exit_code == 0
    assert "…" not in result.stdout
    for name, info in KERNELS.items():
        for form in (info.usage or name).split(" or "):
            assert form in result.stdout
        assert info.convention.split(" ")[0] in result.stdout
