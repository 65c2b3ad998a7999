"""Every command's --help: choices, metavars, examples, 100 columns; the Literal choices match the library."""

import os
import subprocess
import sys
import typing

import pytest

from convlearn.cli import options
from convlearn.cli import restore as restore_cli
from convlearn.corr import BORDERS, MODES
from convlearn.images import CHANNELS, OUTPUT_FORMATS, SCALES
from convlearn.restore.config import BORDERS as RESTORE_BORDERS
from convlearn.restore.config import METHODS
from convlearn.restore.config import MODES as RESTORE_MODES
from convlearn.synth import PATTERNS

COMMANDS = ["detect", "export", "kernels", "learn", "restore", "synth"]


def _help(command: str) -> str:
    env = {**os.environ, "COLUMNS": "100", "TERM": "dumb"}
    proc = subprocess.run(
        [sys.executable, "-m", "convlearn", command, "--help"], capture_output=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode()


@pytest.mark.parametrize(
    ("literal", "library"),
    [
        (options.Mode, MODES),
        (options.Border, BORDERS),
        (options.Scale, SCALES),
        (options.Channels, CHANNELS),
        (options.Format, OUTPUT_FORMATS),
        (options.Pattern, PATTERNS),
        (restore_cli.Method, METHODS),
        (restore_cli.RestoreMode, RESTORE_MODES),
        (restore_cli.RestoreBorder, RESTORE_BORDERS),
    ],
)
def test_the_choices_are_the_librarys(literal, library):
    assert typing.get_args(literal) == tuple(library)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_fits_100_columns_and_shows_no_python_types(command):
    text = _help(command)
    assert max(len(line) for line in text.splitlines()) <= 100
    for python_type in ("<str>", "<bool>", "<list[str]>", "<path>", "<float range>", "<int range>", "<float>"):
        assert python_type not in text, python_type
    assert "Examples:" in text and f"convlearn {command}" in text.split("Examples:")[1]


def test_choices_and_metavars_in_detect_help():
    text = _help("detect")
    for shown in (
        "<valid|same>",
        "<zero|reflect|replicate|circular>",
        "<luma|each>",
        "<png|tif|npy>",
        "SPEC",
        "LOW,HIGH",
    ):
        assert shown in text, shown


def test_a_short_flag_means_one_option_in_every_command():
    from typer.main import get_command

    from convlearn.cli import app

    group = get_command(app)
    meaning: dict[str, set[str]] = {}
    for name in COMMANDS:
        for param in group.commands[name].params:
            longs = [o for o in param.opts if o.startswith("--")]
            for short in (o for o in param.opts if not o.startswith("--")):
                meaning.setdefault(short, set()).update(longs)
    assert {k: v for k, v in meaning.items() if len(v) > 1} == {}
