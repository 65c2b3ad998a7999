"""``convlearn learn``: recover the kernel behind input/target pairs, and report the fit."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import typer

from convlearn.cli.options import DEVICE, KERNEL_HELP, MAX_PIXELS
from convlearn.learn.config import CHANNELS, CHOICES, DTYPES, SOLVERS, solver_named

#: Runs of at most this many epochs print one line per epoch, as the notebook
#: does; longer ones show a progress bar with the live loss (on a terminal).
EPOCH_LINES_MAX = 100
# The choices, from the library's torch-free settings: --help shows them, and the shell completes them.
SolverName = Literal[SOLVERS]
Dtype = Literal[DTYPES]
LearnChannels = Literal[CHANNELS]
#: --solver's help: what each choice runs, from its record.
SOLVER_HELP = "; ".join(s.help for s in CHOICES) + "."


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
    iterative = solver_named(result.solver).iterative
    r = result.report
    r2 = "n/a (the target is constant)" if r.r2 is None else f"{r.r2:.6f}"
    if r.r2 is not None and iterative and f"{r.r2_best:.6f}" != f"{r.r2:.6f}":
        r2 += f" (the exact kernel: {r.r2_best:.6f})"
    lines = [] if result.support is None else [f"kernel size {result.support}"]
    lines.append(f"loss {r.loss:.6g}   RMS residual {r.rms:.4g}   R² {r2}")
    unit = "pixels" if result.channels == "luma" else "channel values"
    pixels = f"{r.pixels:,} {unit} from {r.pairs} pair{'s' if r.pairs != 1 else ''}"
    if r.excluded:
        plural = "s" if r.excluded != 1 else ""
        noun = "pixel" if result.channels == "luma" else "value"
        pixels += f"; {r.excluded:,} clipped target {noun}{plural} left out (--keep-saturated keeps them)"
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
    if result.channels == "luma":
        lines.append(_closest_line(result.closest))
    for fit in result.channel_fits or []:
        r2 = "n/a" if fit.get("r2") is None else f"{fit['r2']:.6f}"
        line = f"{fit['channel']}: R² {r2}   RMS residual {fit.get('rms', math.nan):.4g}"
        if "closest" in fit:
            line += f"   {_closest_line(fit['closest'])}"
        lines.append(line)
    return lines


def _closest_line(closest: dict | None) -> str:
    """``closest built-in: gaussian:5,1.1 (max |diff| 3.1e-04)``, or that none is close."""
    from convlearn.learn.closest import CLOSE

    if closest is None:
        return f"closest built-in: none within {CLOSE:.0%} of the kernel's largest weight"
    scaled = f"{closest['scale']:g} x " if "scale" in closest else ""
    return f"closest built-in: {scaled}{closest['spec']} (max |diff| {closest['max_abs_diff']:.2g})"


def _render(run, *, reference: str | None, json_: bool, quiet: bool, plot: Path | None, output: Path | None) -> None:
    """The kernel table, the report and the warnings, the plot, and what was written."""
    from rich.markup import escape

    from convlearn.cli.plot import plot_losses
    from convlearn.cli.render import kernel_tables, stderr, stdout

    result, talk = run.result, not quiet and not json_
    if json_:
        typer.echo(run.text.rstrip())
    if talk:
        for table in kernel_tables(result.weight, "learned kernel", result.bias):
            stdout.print(table)
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
    inputs: list[Path] = typer.Option(
        [], "--input", "-i", metavar="PATH", help="Input image; repeat for several pairs."
    ),
    targets: list[Path] = typer.Option(
        [], "--target", "-t", metavar="PATH", help="Target image, one per --input, same order."
    ),
    pairs_dir: Path | None = typer.Option(
        None,
        "--pairs",
        metavar="DIR",
        help="A directory with inputs/ and targets/, matched by file name without its suffix.",
    ),
    kernel_size: str | None = typer.Option(
        None,
        "--kernel-size",
        metavar="HxW|auto",
        help="HxW of the kernel to learn, height first as NumPy's shape (3x5: 3 rows, 5 columns; OpenCV's "
        "Size(5, 3) and ImageMagick's 5x3 put the width first), "
        "or auto: found from the data (up to 15x15), the default with pairs; "
        "without pairs, the notebook's 1x2.",
    ),
    solver: SolverName = typer.Option("sgd", "--solver", "-s", help=SOLVER_HELP),
    epochs: int | None = typer.Option(
        None,
        "--epochs",
        "-e",
        min=0,
        metavar="N",
        help="Epochs (iterations), exactly N for sgd. Default: sgd runs until converged (10 epochs, the notebook's, "
        "with no pair), adam 2000, lbfgs at most 100.",
    ),
    lr: float | None = typer.Option(
        None,
        "--lr",
        min=0.0,
        metavar="STEP",
        help="Step size. Default for sgd: 0.03 (the notebook's) on the built-in problem; on your pairs, "
        "Nesterov descent with a Jacobi preconditioner, its step and momentum from the data (given --lr: "
        "the notebook's plain steps). adam: 0.1; lbfgs: 1.",
    ),
    bias: bool = typer.Option(False, "--bias/--no-bias", help="Also learn an additive offset."),
    keep_saturated: bool = typer.Option(
        False,
        "--keep-saturated",
        help="Fit 8/16-bit target pixels at their type's minimum or maximum too (left out by default: clipped).",
    ),
    reference: str | None = typer.Option(
        None, "--reference", metavar="SPEC", help="Report the largest difference from this kernel. " + KERNEL_HELP
    ),
    seed: int = typer.Option(0, "--seed", metavar="N", help="Seed for the initial kernel, so runs repeat."),
    dtype: Dtype = typer.Option(
        "float32", "--dtype", help="float32 (the notebook's) or float64, for sgd, adam and lbfgs."
    ),
    channels: LearnChannels = typer.Option(
        "luma",
        "--channels",
        help="luma: one kernel on the pictures' luma; each: one per RGB channel, a (3, h, w) kernel; "
        "full: across channels as nn.Conv2d(3, 3), a (3, 3, h, w) kernel.",
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        metavar="PATH",
        help="Write the kernel and the fit report as JSON (readable by detect --kernel).",
    ),
    json_: bool = typer.Option(False, "--json", help="Print the kernel and the fit report as JSON on stdout."),
    plot: Path | None = typer.Option(
        None,
        "--plot",
        metavar="PATH",
        help="Draw the loss curve to this image (needs matplotlib: pip install 'convlearn\\[plot]').",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
    device: str = DEVICE,
    max_pixels: int = MAX_PIXELS,
) -> None:
    """Recover the kernel that turns each input into its target, and say how well it fits.

    With no pair given, it replays the notebook: SGD learns [[1, -1]] from the
    striped image and its edges.

    \b
    Examples:
      convlearn learn
      convlearn learn -i photo.png -t filtered.png --kernel-size 3x3 --solver lstsq -o k.json
      convlearn learn --pairs pairs/ --kernel-size 5x5 --solver lstsq --bias -o k.json
      convlearn export k.json --to opencv
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
            channels=channels,
            output=output,
            device=device,
            max_pixels=max_pixels,
            other_outputs=[plot] if plot is not None else [],
            on_epoch=display.epoch,
            on_step=display.start,
        )
    if run.main:  # under torchrun, rank 0 alone tells
        _render(run, reference=reference, json_=json_, quiet=quiet, plot=plot, output=output)
