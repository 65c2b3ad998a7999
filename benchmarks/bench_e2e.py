"""``convlearn detect DIR -o OUT`` end to end on 12 MP JPEG photos, against an OpenCV script and ImageMagick.

The photos are made here: smooth colour gradients, filled shapes, a blur and
sensor noise, saved as JPEG at quality 90 (4000x3000). Each command runs as a
subprocess over the whole folder, start-up included, and the time is divided
by the number of photos; the table shows the median of ``--repeats`` runs and
the ratio to the OpenCV script in the same run.

- sobel-x: ``convlearn detect DIR -k sobel-x -o OUT``, against ``cv2.imread``
  grey, ``cv2.filter2D`` in float, the signed map to 8-bit, ``cv2.imwrite`` PNG;
  and ImageMagick's ``convert -morphology Convolve`` when installed.
- canny: ``convlearn detect DIR --canny 0.1,0.3 -o OUT``, against
  ``cv2.GaussianBlur`` and ``cv2.Canny(L2gradient=True)``.

Also prints convlearn's start-up (the same command on one tiny JPEG) and the
per-photo time beyond it, and the peak memory (RSS) of one 12 MP ``detect`` per
task against a process that only imports what the task needs.

Run: ``python benchmarks/bench_e2e.py [--photos 6] [--repeats 3]`` (needs cv2).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

EXE = shutil.which("convlearn", path=os.path.dirname(sys.executable)) or "convlearn"
OPENCV_SCRIPT = r"""
import sys, glob, os
import cv2, numpy as np
mode, src, dst = sys.argv[1:4]
k = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)
for f in sorted(glob.glob(os.path.join(src, "*.jpg"))):
    g = cv2.imread(f, cv2.IMREAD_GRAYSCALE)
    if mode == "sobel-x":
        y = cv2.filter2D(g.astype(np.float32) / 255, -1, k, borderType=cv2.BORDER_CONSTANT)
        o = np.rint((0.5 + 0.5 * y / (np.abs(y).max() or 1)) * 255).astype(np.uint8)
    else:
        o = cv2.Canny(cv2.GaussianBlur(g, (7, 7), 1.0), 25.5, 76.5, L2gradient=True)
    cv2.imwrite(os.path.join(dst, os.path.basename(f)[:-4] + ".png"), o)
"""


def make_photo(seed: int, width: int = 4000, height: int = 3000) -> Image.Image:
    """A photo-like scene: colour gradients, filled shapes, a slight blur and Gaussian noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([0.5 + 0.3 * np.sin(x / (700 + 100 * c) + y / (900 - 50 * c) + seed + c) for c in range(3)], -1)
    image = Image.fromarray((base * 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x0, y0, s = int(rng.integers(0, width)), int(rng.integers(0, height)), int(rng.integers(50, 700))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse([x0, y0, x0 + s, y0 + s * rng.uniform(0.5, 1.5)], fill=colour)
        else:
            corners = [(x0 + int(rng.integers(-s, s)), y0 + int(rng.integers(-s, s))) for _ in range(3 + seed % 3)]
            draw.polygon(corners, fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(2))
    noisy = np.asarray(image).astype(np.float32) + rng.normal(0, 6, (height, width, 1)).astype(np.float32)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def imagemagick() -> str | None:
    """``convert``, when it is ImageMagick's (some machines carry a stand-in of that name)."""
    exe = shutil.which("convert")
    if exe is None:
        return None
    probe = subprocess.run([exe, "-version"], capture_output=True, text=True)
    return exe if probe.returncode == 0 and "ImageMagick" in probe.stdout else None


def commands(task: str, src: Path, dst: Path, photos: list[Path]) -> dict[str, list[list[str]]]:
    """Each tool's commands for the whole folder."""
    flags = ["-k", "sobel-x"] if task == "sobel-x" else ["--canny", "0.1,0.3"]
    out = {
        "convlearn": [[EXE, "detect", str(src), *flags, "-o", str(dst / "convlearn"), "-q"]],
        "opencv": [[sys.executable, "-c", OPENCV_SCRIPT, task, str(src), str(dst / "opencv")]],
    }
    magick = imagemagick()
    if magick and task == "sobel-x":
        kernel = "3x3: -1,0,1 -2,0,2 -1,0,1"
        out["imagemagick"] = [
            [
                magick,
                str(p),
                "-colorspace",
                "Gray",
                "-morphology",
                "Convolve",
                kernel,
                str(dst / "im" / f"{p.stem}.png"),
            ]
            for p in photos
        ]
    return out


#: Runs its arguments as a command and prints the command's peak RSS (KiB). The command
#: must be forked from a small process: Linux starts a child's ``ru_maxrss`` at the
#: resident size of the process it was forked from, so measured straight from this one
#: (hundreds of MiB after making the photos) every command "peaked" at this process's size.
_MAXRSS = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL); "
    "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def peak_rss(cmd: list[str]) -> float:
    """Peak RSS in MiB of one command, from the kernel's accounting of it (``ru_maxrss``)."""
    out = subprocess.run([sys.executable, "-c", _MAXRSS, *cmd], capture_output=True, text=True, check=True)
    code, kib = out.stdout.split()
    if code != "0":
        raise RuntimeError(f"{cmd[:3]}... exited with {code}: {out.stderr[-500:]}")
    return int(kib) / 1024


def memory_report(photo: Path, dst: Path) -> None:
    """Peak RSS of one 12 MP detect per task, against processes that only import what the task needs."""
    image_mib = 4000 * 3000 * 4 / 2**20
    bases = {
        "sobel-x": ("torch", peak_rss([sys.executable, "-c", "import torch"])),
        "canny": ("torch + scipy.ndimage", peak_rss([sys.executable, "-c", "import torch, scipy.ndimage"])),
    }
    for task, flags in (("sobel-x", ["-k", "sobel-x"]), ("canny", ["--canny", "0.1,0.3"])):
        peak = peak_rss([EXE, "detect", str(photo), *flags, "-o", str(dst / f"one-{task}.png"), "-q"])
        name, base = bases[task]
        print(
            f"peak RSS, one 12 MP detect ({task}): {peak:.0f} MiB; import {name} alone: {base:.0f} MiB; "
            f"added {peak - base:.0f} MiB = {(peak - base) / image_mib:.1f} x the float32 image "
            f"(goal: at most 6 x {image_mib:.0f} MiB)"
        )


def startup(src: Path, dst: Path, task: str, repeats: int) -> float:
    """Median seconds of the convlearn command on a folder of one tiny JPEG: its start-up and exit."""
    tiny = src.parent / "tiny"
    tiny.mkdir(exist_ok=True)
    make_photo(0, 64, 48).save(tiny / "tiny.jpg", quality=90)
    cmd = commands(task, tiny, dst, [])["convlearn"][0]
    return statistics.median(timed(cmd) for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "photos", Path(tmp) / "out"
        src.mkdir()
        photos = []
        for i in range(args.photos):
            photos.append(src / f"photo{i}.jpg")
            make_photo(i).save(photos[-1], quality=90)
        for sub in ("convlearn", "opencv", "im"):
            (dst / sub).mkdir(parents=True)
        print(
            f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}; {args.photos} photos 4000x3000"
        )
        if imagemagick() is None:
            print("ImageMagick's convert is not installed: its row is left out")
        print(f"{'task':8s} {'tool':12s} {'s/photo':>8s} {'x opencv':>9s}")
        for task in ("sobel-x", "canny"):
            cmds = commands(task, src, dst, photos)
            times: dict[str, list[float]] = {name: [] for name in cmds}
            for _ in range(args.repeats):
                for name, cmd_list in cmds.items():
                    times[name].append(sum(timed(c) for c in cmd_list) / args.photos)
            ref = statistics.median(times["opencv"])
            for name, ts in times.items():
                med = statistics.median(ts)
                print(f"{task:8s} {name:12s} {med:8.3f} {med / ref:9.2f}")
            start = startup(src, dst, task, args.repeats)
            beyond = statistics.median(times["convlearn"]) - start / args.photos
            print(f"{task:8s} convlearn's start-up {start:.2f} s; per photo beyond it {beyond:.3f} s")
        memory_report(photos[0], dst)


if __name__ == "__main__":
    main()
