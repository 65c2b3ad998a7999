"""The words of images on disk: channels, picture scales, formats, suffixes and limits.

Importing this module imports neither torch, NumPy nor Pillow, so the CLI builds
its choices and defaults from these names and ``--help`` stays fast.
"""

from __future__ import annotations

from convlearn.files.suffixes import IMAGE_SUFFIXES, OUTPUT_FORMATS

__all__ = ["CHANNELS", "DEFAULT_MAX_PIXELS", "IMAGE_SUFFIXES", "OUTPUT_FORMATS", "PNG_COMPRESSION", "SCALES"]

#: Colour handling: ``luma`` (one plane) or ``each`` (R, G and B separately).
CHANNELS = ("luma", "each")
#: Pillow's own decompression-bomb limit (``Image.MAX_IMAGE_PIXELS``), kept on by default;
#: written out so that reading it imports no Pillow (tests/images checks they agree).
DEFAULT_MAX_PIXELS = 89_478_485
#: How values become 8- or 16-bit picture levels (``M`` = the picture's maximum level):
#:   clip    v in [0, 1] -> v * M, values outside clipped;
#:   signed  0 -> mid-grey, +-max|v| -> M / 0;
#:   abs     |v| / max|v| * M;
#:   minmax  (v - min) / (max - min) * M;
#:   auto    clip when every value lies in [0, 1], else signed when any is negative, else minmax.
SCALES = ("auto", "clip", "signed", "abs", "minmax")
#: The default zlib level of PNG output: 1, OpenCV's default. Level 1 also matches
#: runs only (zlib's Z_RLE, OpenCV's default strategy), fast and compact on filtered
#: rows; 2-9 use zlib's full search at that level; 0 stores the rows uncompressed.
PNG_COMPRESSION = 1
