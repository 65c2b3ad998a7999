"""Render helpers: sign colours and kernel tables."""

import io

import numpy as np
from rich.console import Console

from convlearn.cli.render import kernel_table, signed


def test_signed_colours_by_sign():
    assert [signed("x", v) for v in (-2.0, 0.0, 3.0)] == ["[red]x[/]", "[dim]x[/]", "[green]x[/]"]


def test_kernel_table_colours_each_value():
    screen = io.StringIO()
    Console(file=screen, force_terminal=True, color_system="standard", width=80).print(
        kernel_table(np.array([[-1.0, 0.0, 2.5]]), "k", bias=0.125)
    )
    text = screen.getvalue()
    assert "\x1b[31m-1\x1b[0m" in text and "\x1b[32m2.5\x1b[0m" in text and "\x1b[2m0\x1b[0m" in text
    assert "bias 0.125" in text
