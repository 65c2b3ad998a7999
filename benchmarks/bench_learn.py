"""Time the kernel-recovery solvers of ``convlearn learn`` and print medians.

Two tables:

1. **lstsq**, the exact solver, on float pairs of growing size (3x3 kernel by
   default): ours (the normal equations in float64 tiles, one BLAS ``C C^T`` per
   tile) against the direct way the core issue measured (stack the h*w shifted
   columns of the whole image in float64, then ``A^T A``), and against the same
   tiles multiplied in float32 and accumulated in float64 (faster, but is it
   accurate?). Each row gives the median time, its ratio to ours, and the
   largest error of the recovered kernel against the true one.
2. **Every solver** at its defaults, on a smooth-noise pair whose 3x3 Gram
   matrix is about as ill-conditioned as a photograph's (condition ~5,300;
   the core issue's photo: 6,289), and the time of one epoch of each iterative
   solver at every size.

The methods take turns, ``--repeats`` times, after one warm-up run each, so that
load from other processes falls on all of them alike.

Examples::

    python benchmarks/bench_learn.py                       # 512 .. 4096, 3x3; writes bench_learn.json
    python benchmarks/bench_learn.py --sizes 4096 --repeats 9 --json learn.json --threads 1
    python benchmarks/bench_learn.py --kernel 5x5 --skip-solvers
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from convlearn.corr import corr2d
from convlearn.learn import SOLVERS, LearnConfig, LearnHooks, Pair, learn_kernel, normal_equations
from convlearn.synth import make_image

console = Console(highlight=False)


def machine() -> dict:
    """Where the figures come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def make_pair(size: int, kernel: torch.Tensor, smooth: float = 0.5, seed: int = 1) -> Pair:
    """Smooth noise and its exact float target (computed in float64, stored as float32)."""
    X = make_image(pattern="noise", height=size, width=size, seed=seed, smooth=smooth)  # (size, size)
    return Pair(X, corr2d(X.double(), kernel).float())


def stacked_float64(pair: Pair, kernel_size: tuple[int, int]) -> torch.Tensor:
    """The direct way: all h*w shifted columns of the image in float64, then A^T A and A^T y."""
    h, w = kernel_size
    Ho, Wo = pair.target.shape
    X = pair.input.double()
    A = torch.stack([X[a : a + Ho, c : c + Wo].reshape(-1) for a in range(h) for c in range(w)], 1)  # (n, p)
    y = pair.target.double().reshape(-1)
    return torch.linalg.solve(A.T @ A, A.T @ y).reshape(h, w)


def tiled_float32(pair: Pair, kernel_size: tuple[int, int], tile: int = 32_768) -> torch.Tensor:
    """Our tiles, but multiplied in float32 (each tile's C C^T), accumulated in float64."""
    h, w = kernel_size
    p = h * w
    Ho, Wo = pair.target.shape
    G = torch.zeros(p, p, dtype=torch.float64)
    b = torch.zeros(p, dtype=torch.float64)
    rows = max(1, tile // Wo)
    C = torch.empty(p, rows * Wo)
    for r0 in range(0, Ho, rows):
        R = min(rows, Ho - r0)
        Cv = C[:, : R * Wo].view(p, R, Wo)
        for a in range(h):
            for c in range(w):
                Cv[a * w + c].copy_(pair.input[r0 + a : r0 + a + R, c : c + Wo])
        Ct = C[:, : R * Wo]
        G += (Ct @ Ct.T).double()
        b += (Ct @ pair.target[r0 : r0 + R].reshape(-1)).double()
    return torch.linalg.solve(G, b).reshape(h, w)


def ours(pair: Pair, kernel_size: tuple[int, int]) -> torch.Tensor:
    return learn_kernel([pair], LearnConfig(kernel_size=kernel_size, solver="lstsq")).weight


LSTSQ_METHODS: dict[str, Callable[[Pair, tuple[int, int]], torch.Tensor]] = {
    "lstsq (ours: float64 tiles)": ours,
    "stacked float64 columns": stacked_float64,
    "float32 tiles, float64 sums": tiled_float32,
}


def time_lstsq(sizes: list[int], kernel_size: tuple[int, int], repeats: int, skip_stacked_above: int) -> list[dict]:
    g = torch.Generator().manual_seed(0)
    K = torch.randn(*kernel_size, generator=g, dtype=torch.float64)
    rows = []
    for size in sizes:
        pair = make_pair(size, K)
        methods = {
            k: f for k, f in LSTSQ_METHODS.items() if not (k.startswith("stacked") and size > skip_stacked_above)
        }
        errors = {name: float((f(pair, kernel_size).double() - K).abs().max()) for name, f in methods.items()}
        times: dict[str, list[float]] = {name: [] for name in methods}
        for _ in range(repeats):
            for name, f in methods.items():
                start = time.perf_counter()
                f(pair, kernel_size)
                times[name].append(time.perf_counter() - start)
        base = statistics.median(times[next(iter(methods))])
        for name in methods:
            median = statistics.median(times[name])
            rows.append(
                {
                    "size": size,
                    "method": name,
                    "median_s": median,
                    "ratio_to_ours": median / base,
                    "max_kernel_error": errors[name],
                    "times_s": times[name],
                }
            )
            console.print(f"[dim]{size}² {name}: {median:.3f} s, error {errors[name]:.1e}[/]")
    return rows


def time_solvers(size: int, kernel_size: tuple[int, int], smooth: float) -> list[dict]:
    """Every solver at its defaults on an ill-conditioned pair: time, epochs, error."""
    g = torch.Generator().manual_seed(1)
    K = torch.randn(*kernel_size, generator=g, dtype=torch.float64)
    pair = make_pair(size, K, smooth=smooth, seed=2)
    condition = normal_equations([pair], kernel_size).condition()
    # Warm up: the first torch.optim optimizer imports torch._dynamo (seconds), once per process.
    warm = make_pair(16, K)
    for solver in SOLVERS:
        learn_kernel([warm], LearnConfig(kernel_size=kernel_size, solver=solver, epochs=2))
    rows = []
    for solver in SOLVERS:
        start = time.perf_counter()
        result = learn_kernel([pair], LearnConfig(kernel_size=kernel_size, solver=solver))
        elapsed = time.perf_counter() - start
        rows.append(
            {
                "size": size,
                "solver": solver,
                "condition": condition,
                "seconds": elapsed,
                "epochs": result.epochs_run,
                "stopped": result.stopped,
                "max_kernel_error": float((result.weight.double() - K).abs().max()),
                "relative_gradient": result.report.relative_gradient,
            }
        )
        console.print(f"[dim]{solver}: {elapsed:.2f} s, {result.epochs_run} epochs, {result.stopped}[/]")
    return rows


def time_epochs(sizes: list[int], kernel_size: tuple[int, int], epochs: int) -> list[dict]:
    """Median seconds per epoch of each iterative solver (between on_epoch calls)."""
    g = torch.Generator().manual_seed(2)
    K = torch.randn(*kernel_size, generator=g, dtype=torch.float64)
    rows = []
    for size in sizes:
        pair = make_pair(size, K)
        for solver in ("sgd", "adam", "lbfgs"):
            stamps: list[float] = []
            config = LearnConfig(kernel_size=kernel_size, solver=solver, epochs=epochs + 1)
            hooks = LearnHooks(on_epoch=lambda i, loss, stamps=stamps: stamps.append(time.perf_counter()))
            learn_kernel([pair], config, hooks)
            gaps = [b - a for a, b in itertools.pairwise(stamps)]
            rows.append({"size": size, "solver": solver, "seconds_per_epoch": statistics.median(gaps)})
            console.print(f"[dim]{size}² {solver}: {statistics.median(gaps):.3f} s per epoch[/]")
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=lambda s: [int(v) for v in s.split(",")], default=[512, 1024, 2048, 4096])
    p.add_argument("--kernel", default="3x3", help="HxW of the kernel")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per lstsq method (medians)")
    p.add_argument("--stacked-max", type=int, default=4096, help="largest size for the stacked float64 method")
    p.add_argument("--solvers-size", type=int, default=512, help="size of the ill-conditioned pair for all solvers")
    p.add_argument("--smooth", type=float, default=0.8, help="noise smoothing for that pair (0.8: condition ~5,300)")
    p.add_argument("--epochs", type=int, default=4, help="timed epochs per iterative solver and size")
    p.add_argument("--skip-solvers", action="store_true", help="only time lstsq")
    p.add_argument("--threads", type=int, help="torch threads (default: torch's, one per core)")
    p.add_argument("--json", type=Path, default=Path("bench_learn.json"), help="write the results here")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    kernel_size = tuple(int(v) for v in args.kernel.lower().split("x"))
    info = machine()
    console.print(
        f"[bold]{info['cpu']}[/], {info['cores']} cores, {info['torch_threads']} torch threads, "
        f"torch {info['torch']}, load average {info['load_average']}"
    )

    lstsq_rows = time_lstsq(args.sizes, kernel_size, args.repeats, args.stacked_max)
    table = Table(title=f"lstsq: a {args.kernel} kernel from a float pair (median of {args.repeats})")
    for column in ("size", "method", "median s", "x ours", "max |k - K|"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for r in lstsq_rows:
        table.add_row(
            f"{r['size']}²",
            r["method"],
            f"{r['median_s']:.3f}",
            f"{r['ratio_to_ours']:.2f}",
            f"{r['max_kernel_error']:.1e}",
        )
    console.print(table)

    solver_rows, epoch_rows = [], []
    if not args.skip_solvers:
        solver_rows = time_solvers(args.solvers_size, kernel_size, args.smooth)
        table = Table(
            title=f"every solver at its defaults, {args.solvers_size}² smooth noise, "
            f"condition {solver_rows[0]['condition']:,.0f}"
        )
        for column in ("solver", "seconds", "epochs", "stopped", "max |k - K|", "rel. gradient"):
            table.add_column(column, justify="left" if column in ("solver", "stopped") else "right")
        for r in solver_rows:
            table.add_row(
                r["solver"],
                f"{r['seconds']:.2f}",
                str(r["epochs"]),
                r["stopped"],
                f"{r['max_kernel_error']:.1e}",
                f"{r['relative_gradient']:.1e}",
            )
        console.print(table)
        epoch_rows = time_epochs(args.sizes, kernel_size, args.epochs)
        table = Table(title=f"seconds per epoch (median of {args.epochs})")
        table.add_column("size", justify="right")
        for solver in ("sgd", "adam", "lbfgs"):
            table.add_column(solver, justify="right")
        for size in args.sizes:
            cells = [f"{r['seconds_per_epoch']:.3f}" for r in epoch_rows if r["size"] == size]
            table.add_row(f"{size}²", *cells)
        console.print(table)

    if args.json:
        report = {"machine": info, "kernel": args.kernel, "lstsq": lstsq_rows, "solvers": solver_rows}
        report["epochs"] = epoch_rows
        args.json.write_text(json.dumps(report, indent=1) + "\n")
        console.print(f"[dim]wrote {args.json}[/]")


if __name__ == "__main__":
    main()
