"""The issue-13 goals for ``convlearn learn`` with no options, measured on a 512² photo-like pair.

The input is photo-like: a 1/f-spectrum texture (as natural images have) over
flat anti-aliased shapes, saved as 8-bit levels; its 3x3 Gram condition number
is ~8,000 (a photograph's: ~6,000). Targets, each learned by ``run_learn`` with
its defaults (automatic size, sgd until converged) and by lstsq at the true size:

- ``blur5``: ``cv2.GaussianBlur(5x5)`` of the 8-bit image, saved as 8-bit (goal: within 2e-3, named);
- ``sobel``: ``cv2.Sobel`` in float64 (goal: the 3x3 kernel within 1e-4).

Times are medians of ``--repeats`` in-process runs (beyond start-up: imports
done, one warm-up run first), files read from disk each time.

    python benchmarks/bench_learn_default.py --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def photo_like(size: int = 512, seed: int = 0) -> np.ndarray:
    """A photo-like image in [0, 1]: 1/f^1.15 texture over the ``shapes`` pattern."""
    from convlearn.synth import make_image

    rng = np.random.default_rng(seed)
    f = np.fft.fftfreq(size)
    r = np.hypot(f[:, None], f[None, :])
    r[0, 0] = 1.0
    spectrum = (rng.standard_normal((size, size)) + 1j * rng.standard_normal((size, size))) / r**1.15
    texture = np.fft.ifft2(spectrum).real
    texture = (texture - texture.mean()) / texture.std()
    shapes = make_image(pattern="shapes", height=size, width=size).double().numpy()
    return np.clip(0.6 * shapes + 0.08 * texture + 0.2, 0.0, 1.0)


def main() -> None:
    import cv2

    from convlearn.kernels import parse_kernel
    from convlearn.learn import run_learn

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    folder = Path(tempfile.mkdtemp())
    levels = np.round(photo_like(args.size) * 255).astype(np.uint8)
    cv2.imwrite(str(folder / "photo.png"), levels)
    cv2.imwrite(str(folder / "blur5.png"), cv2.GaussianBlur(levels, (5, 5), 0))
    np.save(folder / "sobel.npy", cv2.Sobel(levels / 255.0, cv2.CV_64F, 1, 0))
    truth = {"blur5": parse_kernel("gaussian:5").weight, "sobel": parse_kernel("sobel-x").weight}
    for name, target in (("blur5", "blur5.png"), ("sobel", "sobel.npy")):
        pair = {"inputs": [folder / "photo.png"], "targets": [folder / target]}
        run_learn(**pair)  # warm-up
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            run = run_learn(**pair)
            times.append(time.perf_counter() - start)
        r = run.result
        exact = run_learn(**pair, solver="lstsq", kernel_size=truth[name].shape).result.weight.numpy()
        error = float(np.abs(r.weight.numpy() - truth[name]).max()) if r.weight.shape == truth[name].shape else None
        print(
            f"{name}: size {r.weight.shape[0]}x{r.weight.shape[1]}, {r.epochs_run} epochs, {r.stopped}; "
            f"median {statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f}); "
            f"max |k - K| {error:.2e} (lstsq {np.abs(exact - truth[name]).max():.2e}); "
            f"gap to lstsq {r.report.gap:.1e}; condition {r.report.condition:,.0f}; closest {r.closest}"
        )


if __name__ == "__main__":
    main()
