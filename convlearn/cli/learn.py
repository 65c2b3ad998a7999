"""``convlearn learn``: recover the kernel behind input/target pairs, and report the fit."""

from __future__ import annotations

from pathlib import Path

import typer

from convlearn.cli.options import DEVICE, KERNEL_HELP, MAX_PIXELS

#: Runs of at most this many epochs print one line per epoch, as the notebook
#: does; longer ones show a progress bar with the live loss (on a terminal).
EPOCH_LINES_MAX = 100
#: The notebook's solver: with no pair given and this solver, learn replays the
#: notebook and prints just what it printed.
NOTEBOOK_SOLVER = "sgd"


def parse_size(text: str) -> tuple[int, int]:
    """``HxW`` -> (H, W), both >= 1."""
    from convlearn.errors import InputError

    parts = text.lower().split("x")
    try:
        h, w = (int(p) for p in parts)
    except ValueError:
        raise InputError(f"Invalid kernel size {text!r}. Expected HxW, for example 3x3") from None
    if h < 1 or w < 1:
        raise InputError(f"Invalid kernel size {text!r}; both sides must be at least 1")
    return h, w


def _report_lines(result, reference_name: str | None, reference_diff: float | None) -> list[str]:
    """The fit report under the kernel table, one fact per line."""
    r = result.report
    r2 = "n/a (the target is constant)" if r.r2 is None else f"{r.r2:.6f}"
    if r.r2 is not None and result.solver != "lstsq" and f"{r.r2_best:.6f}" != f"{r.r2:.6f}":
        r2 += f" (the exact kernel: {r.r2_best:.6f})"
    lines = [f"loss {r.loss:.6g}   RMS residual {r.rms:.4g}   R² {r2}"]
    pixels = f"{r.pixels:,} pixels from {r.pairs} pair{'s' if r.pairs != 1 else ''}"
    if r.excluded:
        pixels += f"; {r.excluded:,} clipped target pixels left out (--keep-saturated keeps them)"
    lines.append(pixels)
    if result.solver == "lstsq":
        lines.append("solver lstsq: the exact least-squares kernel (normal equations in float64)")
    else:
        status = {
            "converged": "converged",
            "stalled": "stopped: no further progress in its dtype",
            "epochs": "ran all epochs",
            "interrupted": "interrupted",
            "diverged": "diverged",
        }[result.stopped]
        lines.append(
            f"solver {result.solver}, step {result.lr:.4g}, {result.epochs_run} epochs, {status}; "
            f"relative gradient {r.relative_gradient:.2e}"
            + ("" if r.gap is None else f", {r.gap:.2e} from the exact kernel")
        )
    if reference_diff is not None:
        lines.append(f"max |kernel - {reference_name}| = {reference_diff:.3g}")
    return lines


def _plot(losses: list[float], path: Path, solver: str) -> bool:
    """Draw the loss curve with matplotlib; False (and a hint) where it is not installed."""
    import io

    from convlearn.cli.render import stderr
    from convlearn.images.files import write_bytes

    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError:
        stderr.print("--plot needs matplotlib: pip install 'convlearn[plot]'", markup=False)
        return False
    figure, axes = plt.subplots(figsize=(6, 4))
    positive = [v for v in losses if v > 0]
    axes.plot(range(len(losses)), losses)
    if positive and len(positive) == len(losses):
        axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss (summed squared error)")
    axes.set_title(f"convlearn learn --solver {solver}")
    axes.grid(True, alpha=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=path.suffix.lstrip(".").lower() or "png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    write_bytes(path, buffer.getvalue())
    return True


def learn(
    inputs: list[Path] = typer.Option([], "--input", "-i", help="Input image; repeat for several pairs."),
    targets: list[Path] = typer.Option([], "--target", "-t", help="Target image, one per --input, same order."),
    pairs_dir: Path | None = typer.Option(
        None,
        "--pairs",
        help="A directory with inputs/ and targets/, matched by file name without its suffix.",
    ),
    kernel_size: str = typer.Option("1x2", "--kernel-size", help="HxW of the kernel to learn (the notebook's 1x2)."),
    solver: str = typer.Option(
        "sgd",
        "--solver",
        "-s",
        help="sgd (the notebook's), lstsq (exact, one pass), adam or lbfgs.",
    ),
    epochs: int | None = typer.Option(
        None,
        "--epochs",
        "-e",
        min=0,
        help="Epochs (iterations). Default: 10 for sgd (the notebook's), 2000 for adam, at most 100 for lbfgs.",
    ),
    lr: float | None = typer.Option(
        None,
        "--lr",
        min=0.0,
        help="Step size. Default for sgd: 0.03 (the notebook's) on the built-in problem; on your pairs, "
        "the safe step 1/λmax of the loss's Hessian. adam: 0.1; lbfgs: 1.",
    ),
    bias: bool = typer.Option(False, "--bias/--no-bias", help="Also learn an additive offset."),
    keep_saturated: bool = typer.Option(
        False,
        "--keep-saturated",
        help="Fit 8/16-bit target pixels at their type's minimum or maximum too (left out by default: clipped).",
    ),
    reference: str | None = typer.Option(
        None, "--reference", help="Report the largest difference from this kernel. " + KERNEL_HELP
    ),
    seed: int = typer.Option(0, "--seed", help="Seed for the initial kernel, so runs repeat."),
    dtype: str = typer.Option(
        "float32", "--dtype", help="float32 (the notebook's) or float64, for sgd, adam and lbfgs."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the kernel and the fit report as JSON (readable by detect --kernel)."
    ),
    json_: bool = typer.Option(False, "--json", help="Print the kernel and the fit report as JSON on stdout."),
    plot: Path | None = typer.Option(
        None, "--plot", help="Draw the loss curve to this image (needs matplotlib: pip install 'convlearn\\[plot]')."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
    device: str = DEVICE,
    max_pixels: int = MAX_PIXELS,
) -> None:
    """Recover the kernel that turns each input into its target, and say how well it fits.

    With no pair given, it replays the notebook: SGD learns [[1, -1]] from the
    striped image and its edges.
    """
    from rich.markup import escape

    from convlearn.cli.render import kernel_table, stderr, stdout
    from convlearn.errors import InputError, Interrupted, TrainingError, invalid_choice
    from convlearn.images.files import check_not_input, write_text
    from convlearn.kernels import kernel_to_json, parse_kernel
    from convlearn.learn import (
        DTYPES,
        SOLVERS,
        LearnConfig,
        TrainingDiverged,
        TrainingInterrupted,
        fit_notes,
        learn_kernel,
        max_abs_difference,
    )
    from convlearn.learn.pairs import PairFiles, find_pairs

    if solver not in SOLVERS:
        raise invalid_choice("solver", solver, SOLVERS)
    if dtype not in DTYPES:
        raise invalid_choice("dtype", dtype, DTYPES)
    if len(inputs) != len(targets):
        raise InputError(f"Got {len(inputs)} --input and {len(targets)} --target; give one target per input")
    size = parse_size(kernel_size)
    ref = parse_kernel(reference) if reference is not None else None
    if ref is not None and ref.shape != size:
        raise InputError(
            f"--reference {reference!r} is {ref.shape[0]}x{ref.shape[1]}, but --kernel-size is {size[0]}x{size[1]}; "
            "give a reference of the size being learned"
        )
    paths = list(zip(inputs, targets, strict=True)) + (find_pairs(pairs_dir) if pairs_dir is not None else [])
    for path in (output, plot):
        if path is not None:
            check_not_input(path, [p for pair in paths for p in pair])
    pairs = PairFiles(paths, keep_saturated=keep_saturated, max_pixels=max_pixels) if paths else None
    # Under torchrun (after every check above, made alike on every rank): each
    # rank reads its share of the pairs; rank 0 alone prints and writes.
    from convlearn.runtime import distributed
    from convlearn.runtime.device import resolve_device

    if not distributed.setup(resolve_device(device)).is_main:
        quiet, json_, output, plot = True, False, None, None
    config = LearnConfig(size, epochs, lr, bias, seed, device, solver, dtype)
    replay = pairs is None and solver == NOTEBOOK_SOLVER
    talk = not quiet and not json_
    planned = config.epochs_for_solver()

    def save(result) -> dict:
        record = result.record()
        if ref is not None:
            record["reference"] = {"spec": reference, "max_abs_diff": max_abs_difference(result, ref)}
        if output is not None:
            write_text(output, kernel_to_json(result.kernel(), **record))
        return record

    def announce(step: float) -> None:
        if talk and not replay:
            how = (
                "given by --lr"
                if lr is not None
                else {
                    "sgd": "the safe step 1/λmax of the loss's Hessian, from the data",
                    "adam": "Adam's step, the same throughout",
                    "lbfgs": "L-BFGS's first trial step, then a strong-Wolfe line search",
                }[solver]
            )
            stdout.print(f"{solver}: step {step:.4g} ({how})", markup=False)

    on_epoch = None
    progress = None
    if solver != "lstsq" and not quiet:
        if talk and planned <= EPOCH_LINES_MAX:

            def on_epoch(i: int, loss: float) -> None:
                stdout.print(f"epoch {i}, loss {loss}")

        elif stderr.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            progress = Progress(
                TextColumn(f"{solver}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}"),
                TimeRemainingColumn(),
                console=stderr,
                transient=True,
            )
            task = progress.add_task(solver, total=planned, loss="...")

            def on_epoch(i: int, loss: float) -> None:
                progress.update(task, completed=i + 1, loss=f"{loss:.6g}")

    try:
        if progress is not None:
            with progress:
                result = learn_kernel(pairs, config, on_epoch, announce)
        else:
            result = learn_kernel(pairs, config, on_epoch, announce)
    except TrainingDiverged as e:
        save(e.result)
        distributed.barrier()  # every rank diverges together; none exits before rank 0 has saved
        where = f"; it was written to {output}" if output is not None else ""
        raise TrainingError(f"{e}{where}") from None
    except TrainingInterrupted as e:
        save(e.result)
        where = f" and written to {output}" if output is not None else " (give --output to keep it)"
        raise Interrupted(f"{e}{where}") from None

    record = save(result)
    if json_:
        typer.echo(kernel_to_json(result.kernel(), **record).rstrip())
    if talk:
        stdout.print(kernel_table(result.weight, "learned kernel", result.bias))
        if not replay:
            diff = record.get("reference", {}).get("max_abs_diff")
            for line in _report_lines(result, reference, diff):
                stdout.print(line, markup=False)
    if not quiet and not replay:
        for note in fit_notes(result):
            stderr.print(f"[yellow]Warning:[/] {escape(note)}", markup=True, highlight=False)
    if plot is not None:
        if not result.losses:
            if not quiet:
                stderr.print("--plot: lstsq solves in one pass, so there is no loss curve to draw", markup=False)
        elif _plot(result.losses, plot, solver) and talk:
            stdout.print(f"[dim]wrote {plot}[/]")
    if talk and output is not None:
        stdout.print(f"[dim]wrote {output}[/]")
