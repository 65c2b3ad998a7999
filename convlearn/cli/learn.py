"""``convlearn learn``: recover the kernel behind input/target pairs, and report the fit."""

from __future__ import annotations

from pathlib import Path

import typer

from convlearn.cli.options import DEVICE, KERNEL_HELP, MAX_PIXELS

#: Runs of at most this many epochs print one line per epoch, as the notebook
#: does; longer ones show a progress bar with the live loss (on a terminal).
EPOCH_LINES_MAX = 100


class EpochDisplay:
    """The epochs as they run: a line each for short runs (as the notebook prints them), else a progress bar.

    The bar shows on a terminal only, on stderr, and goes when the run ends.
    """

    def __init__(self, *, quiet: bool, talk: bool) -> None:
        self.quiet, self.talk = quiet, talk
        self.lines = False
        self.progress = None
        self.task = None

    def start(self, start) -> None:
        """Announce the step (except on the notebook's own run) and pick lines or a bar for the epochs."""
        from convlearn.cli.render import stderr, stdout

        if self.talk and not start.notebook:
            stdout.print(f"{start.solver}: step {start.step:.4g} ({start.how})", markup=False)
        if self.quiet:
            return
        if self.talk and start.epochs <= EPOCH_LINES_MAX:
            self.lines = True
        elif stderr.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.progress = Progress(
                TextColumn(f"{start.solver}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}"),
                TimeRemainingColumn(),
                console=stderr,
                transient=True,
            )
            self.task = self.progress.add_task(start.solver, total=start.epochs, loss="...")
            self.progress.start()

    def epoch(self, i: int, loss: float) -> None:
        """One epoch done, with the loss computed before its step."""
        from convlearn.cli.render import stdout

        if self.lines:
            stdout.print(f"epoch {i}, loss {loss}")
        elif self.progress is not None:
            self.progress.update(self.task, completed=i + 1, loss=f"{loss:.6g}")

    def __enter__(self) -> EpochDisplay:
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()


def _report_lines(result, reference_name: str | None, reference_diff: float | None) -> list[str]:
    """The fit report under the kernel table, one fact per line."""
    from convlearn.learn import solver_named

    iterative = solver_named(result.solver).iterative
    r = result.report
    r2 = "n/a (the target is constant)" if r.r2 is None else f"{r.r2:.6f}"
    if r.r2 is not None and iterative and f"{r.r2_best:.6f}" != f"{r.r2:.6f}":
        r2 += f" (the exact kernel: {r.r2_best:.6f})"
    lines = [f"loss {r.loss:.6g}   RMS residual {r.rms:.4g}   R² {r2}"]
    pixels = f"{r.pixels:,} pixels from {r.pairs} pair{'s' if r.pairs != 1 else ''}"
    if r.excluded:
        pixels += f"; {r.excluded:,} clipped target pixels left out (--keep-saturated keeps them)"
    lines.append(pixels)
    if not iterative:
        lines.append(f"solver {result.solver}: the exact least-squares kernel (normal equations in float64)")
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


def _render(run, *, reference: str | None, json_: bool, quiet: bool, plot: Path | None, output: Path | None) -> None:
    """The kernel table, the report and the warnings, the plot, and what was written."""
    from rich.markup import escape

    from convlearn.cli.plot import plot_losses
    from convlearn.cli.render import kernel_table, stderr, stdout

    result, talk = run.result, not quiet and not json_
    if json_:
        typer.echo(run.text.rstrip())
    if talk:
        stdout.print(kernel_table(result.weight, "learned kernel", result.bias))
        if not run.notebook:
            for line in _report_lines(result, reference, run.reference_diff):
                stdout.print(line, markup=False)
    if not quiet and not run.notebook:
        for note in run.notes:
            stderr.print(f"[yellow]Warning:[/] {escape(note)}", markup=True, highlight=False)
    if plot is not None:
        if not result.losses:
            if not quiet:
                stderr.print("--plot: lstsq solves in one pass, so there is no loss curve to draw", markup=False)
        elif plot_losses(result.losses, plot, result.solver) and talk:
            stdout.print(f"[dim]wrote {escape(str(plot))}[/]")
    if talk and output is not None:
        stdout.print(f"[dim]wrote {escape(str(output))}[/]")


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
    from convlearn.learn import run_learn

    with EpochDisplay(quiet=quiet, talk=not quiet and not json_) as display:
        run = run_learn(
            inputs=inputs,
            targets=targets,
            pairs_dir=pairs_dir,
            kernel_size=kernel_size,
            solver=solver,
            epochs=epochs,
            lr=lr,
            bias=bias,
            keep_saturated=keep_saturated,
            reference=reference,
            seed=seed,
            dtype=dtype,
            output=output,
            device=device,
            max_pixels=max_pixels,
            other_outputs=[plot] if plot is not None else [],
            on_epoch=display.epoch,
            on_step=display.start,
        )
    if run.main:  # under torchrun, rank 0 alone tells
        _render(run, reference=reference, json_=json_, quiet=quiet, plot=plot, output=output)
