"""Shared fixtures and references for the tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from convlearn.cli import app

# Tolerances per dtype: fp32 results are compared with float64 references.
TOL = {torch.float32: dict(rtol=1e-5, atol=1e-5), torch.float64: dict(rtol=1e-12, atol=1e-12)}

runner = CliRunner()


def corr2d_loop(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """The notebook's corr2d, kept verbatim (bar dtype) as the reference."""
    h, w = K.shape
    a, b = X.shape
    Y = torch.zeros((a - h + 1, b - w + 1), dtype=X.dtype)
    for i in range(a - h + 1):
        for j in range(b - w + 1):
            Y[i, j] = (X[i : i + h, j : j + w] * K).sum()
    return Y


def conv2d_reference(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid correlation by F.conv2d in float64 (conv2d does not flip)."""
    out = torch.nn.functional.conv2d(X.double()[None, None], K.double()[None, None])
    return out[0, 0]


def cli_exe() -> list[str]:
    """The installed console script, falling back to ``python -m convlearn``."""
    exe = shutil.which("convlearn", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "convlearn"]


def run_cli(*args: str, cwd: Path | None = None, input: bytes | None = None, env: dict | None = None):
    """Run the installed console script as a subprocess."""
    return subprocess.run(
        [*cli_exe(), *args], cwd=cwd, input=input, capture_output=True, timeout=300, env={**os.environ, **(env or {})}
    )


def invoke_cli(*args: str, cwd: Path | None = None, input: bytes | None = None, env: dict | None = None):
    """Run a command in this process (Typer's runner, through the same error boundary), shaped as run_cli's result.

    For tests whose subject is what a command does with its inputs and outputs: it costs no interpreter
    and no torch import. Tests whose subject is the command line itself (the installed script's exit
    status, signals, start-up, the real stdout and stderr streams) use run_cli or start_cli.
    """
    old = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = runner.invoke(app, list(args), input=input, env=env, catch_exceptions=False)
    finally:
        os.chdir(old)
    return subprocess.CompletedProcess(["convlearn", *args], result.exit_code, result.stdout_bytes, result.stderr_bytes)


def start_cli(*args: str, cwd: Path | None = None, env: dict | None = None, **popen) -> subprocess.Popen:
    """Start the installed console script without waiting: for signals, resource limits, pipes."""
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen([*cli_exe(), *args], cwd=cwd, env={**os.environ, **(env or {})}, **popen)


@pytest.fixture
def cli():
    return runner


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.fixture
def cv2():
    """OpenCV, a reference oracle: a test that takes this fixture is skipped, alone, where it is missing."""
    return pytest.importorskip("cv2")
