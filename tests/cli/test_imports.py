"""What a command imports: detect and learn's lstsq never pull in torch._dynamo, and only Canny needs SciPy.

torch._dynamo (and what it brings) costs about a second of start-up; the
commands here run in a fresh interpreter that reports the modules loaded at exit.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import contextlib, json, sys
sys.argv = ["convlearn", *{args!r}]
from convlearn.cli import main
try:
    main()
except SystemExit as e:
    code = e.code
else:
    code = 0
sys.stderr.write("\\n" + json.dumps({{"code": code, "modules": [m for m in {watch!r} if m in sys.modules]}}))
"""
WATCH = ["torch", "torch._dynamo", "torch._inductor", "scipy"]


def loaded_by(*args: str) -> list[str]:
    """Run ``convlearn ARGS`` in a fresh interpreter; the watched modules it imported (it must succeed)."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=list(args), watch=WATCH)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
        cwd=ROOT,
    )
    result = json.loads(proc.stderr.strip().splitlines()[-1])
    assert result["code"] in (0, None), proc.stderr
    return result["modules"]


@pytest.fixture
def png(tmp_path) -> Path:
    path = tmp_path / "in.png"
    levels = np.random.default_rng(0).integers(0, 256, (40, 50, 3)).astype(np.uint8)
    Image.fromarray(levels).save(path)
    return path


@pytest.mark.slow
def test_detect_with_a_kernel_imports_neither_dynamo_nor_scipy(png, tmp_path):
    modules = loaded_by("detect", str(png), "-k", "sobel-x", "-o", str(tmp_path / "out.png"), "-q")
    assert "torch" in modules  # the probe sees what the command loaded
    assert "torch._dynamo" not in modules and "torch._inductor" not in modules
    assert "scipy" not in modules


@pytest.mark.slow
def test_detect_canny_imports_scipy_but_not_dynamo(png, tmp_path):
    modules = loaded_by("detect", str(png), "--canny", "0.1,0.3", "-o", str(tmp_path / "out.png"), "-q")
    assert "scipy" in modules  # the CPU's hysteresis labels components with scipy.ndimage
    assert "torch._dynamo" not in modules


@pytest.mark.slow
def test_learn_lstsq_does_not_import_dynamo(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.random((32, 32)).astype(np.float32)
    y = x[:-2, :-2] + 2 * x[1:-1, 1:-1] - x[2:, 2:]
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    args = ["learn", "-i", str(tmp_path / "x.npy"), "-t", str(tmp_path / "y.npy"), "--kernel-size", "3x3"]
    modules = loaded_by(*args, "--solver", "lstsq", "-o", str(tmp_path / "k.json"))
    assert "torch" in modules
    assert "torch._dynamo" not in modules and "torch._inductor" not in modules
