"""Which file names are images, and the formats of outputs named without a suffix (no imports)."""

from __future__ import annotations

__all__ = ["IMAGE_SUFFIXES", "OUTPUT_FORMATS"]

#: Suffixes read and written through Pillow.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
#: Formats for outputs named without a suffix (stdout, a directory of results).
OUTPUT_FORMATS = ("png", "tif", "npy")
