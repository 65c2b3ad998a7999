"""How long ``convlearn --help``, ``--version``, shell completion and a one-photo ``detect`` take to start.

Each command runs ``--repeats`` times in a fresh process; the table shows the
median and the minimum wall time and the median CPU time (user + system) of the
child. On a shared machine the CPU time and the minimum are the steadier
figures: they leave out the time the process waited for a core. Also checks
that none of the help commands imports torch. The last line is a one-photo
``detect`` with sobel-x and with ``--canny`` (a 640x480 JPEG written to a
temporary folder) beyond ``python -c 'import torch'``, minimum against minimum.

Run: ``python benchmarks/bench_startup.py [--repeats 21]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXE = shutil.which("convlearn", path=os.path.dirname(sys.executable)) or "convlearn"
COMPLETION = {"_CONVLEARN_COMPLETE": "complete_bash", "COMP_WORDS": "convlearn de", "COMP_CWORD": "1"}
CASES = {
    "python -c pass": ([sys.executable, "-c", "pass"], {}),
    "python -c 'import torch'": ([sys.executable, "-c", "import torch"], {}),
    "convlearn --version": ([EXE, "--version"], {}),
    "convlearn --help": ([EXE, "--help"], {}),
    "convlearn detect --help": ([EXE, "detect", "--help"], {}),
    "completion (bash, 'convlearn de')": ([EXE], COMPLETION),
}
TORCH_CHECK = (
    "import sys, runpy; sys.argv = {argv!r}; "
    "import atexit; atexit.register(lambda: sys.stderr.write('TORCH=%s\\n' % ('torch' in sys.modules)))\n"
    "runpy.run_path({exe!r}, run_name='__main__')"
)


def run_once(cmd: list[str], env: dict) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def imports_torch(cmd: list[str], env: dict) -> bool | None:
    """Whether the command imported torch (None for the plain-python rows)."""
    if cmd[0] != EXE:
        return None
    code = TORCH_CHECK.format(argv=["convlearn", *cmd[1:]], exe=EXE)
    proc = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    return "TORCH=True" in proc.stderr


def _photo(folder: Path) -> Path:
    """A 640x480 JPEG: smooth noise with a few edges, so that Canny has work to do."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (30, 40), dtype=np.uint8)
    path = folder / "photo.jpg"
    Image.fromarray(small).resize((640, 480), Image.BICUBIC).convert("RGB").save(path, quality=90)
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=21)
    args = p.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="convlearn-startup-"))
    detect = [EXE, "detect", str(_photo(folder)), "-o", str(folder / "out.png"), "--overwrite"]
    cases = {
        **CASES,
        "convlearn detect photo.jpg -k sobel-x": ([*detect, "-k", "sobel-x"], {}),
        "convlearn detect photo.jpg --canny": ([*detect, "--canny", "0.1,0.3"], {}),
    }
    print(f"{'command':38} {'wall ms':>8} {'min ms':>8} {'cpu ms':>8}  imports torch")
    mins = {}
    for name, (cmd, env) in cases.items():
        run_once(cmd, env)  # warm the file cache
        runs = [run_once(cmd, env) for _ in range(args.repeats)]
        wall = 1e3 * statistics.median(r[0] for r in runs)
        mins[name] = 1e3 * min(r[0] for r in runs)
        cpu = 1e3 * statistics.median(r[1] for r in runs)
        torch_flag = imports_torch(cmd, env) if name in CASES else None
        print(f"{name:38} {wall:8.0f} {mins[name]:8.0f} {cpu:8.0f}  {'' if torch_flag is None else torch_flag}")
    for what in ("-k sobel-x", "--canny"):
        beyond = mins[f"convlearn detect photo.jpg {what}"] - mins["python -c 'import torch'"]
        print(f"one-photo detect {what} beyond import torch (min of {args.repeats} each): {beyond:.0f} ms")


if __name__ == "__main__":
    main()
