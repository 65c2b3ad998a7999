"""Restore blurred 8-bit images with convlearn and with scikit-image, side by side, and print a Markdown table.

The images are scikit-image's samples (brick, moon, text, camera), blurred by a
9x9 Gaussian of sigma 2, a 7x7 box and a 9-pixel horizontal motion, with
reflected borders (``scipy.ndimage.correlate(mode="mirror")``, OpenCV's
REFLECT_101), then rounded to 8 bits. PSNR is measured on the interior (a
margin of the kernel's size left out) and on the full frame. Columns:

- convlearn's default (``restore_planes`` with no strength) and its ``rl``;
- convlearn with the best strength of a grid (hand-picked, knowing the sharp image);
- scikit-image's ``wiener`` with the best ``balance`` of a grid, ``unsupervised_wiener``
  and ``richardson_lucy`` (30 iterations).

Then a q90 JPEG of a blurred image (noise from its quantisation tables), and a
12 MP grey image with the 9x9 Gaussian: convlearn's time and peak memory (RSS
above ``import torch``, in a fresh process) beside scikit-image's ``wiener``.

Needs scikit-image (not a convlearn dependency): ``pip install scikit-image``.

    nice python benchmarks/bench_restore.py
    nice python benchmarks/bench_restore.py --skip-large
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

IMAGES = ("brick", "moon", "text", "camera")
#: Strength grid for convlearn's hand-picked best, and balance grid for skimage's wiener.
STRENGTHS = [10.0**e for e in np.arange(-5.5, -0.99, 0.25)]
BALANCES = [10.0**e for e in np.arange(-4.0, 0.51, 0.25)]


def kernels() -> dict[str, np.ndarray]:
    g = np.exp(-0.5 * ((np.arange(9) - 4) / 2.0) ** 2)
    motion = np.zeros((9, 9))
    motion[4, :] = 1.0
    return {"gauss9 s2": np.outer(g, g) / np.outer(g, g).sum(), "box7": np.full((7, 7), 1 / 49), "motion9": motion / 9}


def sample(name: str) -> np.ndarray:
    from skimage import color, data

    image = getattr(data, name)()
    if image.ndim == 3:
        image = (color.rgb2gray(image) * 255).round()
    return image.astype(np.float64) / 255


def blur8(sharp: np.ndarray, K: np.ndarray) -> np.ndarray:
    return np.round(ndimage.correlate(sharp, K, mode="mirror") * 255).clip(0, 255) / 255


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((np.asarray(a, np.float64) - b) ** 2)))


def scores(out: np.ndarray, sharp: np.ndarray, m: int) -> tuple[float, float]:
    """(interior, full frame) PSNR."""
    return psnr(out[m:-m, m:-m], sharp[m:-m, m:-m]), psnr(out, sharp)


def convlearn_restore(b: np.ndarray, K: np.ndarray, **kw) -> tuple[np.ndarray, object]:
    import torch

    from convlearn.kernels import Kernel
    from convlearn.restore import restore_planes

    result = restore_planes(torch.from_numpy(b.astype(np.float32)), Kernel(K), **kw)
    return result.planes.double().numpy(), result.reports[0]


def best_of(grid, run, sharp: np.ndarray, m: int) -> tuple[float, float, float]:
    """The grid value of best interior PSNR: (value, interior, full)."""
    results = [(v, *scores(run(v), sharp, m)) for v in grid]
    return max(results, key=lambda r: r[1])


def quality_rows(fmt) -> list[str]:
    from skimage import restoration

    rows = []
    for kname, K in kernels().items():
        psf = K[::-1, ::-1].copy()  # scikit-image convolves; the kernels here correlate
        m = max(K.shape)
        for name in IMAGES:
            sharp = sample(name)
            b = blur8(sharp, K)
            default, report = convlearn_restore(b, K)
            rl, rl_report = convlearn_restore(b, K, method="rl")
            hand = best_of(STRENGTHS, lambda s, b=b, K=K: convlearn_restore(b, K, strength=s)[0], sharp, m)
            sk_wiener = best_of(BALANCES, lambda v, b=b, p=psf: restoration.wiener(b, p, v, clip=False), sharp, m)
            sk_uw = restoration.unsupervised_wiener(b, psf, clip=False, rng=0)[0]
            sk_rl = restoration.richardson_lucy(b, psf, num_iter=30, clip=False)
            d = scores(default, sharp, m)
            rows.append(
                f"| {name} | {kname} | {fmt(scores(b, sharp, m)[0])} | {fmt(d[0])} / {fmt(d[1])} "
                f"({report.strength:.2g}, {report.iterations} it) | {fmt(hand[1])} / {fmt(hand[2])} ({hand[0]:.2g}) "
                f"| {fmt(d[0] - hand[1], sign=True)} | {fmt(scores(rl, sharp, m)[0])} / {fmt(scores(rl, sharp, m)[1])} "
                f"({rl_report.iterations} it) | {fmt(sk_wiener[1])} / {fmt(sk_wiener[2])} "
                f"| {'/'.join(fmt(v) for v in scores(sk_uw, sharp, m))} "
                f"| {'/'.join(fmt(v) for v in scores(sk_rl, sharp, m))} |"
            )
            print(rows[-1], file=sys.stderr, flush=True)
    return rows


def jpeg_rows(fmt) -> list[str]:
    from convlearn.restore import jpeg_noise

    K = kernels()["gauss9 s2"]
    rows = []
    for name in ("camera", "brick", "moon"):
        sharp = sample(name)
        buffer = io.BytesIO()
        Image.fromarray((blur8(sharp, K) * 255).astype(np.uint8)).save(buffer, format="JPEG", quality=90)
        with Image.open(buffer) as im:
            b = np.asarray(im, dtype=np.float64) / 255
            noise = jpeg_noise(im.quantization)
        out, report = convlearn_restore(b, K, noise=noise)
        bare, _ = convlearn_restore(b, K)
        m = 9
        rows.append(
            f"| {name} | {fmt(scores(b, sharp, m)[0])} | {fmt(scores(out, sharp, m)[0])} / "
            f"{fmt(scores(out, sharp, m)[1])} ({report.noise * 255:.2f}/255, strength {report.strength:.2g}) "
            f"| {fmt(scores(bare, sharp, m)[0])} |"
        )
    return rows


_LARGE = """
import sys, time
def rss(field):
    return next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith(field))
import torch, numpy as np
from convlearn.kernels import Kernel
from convlearn.restore import restore_planes
base = rss("VmRSS")
b = torch.from_numpy(np.load(sys.argv[1]).astype(np.float32))
b /= 255
t = time.perf_counter()
r = restore_planes(b, Kernel(np.load(sys.argv[2])))
print(time.perf_counter() - t, rss("VmHWM") - base, b.numel() * 4, r.reports[0].iterations)
"""


def large_row() -> str:
    """convlearn's time and peak RSS above its imports (VmHWM - VmRSS then) in a fresh process; skimage's time."""
    from skimage import restoration, transform

    K = kernels()["gauss9 s2"]
    sharp = transform.resize(sample("brick"), (3000, 4000), order=3)  # 12 MP
    b8 = (blur8(sharp, K) * 255).astype(np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp, "large.npy"), b8)
        np.save(Path(tmp, "kernel.npy"), K)
        args = [sys.executable, "-c", _LARGE, str(Path(tmp, "large.npy")), str(Path(tmp, "kernel.npy"))]
        seconds, peak, image_bytes, iterations = subprocess.run(
            args, capture_output=True, text=True, check=True
        ).stdout.split()
    t = time.perf_counter()
    restoration.wiener(b8 / 255.0, K[::-1, ::-1].copy(), 0.01, clip=False)
    sk_seconds = time.perf_counter() - t
    return (
        f"| 3000x4000 grey, gauss9 s2 | {float(seconds):.1f} s ({iterations} CG iterations) "
        f"| {int(peak) / 2**20:.0f} MiB = {int(peak) / int(image_bytes):.1f}x the float32 image "
        f"| {sk_seconds:.1f} s |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-large", action="store_true", help="leave out the 12 MP timing")
    args = parser.parse_args()

    def fmt(v: float, sign: bool = False) -> str:
        return f"{v:+.2f}" if sign else f"{v:.2f}"

    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}; PSNR in dB\n")
    print(
        "| image | kernel | blurred | convlearn default, interior / full (strength, CG it) "
        "| convlearn best strength, interior / full (strength) | default - best | convlearn rl (it) "
        "| skimage wiener best, interior / full | skimage unsupervised_wiener | skimage richardson_lucy 30 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(quality_rows(fmt)))
    print(
        "\n| JPEG q90 of gauss9 s2 | blurred | convlearn, tables' noise: interior / full | convlearn, no noise given |"
    )
    print("|---|---|---|---|")
    print("\n".join(jpeg_rows(fmt)))
    if not args.skip_large:
        print("\n| 12 MP | convlearn default time | peak RSS above import torch | skimage wiener time |")
        print("|---|---|---|---|")
        print(large_row())


if __name__ == "__main__":
    main()
