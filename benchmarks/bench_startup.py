"""How long ``convlearn --help``, ``--version`` and shell completion take to start.

Each command runs ``--repeats`` times in a fresh process; the table shows the
median wall time and the median CPU time (user + system) of the child. On a
shared machine the CPU time is the steadier figure: it leaves out the time the
process waited for a core. Also checks that none of them imports torch.

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
import time

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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=21)
    args = p.parse_args()
    print(f"{'command':38} {'wall ms':>8} {'cpu ms':>8}  imports torch")
    for name, (cmd, env) in CASES.items():
        run_once(cmd, env)  # warm the file cache
        runs = [run_once(cmd, env) for _ in range(args.repeats)]
        wall = 1e3 * statistics.median(r[0] for r in runs)
        cpu = 1e3 * statistics.median(r[1] for r in runs)
        torch_flag = imports_torch(cmd, env)
        print(f"{name:38} {wall:8.0f} {cpu:8.0f}  {'' if torch_flag is None else torch_flag}")


if __name__ == "__main__":
    main()
