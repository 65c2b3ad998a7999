"""How closely ``detect --canny`` agrees with OpenCV's Canny on sample_images/.

OpenCV's pipeline is what its users run on an 8-bit file: ``cv2.GaussianBlur``
(kernel ``round(6 sigma + 1) | 1``, 8-bit output), then
``cv2.Canny(blurred, 255 * LOW, 255 * HIGH, L2gradient=True)``. convlearn runs
the same steps in float on the image scaled to [0, 1].

Printed per image: the edge pixels each finds, the share of edge pixels both
mark exactly (intersection over union), and within 1 pixel: the share of
convlearn's edge pixels that have an OpenCV edge pixel in their 3x3
neighbourhood, and the other way round.

With ``--speed PHOTO``: the time of ``canny`` on that photo (grey, float32 in
[0, 1]) against ``cv2.GaussianBlur`` + ``cv2.Canny(L2gradient=True)`` on its
8-bit levels, both with two threads, taking turns, medians of ``--repeats``;
with a float32 and a uint8 edge map; and the peak memory of one ``canny`` call
in a fresh process, above ``import torch``, in units of the float32 image.

Run: ``python benchmarks/canny_vs_opencv.py [--speed PHOTO [--repeats 11]]`` (needs the ``test`` extra for cv2).
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from convlearn.edges import canny

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ["shapes", "checker", "diagonal", "noise", "stripes"]
LOW, HIGH = 0.1, 0.3  # in image units; 25.5 and 76.5 for OpenCV's 8-bit levels


def opencv_canny(img8: np.ndarray, low: float, high: float, sigma: float) -> np.ndarray:
    if sigma > 0:
        size = math.floor(6 * sigma + 1 + 0.5) | 1
        reach = min(size // 2, min(img8.shape) - 1)
        img8 = cv2.GaussianBlur(img8, (2 * reach + 1, 2 * reach + 1), sigma, borderType=cv2.BORDER_REFLECT_101)
    return cv2.Canny(img8, 255 * low, 255 * high, L2gradient=True) > 0


def near(a: np.ndarray, b: np.ndarray) -> float:
    """Share of a's edge pixels with a b edge pixel within 1 pixel (3x3)."""
    if not a.any():
        return 1.0
    grown = cv2.dilate(b.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return float((a & grown).sum() / a.sum())


def agreement(img8: np.ndarray, sigma: float, dtype: torch.dtype) -> dict:
    ref = opencv_canny(img8, LOW, HIGH, sigma)
    ours = canny(torch.from_numpy(img8.copy()).to(dtype) / 255, LOW, HIGH, sigma).numpy() > 0
    union = (ours | ref).sum()
    return {
        "ours": int(ours.sum()),
        "opencv": int(ref.sum()),
        "exact": float((ours & ref).sum() / union) if union else 1.0,
        "ours_near_opencv": near(ours, ref),
        "opencv_near_ours": near(ref, ours),
    }


def speed(photo: str, repeats: int) -> None:
    """Canny on one photo against OpenCV's blur + Canny, two threads each, in turns."""
    torch.set_num_threads(2)
    cv2.setNumThreads(2)
    img8 = np.asarray(Image.open(photo).convert("L"))
    X = torch.from_numpy(img8.copy()).float().div_(255)
    sigma = 1.0
    runs = {
        "cv2 blur + Canny": lambda: opencv_canny(img8, LOW, HIGH, sigma),
        "canny (float32 edges)": lambda: canny(X, LOW, HIGH, sigma),
        "canny (uint8 edges)": lambda: canny(X, LOW, HIGH, sigma, dtype=torch.uint8),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats + 1):  # the first round warms up
        for name, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    same = bool(torch.equal(canny(X, LOW, HIGH, sigma, dtype=torch.uint8).float(), canny(X, LOW, HIGH, sigma)))
    ref = statistics.median(times["cv2 blur + Canny"][1:])
    print(f"{photo}: {img8.shape[1]}x{img8.shape[0]}, LOW,HIGH = {LOW},{HIGH}, sigma {sigma}, medians of {repeats}")
    for name, ts in times.items():
        t = statistics.median(ts[1:])
        print(f"  {name:24} {1e3 * t:8.1f} ms  {t / ref:5.2f}x")
    print(f"  uint8 and float32 edge maps equal: {same}")
    for dtype in ("float32", "uint8"):
        print(f"  peak memory, {dtype} edges: {_peak_memory(photo, dtype)}")


_MEMORY = """
import re, sys, numpy as np, torch
from PIL import Image
from convlearn.edges import canny
torch.set_num_threads(2)
# VmHWM, this process's peak RSS: ru_maxrss would carry the parent's peak across fork and exec.
rss = lambda: 1024 * int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
base = rss()
X = torch.from_numpy(np.asarray(Image.open(sys.argv[1]).convert("L")).copy()).float().div_(255)
decoded = rss()
canny(X, {low}, {high}, 1.0, dtype=getattr(torch, sys.argv[2]))
image = X.numel() * 4
print(f"{{(rss() - base) / image:.2f}}x the float32 image above import torch "
      f"(decoding: {{(decoded - base) / image:.2f}}x; canny: {{(rss() - decoded) / image:.2f}}x more)")
"""


def _peak_memory(photo: str, dtype: str) -> str:
    code = _MEMORY.format(low=LOW, high=HIGH)
    return subprocess.run([sys.executable, "-c", code, photo, dtype], capture_output=True, text=True).stdout.strip()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--speed", metavar="PHOTO", help="time canny against OpenCV on this photo instead")
    p.add_argument("--repeats", type=int, default=11)
    args = p.parse_args()
    if args.speed:
        speed(args.speed, args.repeats)
        return
    print(f"cv2 {cv2.__version__}, torch {torch.__version__}, {platform.machine()} CPU, LOW,HIGH = {LOW},{HIGH}\n")
    header = ["image", "sigma", "dtype", "edge px (convlearn / OpenCV)", "exact (IoU)", "convlearn within 1 px"]
    print("| " + " | ".join([*header, "OpenCV within 1 px"]) + " |")
    print("|---|---|---|---|---|---|---|")
    for sigma, dtype in [(1.0, torch.float32), (0.0, torch.float32), (0.0, torch.float64)]:
        for name in IMAGES:
            img8 = np.asarray(Image.open(ROOT / "sample_images" / f"{name}.png").convert("L"))
            a = agreement(img8, sigma, dtype)
            print(
                f"| {name} {img8.shape[0]}x{img8.shape[1]} | {sigma:g} | {str(dtype).split('.')[-1]} "
                f"| {a['ours']} / {a['opencv']} | {a['exact']:.1%} | {a['ours_near_opencv']:.1%} "
                f"| {a['opencv_near_ours']:.1%} |"
            )


if __name__ == "__main__":
    main()
