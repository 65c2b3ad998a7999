"""A kernel in other tools' syntax *and semantics*: OpenCV, SciPy, ImageMagick, Pillow, JSON.

convlearn's kernels are correlation kernels: ``Y[i, j] = sum K[a, b] X[i + a - ay, j + b - ax] + bias``,
anchored at ``(ay, ax) = (h // 2, w // 2)`` unless a kernel says otherwise. Each
tool reads a kernel its own way, so each export writes what that tool needs to
compute the same thing:

=============  ==================================  =====================================================
tool           call                                what it does with the kernel
=============  ==================================  =====================================================
opencv         ``cv2.filter2D``                    correlates: the kernel as it is; anchor (x, y), default the centre
scipy          ``scipy.ndimage.correlate``         correlates: the kernel as it is; ``origin`` 0 is the centre
imagemagick    ``-morphology Convolve 'WxH+X+Y:'``  convolves: reflects the kernel about its origin, so the
                                                   kernel is written rotated by 180 degrees, origin mirrored
pillow         ``ImageFilter.Kernel``              flips the rows (correlates with the kernel upside down),
                                                   so the rows are written bottom to top; 3x3 and 5x5 only;
                                                   divides by ``scale`` (default: the kernel's sum), so scale=1
json           convlearn's kernel file              as ``learn --output`` writes it
=============  ==================================  =====================================================

Colour kernels, (3, h, w) and (3, 3, h, w), are written plane by plane, or
refused where a tool cannot express them: see :mod:`convlearn.kernels.export_colour`.

The OpenCV, SciPy and Pillow facts were checked here by running those libraries
(tests/kernels/test_export.py applies every exported snippet and compares with corr2d).
ImageMagick's was read from its source (MagickCore/morphology.c reflects the
kernel for Convolve; its default origin is ``((w - 1) // 2, (h - 1) // 2)``), and
tests/kernels/test_export_runs.py runs the command on ImageMagick 6 where it is installed.

Biases are learned on images scaled to [0, 1]; tools that work in pixel levels
get ``bias * max_level`` (255 for 8-bit images), ImageMagick a percentage of its
quantum range.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from convlearn.errors import InputError, invalid_choice
from convlearn.kernels.config import PILLOW_SIZES, TOOL_ALIASES, TOOLS, tool_name
from convlearn.kernels.kernel import Kernel
from convlearn.kernels.kernel_file import format_kernel_file
from convlearn.kernels.numbers import py_literal, short_number
from convlearn.kernels.spec import parse_kernel
from convlearn.kernels.table import is_magnitude

__all__ = [
    "PILLOW_SIZES",
    "TOOLS",
    "convolution_kernel",
    "export_kernel",
    "imagemagick_kernel",
    "pillow_kernel",
    "run_export",
]


def _array(name: str, weight: np.ndarray, decimals: int | None) -> list[str]:
    """The lines of ``name = np.array([...], dtype=np.float64)``, one kernel row per line."""
    rows = [f"        [{', '.join(py_literal(v, decimals) for v in row)}]," for row in weight]
    return [f"{name} = np.array(", "    [", *rows, "    ],", "    dtype=np.float64,", ")"]


def convolution_kernel(kernel: Kernel) -> Kernel:
    """The kernel whose convolution computes ``kernel``'s correlation: rotated by 180 degrees, origin mirrored.

    >>> k = convolution_kernel(Kernel(np.array([[1.0, 2.0, 3.0]]), anchor=(0, 0)))
    >>> k.weight.tolist(), k.anchor
    ([[3.0, 2.0, 1.0]], (0, 2))
    """
    h, w = kernel.shape
    ay, ax = kernel.origin
    return Kernel(kernel.weight[::-1, ::-1].copy(), kernel.bias, kernel.name, (h - 1 - ay, w - 1 - ax))


def imagemagick_kernel(kernel: Kernel, decimals: int | None = None) -> str:
    """The ``'WxH+X+Y: ...'`` string for ``-morphology Convolve`` that correlates like ``kernel``.

    Convolve reflects the kernel about its origin, so the values are rotated by
    180 degrees and the origin ``(ax, ay)`` becomes ``(w - 1 - ax, h - 1 - ay)``.

    >>> imagemagick_kernel(Kernel(np.array([[1.0, 2.0, 3.0]])))
    '3x1+1+0: 3,2,1'
    """
    h, w = kernel.shape
    rotated = convolution_kernel(kernel)
    oy, ox = rotated.origin
    rows = " ".join(",".join(short_number(v, decimals) for v in row) for row in rotated.weight)
    return f"{w}x{h}+{ox}+{oy}: {rows}"


def pillow_kernel(kernel: Kernel) -> np.ndarray:
    """The values to give ``ImageFilter.Kernel`` so that it correlates like ``kernel``.

    The kernel is placed in the smallest of 3x3 or 5x5 that puts its anchor at
    the centre (zeros around it), and its rows are reversed, because Pillow
    correlates with the kernel's rows flipped.

    Returns:
        float64 array, :math:`(S, S)` with S 3 or 5, in Pillow's row order.

    Raises:
        InputError: the kernel does not fit a 3x3 or 5x5 around its anchor.

    >>> pillow_kernel(Kernel(np.array([[1.0, -1.0]]))).tolist()
    [[0.0, 0.0, 0.0], [1.0, -1.0, 0.0], [0.0, 0.0, 0.0]]
    """
    h, w = kernel.shape
    ay, ax = kernel.origin
    for size in PILLOW_SIZES:
        top, left = size // 2 - ay, size // 2 - ax
        if top >= 0 and left >= 0 and top + h <= size and left + w <= size:
            square = np.zeros((size, size))
            square[top : top + h, left : left + w] = kernel.weight
            return square[::-1].copy()
    raise InputError(
        f"Pillow's ImageFilter.Kernel takes only 3x3 and 5x5 kernels; this {h}x{w} kernel (anchor {ay},{ax}) "
        "does not fit in one. Export it --to opencv or --to scipy instead"
    )


@dataclass(frozen=True)
class _Export:
    """What every tool's writer needs: the kernel, and its bias in the tool's units."""

    kernel: Kernel
    max_level: float  # the images' largest level: 255 for 8-bit
    decimals: int | None  # round to this many places; None: exact

    @property
    def centred(self) -> bool:
        h, w = self.kernel.shape
        return self.kernel.origin == (h // 2, w // 2)

    @property
    def has_bias(self) -> bool:
        return self.kernel.bias is not None

    @property
    def level(self) -> str:
        """The bias in the tool's levels, as a literal."""
        return py_literal((self.kernel.bias or 0.0) * self.max_level, self.decimals)

    @property
    def unit(self) -> str:
        """A comment saying how the bias became :attr:`level`."""
        bias = py_literal(self.kernel.bias or 0.0, self.decimals)
        return f"the bias in levels of {self.max_level:g} ({bias} x {self.max_level:g})"


def _json(e: _Export) -> str:
    return format_kernel_file(e.kernel, layout="rows", decimals=e.decimals).rstrip("\n")


def _opencv(e: _Export) -> str:
    ay, ax = e.kernel.origin
    anchor = "" if e.centred else f", anchor=({ax}, {ay})"
    return "\n".join(
        [
            "# cv2.filter2D correlates: the kernel is used as it is"
            + (", centred on each pixel." if e.centred else f", anchor (x, y) = ({ax}, {ay})."),
            "import cv2",
            "import numpy as np",
            "",
            *_array("kernel", e.kernel.weight, e.decimals),
            f"result = cv2.filter2D(image, -1, kernel{anchor}, delta={e.level})  # delta: {e.unit}"
            if e.has_bias
            else f"result = cv2.filter2D(image, -1, kernel{anchor})",
        ]
    )


def _scipy(e: _Export) -> str:
    h, w = e.kernel.shape
    ay, ax = e.kernel.origin
    origin = "" if e.centred else f", origin=({ay - h // 2}, {ax - w // 2})"
    bias = f" + {e.level}  # + {e.unit}" if e.has_bias else ""
    return "\n".join(
        [
            "# scipy.ndimage.correlate correlates: the kernel is used as it is"
            + (", centred on each pixel." if e.centred else f", anchored at row {ay}, column {ax}."),
            '# mode="mirror" is OpenCV\'s default border (BORDER_REFLECT_101). A colour image (H, W, C) is',
            "# filtered channel by channel, as cv2.filter2D does.",
            "import numpy as np",
            "from scipy import ndimage",
            "",
            *_array("weights", e.kernel.weight, e.decimals),
            "",
            "",
            "def correlate(plane):",
            f'    return ndimage.correlate(plane, weights, mode="mirror"{origin}){bias}',
            "",
            "",
            "image = np.asarray(image, dtype=np.float64)",
            "result = correlate(image) if image.ndim == 2 else "
            "np.dstack([correlate(c) for c in np.moveaxis(image, -1, 0)])",
        ]
    )


def _pillow(e: _Export) -> str:
    values = pillow_kernel(e.kernel)
    size = values.shape[0]
    body = "\n".join(f"        {', '.join(py_literal(v, e.decimals) for v in row)}," for row in values)
    return "\n".join(
        [
            "# Pillow's ImageFilter.Kernel correlates with the kernel's rows flipped, so the rows are",
            "# given bottom to top"
            + (f", padded to {size}x{size} around the anchor" if e.kernel.shape != (size, size) else "")
            + "; scale=1 stops it dividing by the kernel's sum.",
            "from PIL import ImageFilter",
            "",
            "kernel = ImageFilter.Kernel(",
            f"    ({size}, {size}),",
            "    [",
            body,
            "    ],",
            "    scale=1,",
            *([f"    offset={e.level},  # {e.unit}"] if e.has_bias else []),
            ")",
            "result = image.filter(kernel)  # an 'L' or 'RGB' Pillow image; 8-bit results are rounded and clipped",
        ]
    )


#: The ImageMagick program: ``magick`` (ImageMagick 7) where it is installed, else ``convert`` (ImageMagick 6,
#: as Debian and Ubuntu ship it), chosen by the shell so that one line runs on both.
MAGICK = "$(command -v magick || echo convert)"


def _imagemagick(e: _Export) -> str:
    bias = e.kernel.bias or 0.0
    define = "" if not e.has_bias else f"-define convolve:bias={short_number(bias * 100, e.decimals)}% "
    return "\n".join(
        [
            "# -morphology Convolve reflects the kernel about its origin, so it is written rotated by 180 degrees,",
            "# origin mirrored"
            + ("; convolve:bias is the bias as a percentage of the full range." if define else ".")
            + " Colour images are filtered channel by channel.",
            "# The command is magick on ImageMagick 7 and convert on ImageMagick 6: the shell picks the one installed.",
            f"{MAGICK} input.png {define}-morphology Convolve '{imagemagick_kernel(e.kernel, e.decimals)}' output.png",
        ]
    )


#: Each tool's writer, in :data:`TOOLS` order.
_WRITERS: dict[str, Callable[[_Export], str]] = {
    "opencv": _opencv,
    "scipy": _scipy,
    "imagemagick": _imagemagick,
    "pillow": _pillow,
    "json": _json,
}


def _check_tool(tool: str) -> str:
    """The tool's own name, from it or an alias (``cv2``, ``PIL``, ``magick``...)."""
    name = tool_name(tool)
    if name is None:
        aliases = ", ".join(f"{a} ({t})" for a, t in TOOL_ALIASES.items())
        raise InputError(f"{invalid_choice('tool', tool, TOOLS)}; or an alias: {aliases}")
    return name


def export_kernel(kernel: Kernel, tool: str, *, max_level: float = 255.0, decimals: int | None = None) -> str:
    """Write a kernel in a tool's own syntax, so that the tool computes what corr2d computes.

    Args:
        kernel: the kernel (its weight, bias and anchor are all used).
        tool: one of :data:`TOOLS`.
        max_level: the image's largest level, to turn the bias (learned on
            images scaled to [0, 1]) into the tool's units: 255 for 8-bit images,
            65535 for 16-bit, 1 for float images in [0, 1]. ImageMagick takes a
            percentage instead.
        decimals: round values to this many decimal places (learned kernels
            carry rounding noise such as 3e-9 for 0); None writes each value
            exactly (the shortest text that reads back the same).

    Returns:
        The text: a runnable Python snippet (opencv, scipy, pillow; it reads
        ``image`` and sets ``result``), a shell command (imagemagick) or a
        kernel file (json, one row per line, see :func:`~convlearn.kernels.format_kernel_file`).

    Raises:
        InputError: an unknown tool, a bad max_level or decimals, or a kernel Pillow cannot take
            (or a colour kernel Pillow or ImageMagick cannot express).

    >>> print(export_kernel(Kernel(np.array([[1.0, -1.0]])), "imagemagick").splitlines()[-1])
    $(command -v magick || echo convert) input.png -morphology Convolve '2x1+0+0: -1,1' output.png
    """
    tool = _check_tool(tool)
    if is_magnitude(kernel):
        raise InputError(
            f"{kernel.name!r} is a gradient magnitude, sqrt(gx² + gy²), not one kernel: export "
            f"{kernel.name}-x and {kernel.name}-y and combine their results with numpy.hypot"
        )
    if not (math.isfinite(max_level) and max_level > 0):
        raise InputError(f"Invalid max level {max_level}; it must be a positive number such as 255")
    if decimals is not None and not 0 <= decimals <= 15:
        raise InputError(f"Invalid decimals {decimals}; use 0 to 15")
    if kernel.channels is not None and tool != "json":
        from convlearn.kernels.export_colour import export_colour

        return export_colour(kernel, tool, max_level=max_level, decimals=decimals)
    return _WRITERS[tool](_Export(kernel, max_level, decimals))


def run_export(*, kernel: str | Kernel, to: str, max_level: float = 255.0, decimals: int | None = None) -> str:
    """What ``convlearn export`` prints: ``kernel`` in the syntax of the tool ``to``.

    The tool is checked before the kernel spec is parsed, so a wrong ``--to``
    is reported first.

    Args:
        kernel: a kernel spec (see :func:`~convlearn.kernels.parse_kernel`) or a kernel.
        to: one of :data:`TOOLS`.
        max_level: see :func:`export_kernel`.
        decimals: see :func:`export_kernel`.

    Returns:
        The text, without a final newline.

    Raises:
        InputError: an unknown tool, a bad max_level or decimals, or a kernel Pillow cannot take.
        KernelSpecError: a bad kernel spec.

    >>> run_export(kernel="edge", to="imagemagick").splitlines()[-1]
    "$(command -v magick || echo convert) input.png -morphology Convolve '2x1+0+0: -1,1' output.png"
    """
    to = _check_tool(to)
    parsed = parse_kernel(kernel) if isinstance(kernel, str) else kernel
    return export_kernel(parsed, to, max_level=max_level, decimals=decimals)
