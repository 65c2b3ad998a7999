"""Colour kernels (``learn --channels each|full``) recovered from a 512² photo-like colour pair.

The input: three photo-like planes (``bench_learn_default.photo_like`` with seeds
0, 1, 2) as R, G and B, saved as an 8-bit PNG. Targets, all made by OpenCV/numpy
from the 8-bit image as saved:

- ``each float``: ``cv2.GaussianBlur(5x5)`` on R, the identity on G, ``cv2.Sobel`` dx
  on B (padded to 5x5), in float64 ``.npy``; learned with ``--channels each``;
- ``each 8-bit``: the same, saved as an 8-bit PNG (Sobel scaled by 1/4 and offset
  by 0.5 to stay in range; ``--bias``);
- ``full float``: a random (3, 3, 3, 3) cross-channel kernel, float64 ``.npy``,
  learned with ``--channels full``.

Each is learned by lstsq at the true size, by the default solver (sgd until
converged) at the true size, and (``each``) by lstsq with ``--kernel-size auto``. Printed:
the size found, the largest difference from the true kernel, and the median
time of ``--repeats`` runs (beyond start-up).

    python benchmarks/bench_learn_colour.py --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_learn_default import photo_like


def kernels() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The true (3, 5, 5) per-channel kernel, its 8-bit variant and the (3, 3, 3, 3) cross-channel one."""
    import cv2

    g = cv2.getGaussianKernel(5, 0)
    each = np.zeros((3, 5, 5))
    each[0] = g @ g.T
    each[1, 2, 2] = 1.0
    each[2, 1:4, 1:4] = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    each8 = each.copy()
    each8[2] /= 4
    full = np.random.default_rng(9).standard_normal((3, 3, 3, 3)) / 3
    return each, each8, full


def apply(X: np.ndarray, K: np.ndarray, bias=(0.0, 0.0, 0.0)) -> np.ndarray:
    """The same-size target of (H, W, 3) X under K, in float64 (cv2.filter2D, reflect-101 borders)."""
    import cv2

    planes = []
    for o in range(3):
        if K.ndim == 3:
            planes.append(cv2.filter2D(X[..., o], cv2.CV_64F, K[o]) + bias[o])
        else:
            planes.append(sum(cv2.filter2D(X[..., i], cv2.CV_64F, K[o, i]) for i in range(3)) + bias[o])
    return np.stack(planes, axis=-1)


def main() -> None:
    from PIL import Image

    from convlearn.learn import run_learn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    each, each8, full = kernels()
    folder = Path(tempfile.mkdtemp())
    X8 = np.stack([(photo_like(args.size, s) * 255).round() for s in range(3)], axis=-1).astype(np.uint8)
    Image.fromarray(X8).save(folder / "x.png")
    X = X8.astype(np.float64) / 255
    np.save(folder / "each.npy", apply(X, each))
    Y8 = np.clip(apply(X, each8, (0.0, 0.0, 0.5)) * 255, 0, 255).round().astype(np.uint8)
    Image.fromarray(Y8).save(folder / "each8.png")
    np.save(folder / "full.npy", apply(X, full))
    cases = [
        ("each float", "each.npy", "each", each, False),
        ("each 8-bit", "each8.png", "each", each8, True),
        ("full float", "full.npy", "full", full, False),
    ]
    print(f"{args.size}² photo-like RGB pair, medians of {args.repeats}")
    for name, target, channels, K, bias in cases:
        size = f"{K.shape[-2]}x{K.shape[-1]}"
        sizes = [("lstsq", size), ("sgd", size)] + ([("lstsq", "auto")] if channels == "each" else [])
        for solver, ksize in sizes:
            times, run = [], None
            for _ in range(args.repeats + 1):  # the first is a warm-up
                t0 = time.perf_counter()
                run = run_learn(
                    inputs=[folder / "x.png"],
                    targets=[folder / target],
                    kernel_size=ksize,
                    solver=solver,
                    channels=channels,
                    bias=bias,
                    device="cpu",
                )
                times.append(time.perf_counter() - t0)
            w = run.result.weight.double().numpy()
            found = "x".join(str(n) for n in w.shape[-2:])
            gap = np.abs(w - K).max() if w.shape == K.shape else float("nan")
            print(
                f"{name:11s} {solver:5s} --kernel-size {ksize:4s} -> {found:4s} max|k-K| {gap:.2e}  "
                f"{run.result.stopped:9s} {statistics.median(times[1:]):.2f} s"
            )


if __name__ == "__main__":
    main()
