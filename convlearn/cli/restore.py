"""``convlearn restore``: undo a known blur, with the kernel ``learn`` found or a built-in one."""

from __future__ import annotations

from typing import Literal

import typer

from convlearn.cli.options import DEVICE, KERNEL_HELP, MAX_PIXELS, Channels, Format, Scale
from convlearn.restore.config import BORDERS, METHODS, MODES

Method = Literal[METHODS]
RestoreMode = Literal[MODES]
RestoreBorder = Literal[BORDERS]


class _Screen:
    """What ``restore`` shows: a transient bar (files, or one file's solve), each file's line, the summary."""

    def __init__(self, quiet: bool):
        self.quiet, self.progress, self.console = quiet, None, None

    def hooks(self) -> dict:
        return {"on_start": self.start, "on_result": self.show, "on_summary": self.summary}

    def start(self, job) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from convlearn.cli.render import stderr, stdout

        self.job, self.console = job, stderr if job.to_stdout else stdout
        show = not self.quiet and job.is_main and stderr.is_terminal
        columns = [SpinnerColumn(), TextColumn("[bold]restore")]
        columns += [BarColumn(), MofNCompleteColumn()] if job.several else []
        columns += [TimeElapsedColumn()]
        self.progress = Progress(*columns, console=stderr, transient=True, disable=not show)
        self.task = self.progress.add_task("", total=job.share)
        self.progress.start()

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def show(self, done) -> None:
        """One file done: its output and the strength chosen, and why."""
        from rich.markup import escape

        from convlearn.cli.render import stderr

        self.progress.update(self.task, advance=1)
        if done.error is not None:
            stderr.print(f"[red]failed:[/] {escape(done.error)}")
        elif not self.quiet:
            source = "stdin" if done.source == "-" else done.source
            where = "stdout" if done.output == "-" else done.output or "(not written)"
            size = "x".join(str(n) for n in done.shape[:2])
            text = f"{source} -> {where}  ({size}, {done.seconds:.2f} s)\n  {done.summary}"
            self.console.print(escape(text), highlight=False)

    def summary(self, outcome) -> None:
        self.stop()
        if outcome.job.several and not self.quiet:
            self.console.print(
                f"[dim]restored {len(outcome.written)} of {outcome.job.total} files in {outcome.seconds:.1f} s[/]"
            )


def _exit_on_failures(outcome) -> None:
    from convlearn.errors import ConvlearnError

    if outcome.failed and outcome.job.is_main:
        raise ConvlearnError(f"{len(outcome.failed)} of {outcome.job.total} files failed (listed above)")
    if outcome.failed:
        raise typer.Exit(1)


def restore(
    images: list[str] = typer.Argument(
        ...,
        help="Blurred images (PNG, JPEG, TIFF, .npy), directories, quoted globs, or - for stdin.",
        show_default=False,
        metavar="IMAGE",
    ),
    kernel: str = typer.Option(
        ...,
        "--kernel",
        "-k",
        metavar="SPEC|FILE",
        help="The blur. A learn kernel file's anchor and bias are used. " + KERNEL_HELP,
    ),
    output: str | None = typer.Option(
        None,
        "--output",
        "-o",
        metavar="PATH",
        help="Output file (.png, .tif, .npy), a directory, or - for stdout. Default: IMAGE-STEM_restored.png; "
        "stdout for stdin.",
    ),
    method: Method = typer.Option("wiener", "--method", help="wiener (regularised least squares) or rl."),
    strength: float | None = typer.Option(
        None, "--strength", metavar="S", help="The Wiener regularisation. Default: chosen from the image's noise."
    ),
    mode: RestoreMode = typer.Option("same", "--mode", help="How the blur was made: same (same size) or valid."),
    border: RestoreBorder = typer.Option(
        "unknown", "--border", help="unknown (the scene goes on: a camera) or the filter's border rule."
    ),
    channels: Channels = typer.Option("luma", "--channels", help="luma (one grey plane) or each (R, G, B apart)."),
    recursive: bool = typer.Option(False, "--recursive", "-r", help="Also read subdirectories."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Let default output names replace existing files."),
    bit_depth: int | None = typer.Option(
        None, "--bit-depth", metavar="8|16", help="PNG depth. Default: 16 for a 16-bit grey input, else 8."
    ),
    scale: Scale = typer.Option("clip", "--scale", help="PNG mapping (clip: values in 0..1)."),
    fmt: Format = typer.Option("png", "--format", "-f", help="Output type for stdout and directories."),
    raw_orientation: bool = typer.Option(False, "--raw-orientation", help="Ignore a JPEG's EXIF orientation."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress or report lines."),
    device: str = DEVICE,
    max_pixels: int = MAX_PIXELS,
) -> None:
    """Undo a known blur: find the sharp image whose blur by KERNEL is IMAGE.

    The pixels beyond the frame are unknowns too, so the borders do not ring.
    Each file's line says which strength was chosen and why.

    \b
    Examples:
      convlearn restore blurred.png -k gaussian:9,2 -o sharp.png
      convlearn restore shots/ -k kernel.json -o sharp/ --channels each
      cat blurred.jpg | convlearn restore - -k box:5 > sharp.png
    """
    from convlearn.restore.files import run_restore

    screen = _Screen(quiet)
    try:
        outcome = run_restore(
            inputs=images,
            kernel=kernel,
            output=output,
            recursive=recursive,
            overwrite=overwrite,
            method=method,
            strength=strength,
            mode=mode,
            border=border,
            channels=channels,
            device=device,
            bit_depth=bit_depth,
            scale=scale,
            fmt=fmt,
            max_pixels=max_pixels,
            raw_orientation=raw_orientation,
            **screen.hooks(),
        )
    finally:
        screen.stop()
    _exit_on_failures(outcome)
