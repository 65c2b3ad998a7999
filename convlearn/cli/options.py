"""Options shared by several commands: one definition, one default, one help text."""

from __future__ import annotations

import typer

DEVICE = typer.Option("auto", "--device", help="auto (CUDA when available), cpu or cuda[:N].")
KERNEL_HELP = (
    "Kernel spec: a built-in name (see `convlearn kernels`), an inline matrix such as '1,-1' or "
    "'1,0,-1;2,0,-2;1,0,-1' (rows split by ';'), an ImageMagick string '3x3: ...', or a .json/.npy file."
)
# Pillow's Image.MAX_IMAGE_PIXELS (its decompression-bomb limit); written out
# so that --help does not import Pillow. tests/cli/test_cli.py checks they agree.
DEFAULT_MAX_PIXELS = 89_478_485
MAX_PIXELS = typer.Option(
    DEFAULT_MAX_PIXELS,
    "--max-pixels",
    min=1,
    help="Refuse larger images (Pillow's decompression-bomb guard). Raise it only for files you trust.",
)
