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

    def __init__(self, *, quiet: bool, talk: bool, internals: bool = True) -> None:
        self.quiet, self.talk, self.internals = quiet, talk, internals
        self.lines = False
        self.progress = None
        self.task = None

    def start(self, start) -> None:
        """Announce the step (except on the notebook's own run) and pick lines or a bar for the epochs."""
        from convlearn.cli.render import stderr, stdout

        if self.talk and self.internals and not start.notebook:
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


def _verdict_lines(result, record: dict) -> list[str]:
    """The fit against the target's noise floor, and whether the filter is linear."""
    r = result.report
    r2 = "" if r.r2 is None else f"   R² {r.r2:.6f}"
    lines = [f"RMS residual {record['rms_levels']:.3g} levels; {record['noise']}{r2}"]
    if record["linear"]:
        lines.append("linear: the residual is what the target's rounding or compression leaves")
    else:
        lines.append("not linear: no kernel explains the pair within its noise (see the warning)")
    return lines


def _solver_line(result) -> str:
    """How the solver ran: exact, or its step, epochs and how it stopped."""
    r = result.report
    if not solver_named(result.solver).iterative:
        return f"solver {result.solver}: the exact least-squares kernel (normal equations in float64)"
    status = {
        "converged": "converged",
        "stalled": "stopped: no further progress in its dtype",
        "epochs": "ran all epochs",
        "interrupted": "interrupted",
        "diverged": "diverged",
    }[result.stopped]
    return (
        f"solver {result.solver}, step {result.lr:.4g}, {result.epochs_run} epochs, {status}; "
        f"relative gradient {r.relative_gradient:.2e}"
        + ("" if r.gap is None else f", {r.gap:.2e} from the exact kernel")
    )


def _report_lines(
    result, reference_name: str | None, reference_diff: float | None, record: dict | None = None, verbose: bool = True
) -> list[str]:
    """The fit report under the kernel table, one fact per line; the solver's own only when ``verbose``."""
    iterative = solver_named(result.solver).iterative
    r = result.report
    r2 = "n/a (the target is constant)" if r.r2 is None else f"{r.r2:.6f}"
    if r.r2 is not None and iterative and f"{r.r2_best:.6f}" != f"{r.r2:.6f}":
        r2 += f" (the exact kernel: {r.r2_best:.6f})"
    lines = [] if result.support is None else [f"kernel size {result.support}"]
    verdict = record is not None and "linear" in record
    if verdict:
        lines += _verdict_lines(result, record)
    if verbose or not verdict:
        lines.append(f"loss {r.loss:.6g}   RMS residual {r.rms:.4g}   R² {r2}")
    unit = "pixels" if result.channels == "luma" else "channel values"
    pixels = f"{r.pixels:,} {unit} from {r.pairs} pair{'s' if r.pairs != 1 else ''}"
    if r.excluded:
        plural = "s" if r.excluded != 1 else ""
        noun = "pixel" if result.channels == "luma" else "value"
        pixels += f"; {r.excluded:,} clipped target {noun}{plural} left out (--keep-saturated keeps them)"
    if verbose or not verdict or r.excluded:
        lines.append(pixels)
    if verbose or not verdict:
        lines.append(_solver_line(result))
    if reference_diff is not None:
        lines.append(f"max |kernel - {reference_name}| = {reference_diff:.3g}")
    if result.channels == "luma":
        lines.append(_closest_line(result.closest, by_data=verdict))
    for fit in result.channel_fits or []:
        r2 = "n/a" if fit.get("r2") is None else f"{fit['r2']:.6f}"
        line = f"{fit['channel']}: R² {r2}   RMS residual {fit.get('rms', math.nan):.4g}"
        if "closest" in fit:
            line += f"   {_closest_line(fit['closest'])}"
        lines.append(line)
    return lines


def _closest_line(closest: dict | None, by_data: bool = False) -> str:
    """``closest built-in: gaussian:5,1.1 (max |diff| 3.1e-04)``, or that none is close."""
    from convlearn.learn.closest import CLOSE

    if closest is None and by_data:
        return "closest built-in: none explains the pair as well (with the same sum of weights)"
    if closest is None:
        return f"closest built-in: none within {CLOSE:.0%} of the kernel's largest weight"
    scaled = f"{closest['scale']:g} x " if "scale" in closest else ""
    return f"closest built-in: {scaled}{closest['spec']} (max |diff| {closest['max_abs_diff']:.2g})"


def _render(
    run,
    *,
    reference: str | None,
    json_: bool,
    quiet: bool,
    plot: Path | None,
    output: Path | None,
    verbose: bool = True,
) -> None:
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
            for line in _report_lines(result, reference, run.reference_diff, run.record, verbose):
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
    solver: SolverName | None = typer.Option(
        None, "--solver", "-s", help=SOLVER_HELP + " Default: lstsq when the size is automatic, else sgd."
    ),
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
    bias: bool | None = typer.Option(
        None,
        "--bias/--no-bias",
        help="Learn an additive offset, or not. Default: auto, fitted when held-out pixels say the data needs it "
        "(with the automatic size; none with a given --kernel-size).",
        show_default=False,
    ),
    clip_margin: float | None = typer.Option(
        None,
        "--clip-margin",
        min=0.0,
        metavar="LEVELS",
        help="Leave out target pixels within LEVELS of a clipped end (0 or the top level). Default: from the "
        "target's noise model, 0 for PNG, about 6 noise floors for JPEG, whose ringing lifts clipped pixels.",
    ),
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
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Also print the solver's own figures (step, loss, epochs, gradient)."
    ),
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

    internals = verbose or kernel_size not in (None, "auto")
    with EpochDisplay(quiet=quiet, talk=not quiet and not json_, internals=internals) as display:
        run = run_learn(
            inputs=inputs,
            targets=targets,
            pairs_dir=pairs_dir,
            kernel_size=kernel_size,
            solver=solver,
            epochs=epochs,
            lr=lr,
            bias=bias,
            clip_margin=clip_margin,
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
        _render(run, reference=reference, json_=json_, quiet=quiet, plot=plot, output=output, verbose=internals)
