"""How closely ``detect --canny`` agrees with OpenCV's Canny on sample_images/.

OpenCV's pipeline is what its users run on an 8-bit file: ``cv2.GaussianBlur``
(kernel ``round(6 sigma + 1) | 1``, 8-bit output), then
``cv2.Canny(blurred, 255 * LOW, 255 * HIGH, L2gradient=True)``. convlearn runs
the same steps in float on the image scaled to [0, 1].

Printed per image: the edge pixels each finds, the share of edge pixels both
mark exactly (intersection over union), and within 1 pixel: the share of
convlearn's edge pixels that have an OpenCV edge pixel in their 3x3
neighbourhood, and the other way round.

Run: ``python benchmarks/canny_vs_opencv.py`` (needs the ``test`` extra for cv2).
"""

from __future__ import annotations

import math
import platform
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


def main() -> None:
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
