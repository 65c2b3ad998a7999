"""``convlearn detect``: filter images by correlation, gradient magnitude, thresholds or Canny."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from convlearn.cli.options import DEVICE, KERNEL_HELP, MAX_PIXELS, Border, Channels, Format, Mode, Scale
from convlearn.images.config import PNG_COMPRESSION

#: --table shows at most this many rows and columns (the top-left corner of a larger result).
TABLE_SIDE = 16
#: A batch's summary names at most this many of the files it wrote.
LISTED = 3


def _table(values, title: str):
    """Rich tables of a result: one per channel, the top-left corner of a large one."""
    from convlearn.cli.render import kernel_table

    planes = [values] if values.ndim == 2 else [values[..., c] for c in range(values.shape[-1])]
    names = [""] if values.ndim == 2 else [" R", " G", " B"]
    h, w = values.shape[:2]
    cut = f" (top-left {min(h, TABLE_SIDE)}x{min(w, TABLE_SIDE)} of {h}x{w})" if max(h, w) > TABLE_SIDE else ""
    # + 0.0 turns -0.0 (e.g. 0 * -1 in a correlation) into 0, which the table would print as "-0".
    corners = [p[:TABLE_SIDE, :TABLE_SIDE] + 0.0 for p in planes]
    return [kernel_table(c, f"{title}{n}{cut}") for c, n in zip(corners, names, strict=True)]


class _Screen:
    """What ``detect`` shows as it runs: the progress bar, each file's lines, the summary."""

    def __init__(self, *, print_: bool, table: bool, json_: bool, quiet: bool, canny: str | None = None):
        self.print_, self.table, self.json_, self.quiet = print_, table, json_, quiet
        self.canny = canny  # --canny as given: its thresholds are told, and an empty edge map is warned of
        self.progress = None

    def hooks(self) -> dict:
        """run_detect's arguments for what is shown: values to print, text on stdout, the callbacks."""
        return {
            "keep_values": self.print_ or self.table,
            "text_on_stdout": self.print_ or self.table or self.json_,
            "on_start": self.start,
            "on_result": self.show,
            "on_summary": self.summary,
        }

    def __enter__(self) -> _Screen:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        """Take the bar away (once: a stopped bar off a terminal would print another blank line)."""
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def start(self, job) -> None:
        """Choose where the status lines go and start the bar (several files, on a terminal, rank 0)."""
        from convlearn.cli.render import stderr, stdout

        self.job = job
        self.status = stderr if job.to_stdout or self.json_ else stdout  # keep stdout clean when it carries data
        texts = self.print_ or self.table or self.json_
        show = (
            job.several
            and not self.quiet
            and job.is_main
            and stderr.is_terminal  # off a terminal Rich draws nothing, but stopping the bar prints a blank line
            and not (texts and sys.stdout.isatty())
        )
        self.progress = _progress_bar(show)
        self.task = self.progress.add_task("", total=job.share)  # this rank's share
        self.progress.start()

    def show(self, result, values) -> None:
        """One file done: advance the bar, print what was asked for, tell where it went."""
        import json

        from rich.markup import escape

        from convlearn.cli.render import format_tensor, stdout

        self.progress.update(self.task, advance=1, description=escape(result.source))
        if self.json_:
            typer.echo(json.dumps(result.to_json()))
        if values is not None and (self.print_ or self.table):
            if self.job.several:
                stdout.print(f"[bold]{escape(result.source)}[/]")
            if self.print_:
                planes = values.permute(2, 0, 1) if values.dim() == 3 else values  # colour: (3, H, W), as torch shows
                stdout.print(format_tensor(planes), markup=False)
            if self.table:
                for t in _table(values.numpy(), result.source):
                    stdout.print(t)
        self._tell_canny(result)
        if not self.job.several and not self.quiet and result.ok and result.to_file:
            h, w = result.shape[:2]
            extra = f", angle -> {result.angle_output}" if result.angle_output else ""
            line = escape(f"{result.source_name} -> {result.output}  ({h}x{w}){extra}")
            self.status.print(f"[dim]{line}[/]", highlight=False)

    def _tell_canny(self, result) -> None:
        """--canny auto: the thresholds it chose (--json has them); any --canny: a warning for no edge at all."""
        from rich.markup import escape

        from convlearn.cli.render import stderr

        if self.canny is None or not result.ok:
            return
        pairs = result.threshold if isinstance(result.threshold, list) else []
        if pairs and not self.quiet and not self.json_:
            told = ", ".join(f"{lo:.4g},{hi:.4g}" for lo, hi in zip(pairs[::2], pairs[1::2], strict=True))
            self.status.print(escape(f"{result.source_name}: --canny auto chose {told}"), highlight=False)
        if result.max == 0:
            hint = "lower the thresholds" if pairs else "lower the thresholds or try --canny auto"
            stderr.print(escape(f"warning: no edges in {result.source_name}; {hint}"), highlight=False)

    def summary(self, outcome) -> None:
        """Rank 0, once every rank is done: the failures, and where the files went."""
        from rich.markup import escape

        from convlearn.cli.render import stderr

        self.stop()
        for error in outcome.failed:
            stderr.print(f"[red]failed:[/] {escape(error)}", highlight=False, markup=True)
        if outcome.job.several and not self.quiet and outcome.written:
            dirs = sorted({str(Path(o).parent) for o in outcome.written})
            place = dirs[0] if len(dirs) == 1 else f"{len(dirs)} directories"
            wrote = f"wrote {len(outcome.written)} of {outcome.job.total} files"
            names = escape(_names(outcome.written))
            self.status.print(f"[dim]{escape(wrote)} to {escape(place)} in {outcome.seconds:.2f} s: {names}[/]")


def _names(written, shown: int = LISTED) -> str:
    """The first few outputs' names (within their directory when there is one), and how many more."""
    paths = [Path(o) for o in written]
    names = [p.name if len({q.parent for q in paths}) == 1 else str(p) for p in paths[:shown]]
    more = f" and {len(paths) - shown} more" if len(paths) > shown else ""
    return ", ".join(names) + more


def _progress_bar(show: bool):
    """The transient ``detect`` bar on stderr: files done of this rank's share, time left, the current file."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from convlearn.cli.render import stderr

    return Progress(
        TextColumn("[bold]detect"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.description}"),
        console=stderr,
        transient=True,
        disable=not show,
        redirect_stdout=False,
        redirect_stderr=False,
    )


def _exit_on_failures(outcome) -> None:
    """Exit 1 when a file failed: rank 0 names the count (the failures are listed above), other ranks quietly."""
    from convlearn.errors import ConvlearnError

    if not outcome.failed:
        return
    if not outcome.job.is_main:
        raise typer.Exit(1)
    total, done = outcome.job.total, outcome.done
    raise ConvlearnError(f"{len(outcome.failed)} of {total} files failed (listed above); the other {done} were done")


def detect(
    images: list[str] = typer.Argument(
        ...,
        help="Images (PNG, JPEG, TIFF, BMP, .npy), directories of them, quoted globs such as 'shots/*.png', "
        "or - to read one image from stdin.",
        show_default=False,
        metavar="IMAGE",
    ),
    kernel: str = typer.Option("edge", "--kernel", "-k", metavar="SPEC", help=KERNEL_HELP),
    output: str | None = typer.Option(
        None,
        "--output",
        "-o",
        metavar="PATH",
        help="Output file (.png, .tif, .npy), a directory (inputs keep their names, with the --format suffix), "
        "or - for stdout. Default: IMAGE-STEM_TAG.png in the current directory; stdout for stdin; "
        "none with --print or --table.",
    ),
    recursive: bool = typer.Option(
        False, "--recursive", "-r", help="Also read the subdirectories of directory inputs (and ** in globs)."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Let default output names (IMAGE-STEM_TAG.png) replace existing files."
    ),
    raw_orientation: bool = typer.Option(
        False, "--raw-orientation", help="Keep pixels as stored; by default a JPEG's EXIF orientation turns it upright."
    ),
    mode: Mode | None = typer.Option(
        None,
        "--mode",
        help="valid (the notebook's shape, H-h+1 x W-w+1; the default) or same (the input's size).",
        show_default=False,
    ),
    border: Border = typer.Option(
        "zero",
        "--border",
        help="Padding for --mode same: zero, reflect (OpenCV's REFLECT_101), replicate or circular. "
        "A border other than zero implies --mode same, as in OpenCV.",
    ),
    magnitude: bool = typer.Option(
        False,
        "--magnitude",
        "-m",
        help="Output sqrt(gx² + gy²): a built-in x/y pair (sobel-x with sobel-y, ...) or the kernel and its transpose.",
    ),
    angle: str | None = typer.Option(
        None,
        "--angle",
        metavar="PATH",
        help="Also write the gradient direction atan2(gy, gx), radians in (-pi, pi], y down, to this file "
        "(a directory for several inputs). Needs --magnitude or --canny.",
    ),
    threshold: str | None = typer.Option(
        None,
        "--threshold",
        metavar="T|otsu",
        help="Binary edge map: 1 where the result > T, else 0. T is a number, or otsu (one per image and channel).",
    ),
    canny: str | None = typer.Option(
        None,
        "--canny",
        metavar="LOW,HIGH|auto",
        help="Thin edges by Canny (Gaussian, Sobel, non-maximum suppression, hysteresis). LOW,HIGH bound the "
        "gradient magnitude in image units (images are 0..1; OpenCV's 100,200 on 8-bit images is 0.392,0.784); "
        "auto: HIGH is Otsu's threshold of the gradient magnitude, LOW half of it. "
        "Not with --kernel, --mode or --border: the output has the input's size.",
    ),
    sigma: float | None = typer.Option(
        None,
        "--sigma",
        min=0.0,
        metavar="PIXELS",
        help="Canny's Gaussian smoothing in pixels (default 1.0, scikit-image's; 0: none, as cv2). Only with --canny.",
        show_default=False,
    ),
    channels: Channels = typer.Option(
        "luma",
        "--channels",
        help="luma (one grey plane, 0.299 R + 0.587 G + 0.114 B) or each (R, G and B filtered apart; RGB output).",
    ),
    scale: Scale = typer.Option(
        "auto", "--scale", help="PNG mapping: auto, clip, signed (0 -> mid-grey), abs or minmax."
    ),
    bit_depth: int = typer.Option(8, "--bit-depth", metavar="8|16", help="PNG bit depth: 8 or 16 (16: one plane)."),
    png_compression: int = typer.Option(
        PNG_COMPRESSION,
        "--png-compression",
        metavar="0-9",
        min=0,
        max=9,
        help="PNG zlib level: 0 (none) to 9 (smallest); 1 is OpenCV's, fast.",
    ),
    fmt: Format = typer.Option(
        "png", "--format", "-f", help="Output type for stdout and directories: png, tif or npy."
    ),
    print_: bool = typer.Option(False, "--print", help="Print the result tensor, as the notebook does."),
    table: bool = typer.Option(
        False, "--table", help=f"Print the result as a Rich table (the top-left {TABLE_SIDE}x{TABLE_SIDE} at most)."
    ),
    json_: bool = typer.Option(
        False, "--json", help="Print one JSON line per file: shape, min, max, mean, output path, seconds."
    ),
    batch_size: int = typer.Option(8, "--batch-size", min=1, metavar="N", help="Files of one size filtered together."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or status lines."),
    device: str = DEVICE,
    max_pixels: int = MAX_PIXELS,
) -> None:
    """Filter images by 2-D cross-correlation (corr2d: the kernel is NOT flipped).

    Y(i, j) = sum over a, b of K(a, b) * X(i + a, j + b), as the notebook,
    cv2.filter2D and scipy.ndimage.correlate compute it. A true convolution
    (scipy.ndimage.convolve, ImageMagick's -morphology Convolve) flips the
    kernel first, so an asymmetric kernel gives a mirrored result there.

    \b
    Examples:
      convlearn detect photo.jpg -k sobel-x --magnitude -o edges.png
      convlearn detect photo.jpg --canny 0.1,0.3 -o canny.png
      convlearn detect shots/ -o out/ -k gaussian:5 --mode same --border reflect
      convlearn detect stripes.png --kernel '1,-1' --print
      cat photo.png | convlearn detect - -k laplacian > lap.png
    """
    from convlearn.detect import run_detect

    screen = _Screen(print_=print_, table=table, json_=json_, quiet=quiet, canny=canny)
    with screen:
        outcome = run_detect(
            inputs=images,
            kernel=kernel,
            output=output,
            angle=angle,
            recursive=recursive,
            overwrite=overwrite,
            raw_orientation=raw_orientation,
            mode=mode,
            border=border,
            magnitude=magnitude,
            threshold=threshold,
            canny=canny,
            sigma=sigma,
            channels=channels,
            scale=scale,
            bit_depth=bit_depth,
            png_compression=png_compression,
            fmt=fmt,
            batch_size=batch_size,
            device=device,
            max_pixels=max_pixels,
            **screen.hooks(),
        )
    _exit_on_failures(outcome)
