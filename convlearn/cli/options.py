"""Options shared by several commands: one definition, one default, one help text.

The fixed choices are ``Literal`` types, so that ``--help`` shows them (``<valid|same>``) and shell
completion offers them. They are spelled out here because the library's tuples live in modules that
import torch; tests/cli/test_help.py checks that each equals the library's.
"""

from __future__ import annotations

from typing import Literal

import typer

Mode = Literal["valid", "same"]  # corr.MODES
Border = Literal["zero", "reflect", "replicate", "circular"]  # corr.BORDERS
Scale = Literal["auto", "clip", "signed", "abs", "minmax"]  # images.SCALES
Channels = Literal["luma", "each"]  # images.CHANNELS
Format = Literal["png", "tif", "npy"]  # images.OUTPUT_FORMATS
Tool = Literal["opencv", "scipy", "imagemagick", "pillow", "json"]  # kernels.TOOLS
Pattern = Literal["stripes", "diagonal", "checker", "noise", "shapes"]  # synth.PATTERNS

# --device stays free text: cuda:N names one GPU of several.
DEVICE = typer.Option(
    "auto", "--device", metavar="auto|cpu|cuda[:N]", help="auto (CUDA when available), cpu or cuda[:N]."
)
KERNEL_HELP = (
    "A built-in name (see `convlearn kernels`), an inline matrix such as '1,-1' or "
    "'1,0,-1;2,0,-2;1,0,-1' (rows split by ';'), an ImageMagick string '3x3: ...', or a .json/.npy file."
)
# Pillow's Image.MAX_IMAGE_PIXELS (its decompression-bomb limit); written out
# so that --help does not import Pillow. tests/cli/test_cli.py checks they agree.
DEFAULT_MAX_PIXELS = 89_478_485
MAX_PIXELS = typer.Option(
    DEFAULT_MAX_PIXELS,
    "--max-pixels",
    min=1,
    metavar="N",
    help="Refuse larger images (Pillow's decompression-bomb guard). Raise it only for files you trust.",
)


def tidy_help(params) -> None:
    """Help shows a flag without a type and an argument by its metavar (not ``<bool>`` or ``<list[str]>``).

    Typer prints a type column for every parameter; for a flag it says ``<bool>``, and for an
    argument it ignores the metavar. Called on each command's parameters as the group builds it.
    """
    for p in params:
        if getattr(p, "param_type_name", "") == "argument":
            if p.metavar:
                p.display_type_rich = lambda ctx: None  # the name column already shows the metavar
        elif getattr(p, "is_flag", False) and p.metavar is None:
            p.metavar = ""
