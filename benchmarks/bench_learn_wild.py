"""``convlearn learn`` with no options on pairs made by other programs from real photos (issue 19).

Each row is one filter applied by Pillow, OpenCV or the real ImageMagick 6 to a
grey 512² crop of a real photograph, its output saved losslessly (PNG) and as
JPEG targets. For each target, the installed console script is run as a new
user would::

    convlearn learn -i IN.png -t TARGET -o k.json
    convlearn detect IN.png -k k.json --mode same --border reflect -o back.npy

and ``back.npy`` is clipped and rounded to 8 bits and compared with the other
program's *lossless* output on the interior (16 pixels in from each side).
The table gives the size and name ``learn`` found, the largest and the 99.9th
percentile level error, the ``"linear"`` verdict of the kernel file (``-`` when
the file has none) and the wall time of ``learn``.

``--engine proto`` replaces the two commands by the prototype of
:mod:`convlearn.learn.select` (size, bias, clipping, verdict, name chosen from
the data under :mod:`convlearn.learn.noise`'s model) through the Python API, and
applies its kernel back with SciPy (reflect border; the interior is compared).

Photos: the nature wallpapers of Debian's ``mate-backgrounds`` package
(``apt-get install mate-backgrounds``: 1280x1024 to 2560x1920 JPEG photographs,
CC-BY-SA), cropped at their centre; the filters take them in turn. ImageMagick
rows need the real ImageMagick 6 (``apt-get install imagemagick``; its
``convert-im6``) and are skipped without it.

    python benchmarks/bench_learn_wild.py --formats png,90 --out benchmarks/wild_before.md
    python benchmarks/bench_learn_wild.py --engine proto --formats png,100,95,90,85,75
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

PHOTO_DIR = Path("/usr/share/backgrounds/mate/nature")
PHOTOS = ["Garden.jpg", "LadyBird.jpg", "Wood.jpg", "TwoWings.jpg", "Storm.jpg", "YellowFlower.jpg"]
#: Pixels left out on each side before comparing (a 15x15 kernel's reach, and then some).
INTERIOR = 16


def photos(size: int) -> list[np.ndarray]:
    """Grey 8-bit centre crops of the photographs found."""
    from PIL import Image

    found = []
    for name in PHOTOS:
        path = PHOTO_DIR / name
        if path.exists():
            im = Image.open(path).convert("L")
            w, h = im.size
            side = min(size, w, h)
            left, top = (w - side) // 2, (h - side) // 2
            found.append(np.asarray(im.crop((left, top, left + side, top + side))))
    if not found:
        sys.exit(f"no photographs in {PHOTO_DIR}: apt-get install mate-backgrounds")
    return found


def _pil(fn: Callable) -> Callable[[np.ndarray], np.ndarray]:
    from PIL import Image

    return lambda x: np.asarray(fn(Image.fromarray(x)))


def pillow_filters() -> dict[str, Callable]:
    from PIL import ImageFilter as F

    named = ["SHARPEN", "SMOOTH", "SMOOTH_MORE", "EDGE_ENHANCE", "EMBOSS", "FIND_EDGES"]
    out = {f"pil {n}": _pil(lambda im, f=getattr(F, n): im.filter(f)) for n in named}
    offset = F.Kernel((3, 3), [1, 2, 1, 0, 0, 0, -1, -2, -1], scale=1, offset=128)
    out["pil Kernel+offset"] = _pil(lambda im: im.filter(offset))
    out["pil GaussianBlur(1)"] = _pil(lambda im: im.filter(F.GaussianBlur(1)))
    out["pil BoxBlur(1)"] = _pil(lambda im: im.filter(F.BoxBlur(1)))
    return out


def opencv_filters() -> dict[str, Callable]:
    import cv2

    rng = np.random.default_rng(19)
    rand = rng.normal(0, 0.25, (3, 3))
    rand[1, 1] += 1 - rand.sum()  # DC gain 1, so the output stays mostly in range
    return {
        "cv GaussianBlur 5x5 s1.2": lambda x: cv2.GaussianBlur(x, (5, 5), 1.2),
        "cv blur 5x5": lambda x: cv2.blur(x, (5, 5)),
        "cv Sobel CV_8U": lambda x: cv2.Sobel(x, cv2.CV_8U, 1, 0),
        "cv Sobel delta": lambda x: cv2.Sobel(x, cv2.CV_8U, 1, 0, scale=0.5, delta=128),
        "cv Scharr CV_8U": lambda x: cv2.Scharr(x, cv2.CV_8U, 0, 1),
        "cv Scharr delta": lambda x: cv2.Scharr(x, cv2.CV_8U, 0, 1, scale=0.125, delta=128),
        "cv Laplacian CV_8U": lambda x: cv2.Laplacian(x, cv2.CV_8U),
        "cv Laplacian delta": lambda x: cv2.Laplacian(x, cv2.CV_8U, delta=128),
        "cv filter2D random": lambda x: cv2.filter2D(x, -1, rand),
    }


def imagemagick() -> str | None:
    """The real ImageMagick 6 ``convert`` (a stand-in that is not ImageMagick does not count)."""
    for name in ("convert-im6.q16", "convert-im6", "convert"):
        exe = shutil.which(name)
        if exe:
            run = subprocess.run([exe, "-version"], capture_output=True, text=True)
            if run.returncode == 0 and run.stdout.startswith("Version: ImageMagick"):
                return exe
    return None


def imagemagick_filters(exe: str | None) -> dict[str, Callable]:
    if exe is None:
        return {}

    def im(*ops: str) -> Callable:
        def apply(x: np.ndarray) -> np.ndarray:
            from PIL import Image

            buf = io.BytesIO()
            Image.fromarray(x).save(buf, format="PNG")
            run = subprocess.run(
                [exe, "png:-", *ops, "-depth", "8", "png:-"], input=buf.getvalue(), capture_output=True
            )
            if run.returncode:
                raise RuntimeError(run.stderr.decode())
            return np.asarray(Image.open(io.BytesIO(run.stdout)).convert("L"))

        return apply

    return {
        "im -blur 0x1.5": im("-blur", "0x1.5"),
        "im -gaussian-blur 0x1.2": im("-gaussian-blur", "0x1.2"),
        "im -sharpen 0x1": im("-sharpen", "0x1"),
        "im Convolve Sobel": im("-morphology", "Convolve", "Sobel"),
        "im Convolve Laplacian": im("-morphology", "Convolve", "Laplacian:0"),
        "im -edge 1": im("-edge", "1"),
    }


def nonlinear_filters() -> dict[str, Callable]:
    import cv2
    from PIL import ImageFilter as F

    lut = np.round(255 * (np.arange(256) / 255) ** 0.8).astype(np.uint8)
    return {
        "NL cv medianBlur 5": lambda x: cv2.medianBlur(x, 5),
        "NL cv bilateral 9": lambda x: cv2.bilateralFilter(x, 9, 50, 5),
        "NL pil MedianFilter(5)": _pil(lambda im: im.filter(F.MedianFilter(5))),
        "NL pil UnsharpMask thr 3": _pil(lambda im: im.filter(F.UnsharpMask(2, 150, 3))),
        "NL pil MaxFilter(3)": _pil(lambda im: im.filter(F.MaxFilter(3))),
        "NL pil MinFilter(3)": _pil(lambda im: im.filter(F.MinFilter(3))),
        "NL gamma 0.8": lambda x: lut[x],
    }


def all_filters() -> dict[str, Callable]:
    return {**pillow_filters(), **opencv_filters(), **imagemagick_filters(imagemagick()), **nonlinear_filters()}


def save_target(out: np.ndarray, fmt: str, path_stem: Path) -> Path:
    """The target as a PNG (``png``) or a JPEG at quality ``fmt``."""
    from PIL import Image

    if fmt == "png":
        path = path_stem.with_suffix(".png")
        Image.fromarray(out).save(path)
    else:
        path = path_stem.with_suffix(f".q{fmt}.jpg")
        Image.fromarray(out).save(path, quality=int(fmt))
    return path


def run_cli(inp: Path, target: Path, work: Path) -> dict:
    """``learn`` with no options, then ``detect`` applies the kernel file back."""
    exe = shutil.which("convlearn", path=os.path.dirname(sys.executable)) or "convlearn"
    kfile, back = work / "k.json", work / "back.npy"
    for f in (kfile, back):
        f.unlink(missing_ok=True)
    t0 = time.perf_counter()
    run = subprocess.run([exe, "learn", "-i", str(inp), "-t", str(target), "-o", str(kfile)], capture_output=True)
    seconds = time.perf_counter() - t0
    if run.returncode:
        return {"error": run.stderr.decode().strip().splitlines()[-1:], "time": seconds}
    d = json.loads(kfile.read_text())
    subprocess.run(
        [exe, "detect", str(inp), "-k", str(kfile), "--mode", "same", "--border", "reflect", "-o", str(back), "-q"],
        check=True,
    )
    closest = d.get("closest") or {}
    name = closest.get("spec", "-") if isinstance(closest, dict) else str(closest)
    if isinstance(closest, dict) and "scale" in closest:
        name = f"{closest['scale']:g} x {name}"
    size = "x".join(map(str, d.get("kernel_size", np.shape(d["kernel"]))))
    return {
        "back": np.load(back).astype(np.float64) * 255,
        "size": size,
        "name": name,
        "linear": d.get("linear", "-"),
        "time": seconds,
    }


def run_proto(inp: Path, target: Path, work: Path) -> dict:
    """The prototype: size, bias, clipping, verdict and name from :func:`convlearn.learn.select.decide`."""
    from PIL import Image
    from scipy.ndimage import correlate

    from convlearn.learn.noise import noise_model
    from convlearn.learn.select import decide

    x = np.asarray(Image.open(inp), dtype=np.float64)
    y = np.asarray(Image.open(target).convert("L"), dtype=np.float64)
    t0 = time.perf_counter()
    noise = noise_model(target)
    d = decide(x, y, noise)
    seconds = time.perf_counter() - t0
    back = correlate(x, d.kernel, mode="reflect") + d.bias
    h, w = d.kernel.shape
    return {"back": back, "size": f"{h}x{w}", "name": d.name or "-", "linear": d.linear, "time": seconds, "why": d.why}


def compare(back: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    err = np.abs(np.clip(np.round(back), 0, 255) - truth.astype(np.float64))[INTERIOR:-INTERIOR, INTERIOR:-INTERIOR]
    return float(err.max()), float(np.percentile(err, 99.9))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=512, help="side of the centre crop (default 512)")
    ap.add_argument("--formats", default="png,90", help="png and/or JPEG qualities, comma-separated")
    ap.add_argument("--engine", choices=["cli", "proto"], default="cli")
    ap.add_argument("--only", default="", help="only filters whose name contains this")
    ap.add_argument("--out", type=Path, help="also write the table here")
    args = ap.parse_args()
    pics, formats = photos(args.size), args.formats.split(",")
    runner = run_cli if args.engine == "cli" else run_proto
    lines = [
        "| filter | target | size found | name found | levels off max / p99.9 | linear | time s |",
        "|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for i, (label, fn) in enumerate(all_filters().items()):
            if args.only not in label:
                continue
            x = pics[i % len(pics)]
            inp = work / f"in{i % len(pics)}.png"
            if not inp.exists():
                from PIL import Image

                Image.fromarray(x).save(inp)
            truth = fn(x)
            for fmt in formats:
                target = save_target(truth, fmt, work / "target")
                r = runner(inp, target, work)
                if "error" in r:
                    row = f"| {label} | {fmt} | error | {r['error']} | - | - | {r['time']:.1f} |"
                else:
                    worst, p999 = compare(r["back"], truth)
                    row = (
                        f"| {label} | {fmt} | {r['size']} | {r['name']} | {worst:.0f} / {p999:.1f} | "
                        f"{r['linear']} | {r['time']:.1f} |"
                    )
                lines.append(row)
                print(row, flush=True)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
