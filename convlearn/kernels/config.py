"""The words of kernel export: the tools ``convlearn export --to`` writes for, and Pillow's sizes.

Importing this module imports neither torch nor NumPy, so the CLI builds its
choices from these names and ``--help`` stays fast.
"""

from __future__ import annotations

__all__ = ["PILLOW_SIZES", "TOOLS", "TOOL_ALIASES", "tool_name"]

#: The tools ``convlearn export --to`` writes for.
TOOLS = ("opencv", "scipy", "imagemagick", "pillow", "json")
#: The only sizes Pillow's ImageFilter.Kernel accepts.
PILLOW_SIZES = (3, 5)
#: Other names users of each tool type for it, matched without regard to case.
TOOL_ALIASES = {
    "cv2": "opencv",
    "cv": "opencv",
    "ndimage": "scipy",
    "scipy.ndimage": "scipy",
    "magick": "imagemagick",
    "convert": "imagemagick",
    "im": "imagemagick",
    "pil": "pillow",
}


def tool_name(text: str) -> str | None:
    """The tool ``text`` names, in any case, by its name or an alias; None for none.

    >>> tool_name("cv2"), tool_name("OpenCV"), tool_name("PIL"), tool_name("magick"), tool_name("gimp")
    ('opencv', 'opencv', 'pillow', 'imagemagick', None)
    """
    word = str(text).strip().lower()
    return word if word in TOOLS else TOOL_ALIASES.get(word)
