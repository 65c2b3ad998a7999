"""Time ``convlearn learn`` with no options on a 512² pair and a 12 MP pair, and compare their size and name.

The pairs are a photo-like synthetic image (1/f texture over soft shapes, as in
``tests/learn/wild_data.py``) under OpenCV's 5x5 Gaussian σ 1.2, saved as 8-bit PNG;
the 12 MP one is that texture at 4000x3000 and the 512² one its centre crop.
The time is :func:`convlearn.learn.run_learn` in process (start-up excluded),
the median of ``--repeat`` runs, and one run of the console script (start-up included).

    python benchmarks/time_learn_wild.py --repeat 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "learn"))


def pairs(work: Path) -> dict[str, tuple[Path, Path]]:
    import cv2
    from PIL import Image
    from wild_data import photo

    big = np.asarray(Image.fromarray(photo(1024, seed=11)).resize((4000, 3000), Image.LANCZOS))
    out = {}
    for name, x in (("12MP", big), ("512", big[1244:1756, 1744:2256])):
        x = np.ascontiguousarray(x)
        inp, tgt = work / f"{name}_in.png", work / f"{name}_t.png"
        Image.fromarray(x).save(inp)
        Image.fromarray(cv2.GaussianBlur(x, (5, 5), 1.2)).save(tgt)
        out[name] = (inp, tgt)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from convlearn.learn import run_learn

    with tempfile.TemporaryDirectory() as tmp:
        for name, (inp, tgt) in pairs(Path(tmp)).items():
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                run = run_learn(inputs=[inp], targets=[tgt])
                times.append(time.perf_counter() - t0)
            closest = run.result.closest or {}
            exe = [sys.executable, "-m", "convlearn", "learn", "-i", str(inp), "-t", str(tgt), "-q"]
            t0 = time.perf_counter()
            subprocess.run(exe, check=True, env={**os.environ})
            cli = time.perf_counter() - t0
            print(
                f"{name}: size {tuple(run.result.weight.shape)} name {closest.get('spec')} "
                f"linear {run.record.get('linear')}; in process median {statistics.median(times):.2f} s "
                f"(runs {', '.join(f'{t:.2f}' for t in times)}); console script {cli:.2f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
