"""``convlearn synth``: write a synthetic image (by default the notebook's)."""

from __future__ import annotations

from pathlib import Path

import typer

from convlearn.cli.options import KERNEL_HELP, Pattern


def synth(
    output: Path | None = typer.Argument(
        None,
        metavar="OUTPUT",
        help="Where to write the image (.png, .tif or .npy). Default: stripes.png, which replaces a file only with "
        "--overwrite.",
        show_default=False,
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Let the default stripes.png replace an existing file."),
    pattern: Pattern = typer.Option("stripes", "--pattern", "-p", help="The picture (stripes: the notebook's)."),
    height: int = typer.Option(6, "--height", min=1, metavar="N", help="Rows (the notebook's 6)."),
    width: int = typer.Option(8, "--width", min=1, metavar="N", help="Columns (the notebook's 8)."),
    stripe: str | None = typer.Option(
        None,
        "--stripe",
        metavar="START:STOP",
        help="Zero columns START:STOP, 0 <= START < STOP <= width. Default: the middle half (2:6 at width 8).",
    ),
    horizontal: bool = typer.Option(False, "--horizontal", help="Transpose the image: horizontal stripes."),
    cell: int = typer.Option(2, "--cell", min=1, metavar="N", help="Checker square size in pixels."),
    seed: int = typer.Option(0, "--seed", metavar="N", help="Random seed for --pattern noise."),
    kernel: str | None = typer.Option(
        None, "--kernel", "-k", metavar="SPEC", help="Also write target = corr2d(image, KERNEL). " + KERNEL_HELP
    ),
    target: Path | None = typer.Option(
        None, "--target", metavar="PATH", help="Where to write the target (needs --kernel)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing."),
) -> None:
    """Write a synthetic test image, printed as the notebook prints tensors.

    The default is the notebook's 6x8 image: ones, with columns 2..5 zero.

    \b
    Examples:
      convlearn synth
      convlearn synth shapes.png -p shapes --height 128 --width 128
      convlearn synth noise.png -p noise --height 96 --width 96 -k sobel-x --target noise_sx.npy
    """
    from rich.markup import escape

    from convlearn.cli.render import format_tensor, stdout
    from convlearn.synth import run_synth

    result = run_synth(
        output=output,
        overwrite=overwrite,
        pattern=pattern,
        height=height,
        width=width,
        stripe=stripe,
        horizontal=horizontal,
        cell=cell,
        seed=seed,
        kernel=kernel,
        target=target,
    )
    if not quiet:
        stdout.print(format_tensor(result.image))
        wrote = f"wrote {result.output}" + (f" and target {target}" if target else "")
        stdout.print(f"[dim]{escape(wrote)}[/]")
