"""Start-up: --version, --help, a command's --help, shell completion and detect's first checks never import torch.

Importing torch alone takes about 2 s here; these paths must stay well under
0.3 s (timed in benchmarks/bench_startup.py, not here).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import contextlib, io, json, sys
sys.argv = ["convlearn", *{args!r}]
out = io.StringIO()
from convlearn.cli import main
with contextlib.suppress(SystemExit), contextlib.redirect_stdout(out):
    main()
sys.stderr.write(json.dumps({{"torch": "torch" in sys.modules, "stdout": out.getvalue()}}))
"""


ROOT = Path(__file__).resolve().parents[2]


def probe(*args: str, env: dict | None = None) -> dict:
    """Run the CLI's entry point in a fresh interpreter; report its stdout and whether torch got imported."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=list(args))],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        cwd=ROOT,
    )
    return json.loads(proc.stderr.strip().splitlines()[-1])


def test_version_does_not_import_torch():
    result = probe("--version")
    assert result["stdout"].startswith("convlearn ")
    assert result["torch"] is False


@pytest.mark.parametrize("command", ["detect", "learn", "synth"])
def test_command_help_does_not_import_torch(command):
    result = probe(command, "--help")
    assert "Usage" in result["stdout"]
    assert result["torch"] is False


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [("convlearn de", "1", "detect"), ("convlearn detect --ker", "2", "--kernel")],
)
def test_shell_completion_does_not_import_torch(words, cword, expected):
    env = {"_CONVLEARN_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": cword}
    result = probe(env=env)
    assert expected in result["stdout"].split()
    assert result["torch"] is False


@pytest.mark.parametrize(
    "args",
    [["detect", "no-such-image.png"], ["detect", "sample_images/stripes.png", "--kernel", "1,,2"]],
)
def test_a_missing_input_or_a_bad_kernel_fails_before_torch_is_imported(args):
    result = probe(*args)
    assert result["torch"] is False
