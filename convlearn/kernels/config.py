"""The words of kernel export: the tools ``convlearn export --to`` writes for, and Pillow's sizes.

Importing this module imports neither torch nor NumPy, so the CLI builds its
choices from these names and ``--help`` stays fast.
"""

from __future__ import annotations

__all__ = ["PILLOW_SIZES", "TOOLS"]

#: The tools ``convlearn export --to`` writes for.
TOOLS = ("opencv", "scipy", "imagemagick", "pillow", "json")
#: The only sizes Pillow's ImageFilter.Kernel accepts.
PILLOW_SIZES = (3, 5)
