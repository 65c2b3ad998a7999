"""``convlearn export``: print a kernel in OpenCV's, SciPy's, ImageMagick's or Pillow's own syntax."""

from __future__ import annotations

import typer

from convlearn.cli.options import KERNEL_HELP
from convlearn.kernels.config import TOOL_ALIASES, TOOLS


def export(
    kernel: str = typer.Argument(
        ..., metavar="KERNEL", help="The kernel: a file written by learn --output, or any spec. " + KERNEL_HELP
    ),
    to: str = typer.Option(
        ...,
        "--to",
        metavar="TOOL",
        help="The tool whose syntax to write: "
        + ", ".join(TOOLS)
        + " (any case; also "
        + ", ".join(f"{a} for {t}" for a, t in TOOL_ALIASES.items())
        + ").",
    ),
    max_level: float = typer.Option(
        255.0,
        "--max-level",
        metavar="LEVEL",
        help="The images' largest level, to turn a bias learned on [0, 1] images into the tool's units: "
        "255 for 8-bit, 65535 for 16-bit, 1 for float images.",
    ),
    decimals: int | None = typer.Option(
        None, "--decimals", metavar="N", help="Round values to this many decimal places (default: exact)."
    ),
) -> None:
    """Print a kernel in another tool's syntax and semantics, so that the tool computes what corr2d does.

    OpenCV's filter2D and SciPy's ndimage.correlate correlate, so the kernel is
    used as it is. ImageMagick's -morphology Convolve reflects the kernel, so it
    is written rotated by 180 degrees. Pillow's ImageFilter.Kernel flips the
    rows, so they are written bottom to top; it takes only 3x3 and 5x5.

    \b
    Examples:
      convlearn export kernel.json --to opencv
      convlearn export kernel.json --to pillow --decimals 6
      convlearn export sobel-x --to imagemagick
    """
    from convlearn.kernels import run_export

    typer.echo(run_export(kernel=kernel, to=to, max_level=max_level, decimals=decimals))
