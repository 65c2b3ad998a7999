"""Time convlearn.corr2d against its peers, in one process, and print medians.

Peers: ``F.conv2d`` (the obvious way), the notebook's double loop (small sizes
only), ``cv2.filter2D`` and ``scipy.ndimage.correlate`` when installed, and a
plain copy of the image (read + write) for the memory bandwidth. Every method
runs once to warm up, then the methods take turns, ``--repeats`` times, so that
load from other processes falls on all of them alike; the table shows medians
and each median's ratio to cv2's (lower is faster). cv2 and SciPy compute an
output the size of the image (zero border); corr2d and conv2d the valid one,
``(H - h + 1) x (W - w + 1)``.

Examples::

    python benchmarks/bench_corr2d.py                      # CPU, the full grid
    python benchmarks/bench_corr2d.py --sizes 4096 --kernels 3x3,5x5 --repeats 15
    python benchmarks/bench_corr2d.py --device cuda --json gpu.json
    python benchmarks/bench_corr2d.py --memory 16384       # peak memory, one process per strategy

Needs the ``test`` extra for cv2 and SciPy; runs without them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

try:
    from rich.console import Console
    from rich.table import Table
except ImportError:  # a bare GPU box: plain text instead
    Console = Table = None

from convlearn.corr import STRATEGIES, choose_strategy, corr2d, filter2d
from convlearn.corr.separable import kernel_rank
from convlearn.runtime.device import exact_fp32

try:
    import cv2
except ImportError:  # the test extra is not installed
    cv2 = None
try:
    from scipy import ndimage
except ImportError:
    ndimage = None


class _PlainConsole:
    """print() for when Rich is not installed; drops Rich markup."""

    def print(self, *items, **kwargs):
        import re

        for item in items:
            print(re.sub(r"\[/?[a-z ]*\]", "", item) if isinstance(item, str) else item)


console = Console(highlight=False) if Console is not None else _PlainConsole()
SIZES = {"cpu": [512, 2048, 4096], "cuda": [512, 2048, 4096, 8192]}
KERNELS = ["1x2", "3x3", "5x5", "15x15", "31x31"]


def machine(device: torch.device) -> dict:
    """Where the figures come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "opencv": getattr(cv2, "__version__", None),
        "device": str(device),
        "load_average_1min": os.getloadavg()[0],  # other work on the machine when the run started
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def notebook_loop(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """The notebook's corr2d, verbatim bar the dtype."""
    h, w = K.shape
    a, b = X.shape
    Y = torch.zeros((a - h + 1, b - w + 1), dtype=X.dtype, device=X.device)
    for i in range(a - h + 1):
        for j in range(b - w + 1):
            Y[i, j] = (X[i : i + h, j : j + w] * K).sum()
    return Y


def make_kernel(spec: str, kind: str, g: torch.Generator) -> torch.Tensor:
    h, w = (int(v) for v in spec.lower().split("x"))
    if kind == "random":  # full rank: no separable shortcut
        return torch.randn(h, w, generator=g)
    if kind == "box":
        return torch.full((h, w), 1.0 / (h * w))
    # a Gaussian, sigma a sixth of the size as cv2.getGaussianKernel does roughly: rank 1
    y = torch.arange(h, dtype=torch.float64) - (h - 1) / 2
    x = torch.arange(w, dtype=torch.float64) - (w - 1) / 2
    gy, gx = torch.exp(-(y**2) / (2 * max(h / 6, 0.5) ** 2)), torch.exp(-(x**2) / (2 * max(w / 6, 0.5) ** 2))
    k = gy[:, None] * gx[None, :]
    return (k / k.sum()).float()


def methods(X: torch.Tensor, K: torch.Tensor, args) -> dict[str, Callable[[], object]]:
    """The callables to time for one image and kernel; each runs ``args.inner`` times and waits for the GPU."""
    device = X.device
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    out = torch.empty_like(X)

    def timed(fn, inner=args.inner):
        def run():
            for _ in range(inner):
                result = fn()
            sync()
            return result

        return run

    runs = {
        "corr2d": timed(lambda: corr2d(X, K)),
        "F.conv2d": timed(lambda: _conv2d(X, K)),
        "copy": timed(lambda: out.copy_(X)),
    }
    if args.strategies:
        h, w = K.shape
        taps = {"direct": h * w, "separable": kernel_rank(K) * (h + w)}
        for name in STRATEGIES[1:]:
            if taps.get(name, 0) > args.max_taps:  # never picked, and seconds a call
                continue
            runs[f"corr2d:{name}"] = timed(lambda name=name: corr2d(X, K, strategy=name))
    Xn, Kn = X.cpu().numpy(), K.cpu().numpy()
    if cv2 is not None and not args.no_cv2:
        runs["cv2"] = lambda: cv2.filter2D(Xn, -1, Kn, borderType=cv2.BORDER_CONSTANT)
    if ndimage is not None and not args.no_scipy:
        runs["scipy"] = lambda: ndimage.correlate(Xn, Kn, mode="constant")
    if X.shape[-1] <= args.loop_max:
        runs["loop"] = timed(lambda: notebook_loop(X, K), inner=1)
    return runs


def _conv2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """F.conv2d as a user would call it: defaults, except TF32 off on CUDA (exact_fp32)."""
    return F.conv2d(X[None, None], K[None, None])[0, 0]


def time_all(runs: dict[str, Callable[[], object]], repeats: int, slow: set[str], inner: int) -> dict[str, dict]:
    """First call, then ``repeats`` round-robin calls of every method; slow ones run once more only.

    Times are per call: a run of ``inner`` back-to-back calls divided by ``inner``
    (the notebook loop, cv2 and SciPy run once per run).
    """
    times: dict[str, list[float]] = {name: [] for name in runs}
    first: dict[str, float] = {}
    for name, run in runs.items():
        t0 = time.perf_counter()
        run()
        first[name] = time.perf_counter() - t0
    for i in range(repeats):
        for name, run in runs.items():
            if name in slow and i > 0:
                continue
            t0 = time.perf_counter()
            run()
            per_call = inner if name not in ("loop", "cv2", "scipy") else 1
            times[name].append((time.perf_counter() - t0) / per_call)
    ms = 1e3
    return {
        name: {"median_ms": ms * statistics.median(ts), "times_ms": [ms * t for t in ts], "first_ms": ms * first[name]}
        for name, ts in times.items()
    }


def agreement(X: torch.Tensor, K: torch.Tensor) -> float | None:
    """max |corr2d - cv2| over the valid region, as a sanity check on what is timed."""
    if cv2 is None:
        return None
    h, w = K.shape
    ref = cv2.filter2D(X.cpu().numpy(), -1, K.cpu().numpy(), borderType=cv2.BORDER_CONSTANT)
    ref = ref[h // 2 : h // 2 + X.shape[0] - h + 1, w // 2 : w // 2 + X.shape[1] - w + 1]
    return float(np.abs(corr2d(X, K).cpu().numpy() - ref).max())


def bench(args) -> dict:
    load_at_start = os.getloadavg()[0]
    device = torch.device(args.device)
    if device.type == "cuda":
        exact_fp32()
    g = torch.Generator().manual_seed(0)
    sizes = args.sizes or SIZES[device.type]
    order = ["corr2d", *(f"corr2d:{s}" for s in STRATEGIES[1:]), "F.conv2d", "cv2", "scipy", "loop", "copy"]
    # On a GPU, the CPU peers are references, timed once: they take seconds at 8192².
    slow = {"loop"} | ({"cv2", "scipy"} if device.type == "cuda" else set())
    if args.quick_slow:  # the slow peers at large sizes: seconds a call
        slow |= {"scipy", "F.conv2d"}
    rows = []
    for size in sizes:
        X = torch.rand(size, size, generator=g).to(device)
        for spec in args.kernels:
            K = make_kernel(spec, args.kind, g).to(device)
            runs = methods(X, K, args)
            stats = time_all(runs, args.repeats, slow, args.inner)
            ref = stats.get("cv2", {}).get("median_ms")
            row = {
                "size": size,
                "kernel": spec,
                "kind": args.kind,
                "strategy": choose_strategy(X, K),
                "max_abs_diff_vs_cv2": agreement(X, K),
                "methods": {},
            }
            for name in sorted(stats, key=order.index):
                s = stats[name]
                s["ratio_to_cv2"] = s["median_ms"] / ref if ref else None
                # Memory speed reached: a copy reads and writes the image once.
                s["copy_over_this"] = stats["copy"]["median_ms"] / s["median_ms"]
                row["methods"][name] = s
            rows.append(row)
            console.print(
                f"{size}² {spec} ({row['strategy']}): "
                + ", ".join(f"{n} {s['median_ms']:.3f} ms" for n, s in row["methods"].items()),
                style="dim",
            )
    info = machine(device)
    info["load_average_1min_at_end"] = info.pop("load_average_1min")
    info["load_average_1min"] = load_at_start
    return {"machine": info, "repeats": args.repeats, "inner": args.inner, "results": rows}


def table(report: dict):
    names = []
    for row in report["results"]:
        names += [n for n in row["methods"] if n not in names]
    gpu = report["machine"]["device"].startswith("cuda")
    if Table is None:
        return "\n".join(
            f"{r['size']}² {r['kernel']} ({r['strategy']}): "
            + ", ".join(f"{n} {s['median_ms']:.3f} ms" for n, s in r["methods"].items())
            for r in report["results"]
        )
    what = "ratio to cv2.filter2D" + (" on the CPU; copy/corr2d = share of copy speed" if gpu else "")
    t = Table(title=f"corr2d medians, ms ({what}), {report['machine']['device']}")
    t.add_column("size")
    t.add_column("kernel")
    t.add_column("auto picks")
    for n in names:
        t.add_column(n, justify="right")
    if gpu:
        t.add_column("copy/corr2d", justify="right")
    for row in report["results"]:
        cells = []
        for n in names:
            s = row["methods"].get(n)
            if s is None:
                cells.append("")
                continue
            ratio = s.get("ratio_to_cv2")
            text = f"{s['median_ms']:.3f}" + (f" ({ratio:.2f}x)" if ratio is not None and n != "cv2" else "")
            if n.startswith("corr2d") and ratio is not None:
                text = f"[green]{text}[/]" if ratio <= 1.0 else f"[yellow]{text}[/]" if ratio <= 1.5 else text
            cells.append(text)
        if gpu:
            cells.append(f"{row['methods']['corr2d']['copy_over_this']:.2f}")
        t.add_row(f"{row['size']}²", row["kernel"], row["strategy"], *cells)
    return t


def _ms(x: float) -> str:
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}" if x >= 0.1 else f"{x:.3f}"


def markdown(report: dict) -> str:
    """The same figures as a Markdown table, for benchmarks/RESULTS.md."""
    names = []
    for row in report["results"]:
        names += [n for n in row["methods"] if n not in names]
    gpu = report["machine"]["device"].startswith("cuda")
    head = ["size", "kernel", "auto picks", *names] + (["copy/corr2d"] if gpu else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in report["results"]:
        cells = [f"{row['size']}²", row["kernel"], row["strategy"]]
        for n in names:
            s = row["methods"].get(n)
            ratio = None if s is None else s.get("ratio_to_cv2")
            if s is None:
                cells.append("")
            elif ratio is None or n == "cv2":
                cells.append(_ms(s["median_ms"]))
            else:
                text = f"{_ms(s['median_ms'])} ({ratio:.2f}x)"
                cells.append(f"**{text}**" if n == "corr2d" else text)
        if gpu:
            cells.append(f"{row['methods']['corr2d']['copy_over_this']:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    m = report["machine"]
    lines.append("")
    lines.append(
        f"ms, medians of {report['repeats']} round-robin runs (loop, and with --quick-slow scipy and F.conv2d: "
        f"one run); ratio to cv2.filter2D in the same run. {m['cpu']}, {m['cores']} cores, torch {m['torch']}, "
        f"{m['torch_threads']} threads, OpenCV {m['opencv']}; load average {m['load_average_1min']:.1f} at the start, "
        f"{m.get('load_average_1min_at_end', float('nan')):.1f} at the end."
    )
    return "\n".join(lines)


# --- peak memory ------------------------------------------------------------------------------

MEMORY_CASES = {
    "direct 3x3": ("3x3", "random", "direct", "valid"),
    "separable 31x31 gaussian": ("31x31", "gaussian", "separable", "valid"),
    "fft 31x31": ("31x31", "random", "fft", "valid"),
    "filter2d same 3x3": ("3x3", "random", "auto", "same"),
}


def memory_child(size: int, spec: str, kind: str, strategy: str, mode: str, device: str) -> None:
    """Run one corr2d on a size² image and print peak memory (bytes) as JSON."""
    dev = torch.device(device)
    X = torch.rand(size, size, device=dev)
    K = make_kernel(spec, kind, torch.Generator().manual_seed(0)).to(dev)
    if dev.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    base_rss = _rss_now()
    t0 = time.perf_counter()
    if mode == "same":
        Y = filter2d(X, K, mode="same", strategy=strategy)
    else:
        Y = corr2d(X, K, strategy=strategy)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    result = {
        "image_bytes": X.numel() * X.element_size(),
        "output_bytes": Y.numel() * Y.element_size(),
        "rss_before_bytes": base_rss,
        "peak_rss_bytes": peak_rss,
        "seconds": seconds,
    }
    if dev.type == "cuda":
        result["cuda_peak_bytes"] = torch.cuda.max_memory_allocated() - base + result["image_bytes"]
    print(json.dumps(result))


def _rss_now() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory(args) -> dict:
    """Peak memory of one corr2d per strategy, each in a fresh process."""
    rows = []
    for name, (spec, kind, strategy, mode) in MEMORY_CASES.items():
        cmd = [sys.executable, __file__, "--memory-child", str(args.memory), spec, kind, strategy, mode, args.device]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        img = r["image_bytes"]
        r["case"] = name
        # What corr2d added: peak minus the process before it (torch, the input image).
        r["extra_over_image"] = (r["peak_rss_bytes"] - r["rss_before_bytes"]) / img
        r["peak_over_image"] = r["peak_rss_bytes"] / img
        rows.append(r)
        console.print(
            f"{args.memory}² {name}: peak RSS {r['peak_rss_bytes'] / 2**30:.2f} GiB = "
            f"{r['peak_over_image']:.2f}x the image ({img / 2**30:.2f} GiB); corr2d added "
            f"{r['extra_over_image']:.2f}x; {r['seconds']:.1f} s"
            + (f"; CUDA peak {r['cuda_peak_bytes'] / img:.2f}x" if "cuda_peak_bytes" in r else "")
        )
    return {"machine": machine(torch.device(args.device)), "memory": rows}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--memory-child":
        size, spec, kind, strategy, mode, device = sys.argv[2:8]
        memory_child(int(size), spec, kind, strategy, mode, device)
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--sizes", type=lambda s: [int(v) for v in s.split(",")], help="e.g. 512,4096")
    p.add_argument("--kernels", type=lambda s: s.split(","), default=KERNELS, help="e.g. 3x3,31x31")
    p.add_argument("--kind", default="random", choices=["random", "gaussian", "box"], help="kernel values")
    p.add_argument("--repeats", type=int, default=7, help="timed calls per method (medians)")
    p.add_argument("--loop-max", type=int, default=512, help="largest size for the notebook loop (timed once)")
    p.add_argument("--strategies", action="store_true", help="also time every strategy forced")
    p.add_argument(
        "--max-taps",
        type=int,
        default=256,
        help="with --strategies, skip direct/separable forced beyond this many taps",
    )
    p.add_argument("--no-scipy", action="store_true", help="skip scipy.ndimage (slow on large kernels)")
    p.add_argument("--no-cv2", action="store_true", help="skip cv2.filter2D")
    p.add_argument("--inner", type=int, help="back-to-back calls per timed run (default: 1 on CPU, 10 on CUDA)")
    p.add_argument("--quick-slow", action="store_true", help="time scipy and F.conv2d once, like the loop")
    p.add_argument("--threads", type=int, help="torch and cv2 threads (default: all cores)")
    p.add_argument("--memory", type=int, metavar="SIZE", help="measure peak memory at SIZE² instead of timing")
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    p.add_argument("--render", type=Path, metavar="JSON", help="print a saved run as Markdown, and stop")
    args = p.parse_args()
    if args.render:
        print(markdown(json.loads(args.render.read_text())))
        return
    if args.inner is None:
        args.inner = 10 if args.device == "cuda" else 1
    if args.threads:
        torch.set_num_threads(args.threads)
        if cv2 is not None:
            cv2.setNumThreads(args.threads)
    report = memory(args) if args.memory else bench(args)
    if not args.memory:
        console.print(table(report))
        if args.markdown:
            print(markdown(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
        console.print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
