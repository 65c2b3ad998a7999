"""Options shared by several commands: one definition, one default, one help text.

The fixed choices are ``Literal`` types, so that ``--help`` shows them (``<valid|same>``) and shell
completion offers them. Each is built from the library's own tuple (``Literal[MODES]`` is
``Literal["valid", "same"]``), read from its torch-free settings module, so the CLI keeps no copy.
"""

from __future__ import annotations

from typing import Literal

import typer

from convlearn.corr.config import BORDERS, MODES
from convlearn.images.config import CHANNELS, DEFAULT_MAX_PIXELS, OUTPUT_FORMATS, SCALES
from convlearn.synth.config import PATTERNS

Mode = Literal[MODES]
Border = Literal[BORDERS]
Scale = Literal[SCALES]
Channels = Literal[CHANNELS]
Format = Literal[OUTPUT_FORMATS]
Pattern = Literal[PATTERNS]

# --device stays free text: cuda:N names one GPU of several.
DEVICE = typer.Option(
    "auto", "--device", metavar="auto|cpu|cuda[:N]", help="auto (CUDA when available), cpu or cuda[:N]."
)
KERNEL_HELP = (
    "A built-in name (see `convlearn kernels`), an inline matrix such as '1,-1' or "
    "'1,0,-1;2,0,-2;1,0,-1' (rows split by ';'), an ImageMagick string '3x3: ...', or a .json/.npy file. "
    "Sizes are sides, not radii: box:5 is 5x5 (Pillow's BoxBlur(2), ImageMagick's radius 2); "
    "gaussian:s1.5 takes its size from sigma as OpenCV does."
)
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
