"""The documentation is true: every ``console`` block prints what it shows, and docs/img is what its script draws.

Each page (README.md, docs/*.md) runs in a fresh folder holding a copy of sample_images/, its ``$`` lines in
order. ``$ convlearn ...`` lines without shell syntax run in process (Typer's runner); the others (``python -c``,
pipes, ``ls``) run in bash with this checkout's ``convlearn`` and ``python`` first on the PATH. What a line
prints (stdout and stderr together) must equal the lines under it, after masking what changes from run to run
(the README's Development section documents the rule): seconds such as ``in 0.18 s`` and ``"seconds": 0.22``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import runner
from PIL import Image

from convlearn.cli import app

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: Values that change from run to run, masked alike in the page and in the output.
VOLATILE = [
    (re.compile(r"\b\d+(\.\d+)? s\b"), "<T> s"),
    (re.compile(r'"seconds": [0-9.e+-]+'), '"seconds": <T>'),
    # float64 rounding noise (an lstsq residual of 1e-14 or 1e-12) depends on the BLAS and its threads
    (re.compile(r"-?\b\d(\.\d+)?e-(1\d|9)\b"), "<rounding>"),
]
SHELL = re.compile(r"[|<>;&$`]")
TABLE = re.compile(r"[┏┃┡│└]")


def console_blocks(text: str) -> list[list[tuple[str, list[str]]]]:
    """Each ``console`` block as its commands, each with the lines printed under it."""
    blocks = []
    for block in re.findall(r"^```console\n(.*?)^```", text, re.S | re.M):
        steps: list[tuple[str, list[str]]] = []
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                assert steps, f"output before any command: {line!r}"
                steps[-1][1].append(line)
        blocks.append(steps)
    return blocks


def mask(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        for pattern, replacement in VOLATILE:
            line = pattern.sub(replacement, line)
        if TABLE.search(line):  # a rounding-noise cell changes a Rich column's width: compare cells, not widths
            line = re.sub(r"([━─ ])\1+", r"\1", line)
        out.append(line.rstrip())
    while out and not out[-1]:
        out.pop()
    return out


def run_line(command: str, folder: Path) -> list[str]:
    """What one ``$`` line prints, stdout and stderr together."""
    if command.startswith("convlearn ") and not SHELL.search(command.split(" #")[0]):
        args = shlex.split(command, comments=True)[1:]
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            result = runner.invoke(app, args)
        finally:
            os.chdir(cwd)
        assert not isinstance(result.exception, (AssertionError, TypeError, AttributeError)), result.exception
        return result.output.splitlines()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.run(
        ["bash", "-c", command], cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300
    )
    return proc.stdout.decode().splitlines()


def test_the_pages_have_console_blocks():
    counts = {page.name: len(console_blocks(page.read_text())) for page in PAGES}
    assert counts["README.md"] >= 3 and sum(counts.values()) >= 12, counts


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_console_block_prints_what_it_shows(page, tmp_path):
    blocks = console_blocks(page.read_text())
    if not blocks:
        pytest.skip(f"{page.name} has no console block")
    shutil.copytree(ROOT / "sample_images", tmp_path / "sample_images")
    for steps in blocks:
        for command, shown in steps:
            printed = run_line(command, tmp_path)
            assert mask(printed) == mask(shown), f"{page.name}: $ {command}"


def test_masking_hides_only_times():
    line = 'wrote 6 of 6 files to edges in 1.24 s: a.png {"seconds": 0.223034, "mean": 0.5}'
    assert mask([line]) == ['wrote 6 of 6 files to edges in <T> s: a.png {"seconds": <T>, "mean": 0.5}']


@pytest.mark.slow
def test_docs_images_are_what_make_images_draws(tmp_path):
    """docs/make_images.sh into a temporary folder: the same pixels as the committed pictures (not the same bytes)."""
    env = {
        **os.environ,
        "OUT": str(tmp_path),
        "CONVLEARN": f"{sys.executable} -m convlearn",
        "PYTHON": sys.executable,
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.run(["bash", str(ROOT / "docs" / "make_images.sh")], env=env, capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stderr.decode()
    made = sorted(p.name for p in tmp_path.glob("*.png"))
    committed = sorted(p.name for p in (ROOT / "docs" / "img").glob("*.png"))
    assert made == committed
    for name in made:
        new = np.asarray(Image.open(tmp_path / name))
        old = np.asarray(Image.open(ROOT / "docs" / "img" / name))
        assert new.shape == old.shape and np.array_equal(new, old), f"docs/img/{name} has drifted: make docs-images"
