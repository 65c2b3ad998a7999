"""Colour kernels in other tools: a (3, h, w) kernel per channel, a (3, 3, h, w) one across channels.

No tool here takes a colour kernel in one call, so the export spells out what
``detect`` does with it, on the planes of an RGB image:

=============  ================================================================================
tool           colour kernel
=============  ================================================================================
opencv         ``cv2.split`` the planes; (3, h, w): one ``cv2.filter2D`` per plane;
               (3, 3, h, w): output plane o is the sum over input planes i of ``filter2D(plane i, K[o, i])``
scipy          the same with ``ndimage.correlate`` on ``image[..., i]``
pillow         refused: ``ImageFilter.Kernel`` applies one kernel to every band, and rounds each band to 8 bits
imagemagick    refused: ``-morphology`` applies one kernel to the channels ``-channel`` selects; it cannot sum
               one channel's filtering into another
json           convlearn's kernel file, planes nested
=============  ================================================================================

The snippets work in float64 (a sum of 8-bit results would clip on the way),
on ``image`` in R, G, B order: ``cv2.imread`` gives B, G, R.
"""

from __future__ import annotations

from convlearn.errors import InputError
from convlearn.kernels.kernel import Kernel
from convlearn.kernels.numbers import py_literal

__all__ = ["export_colour"]

#: How the snippets describe the shape.
_WHAT = {"each": "one kernel per channel, (3, h, w)", "full": "a cross-channel kernel, (out, in, h, w) = (3, 3, h, w)"}


def _nested(values, decimals: int | None, indent: int) -> list[str]:
    """A nested list literal, one kernel row per line."""
    pad = " " * indent
    if not isinstance(values[0], list):
        return [f"{pad}[{', '.join(py_literal(v, decimals) for v in values)}],"]
    return [f"{pad}[", *(line for v in values for line in _nested(v, decimals, indent + 4)), f"{pad}],"]


def _header(kernel: Kernel, decimals: int | None, name: str, max_level: float) -> list[str]:
    """The weight as ``name = np.array(...)`` and the bias per output channel in levels."""
    lines = [f"{name} = np.array(", *_nested(kernel.weight.tolist(), decimals, 4), "    dtype=np.float64,", ")"]
    levels = ", ".join(py_literal(b * max_level, decimals) for b in kernel.biases())
    if kernel.bias is not None:
        lines.append(f"bias = [{levels}]  # per output channel, in levels of {max_level:g}")
    else:
        lines.append("bias = [0.0, 0.0, 0.0]")
    return lines


def _opencv(kernel: Kernel, decimals: int | None, max_level: float) -> str:
    h, w = kernel.shape
    ay, ax = kernel.origin
    anchor = "" if (ay, ax) == (h // 2, w // 2) else f", anchor=({ax}, {ay})"
    if kernel.channels == "each":
        plane = f"cv2.filter2D(planes[o], -1, kernels[o]{anchor}) + bias[o]"
    else:
        plane = f"sum(cv2.filter2D(planes[i], -1, kernels[o, i]{anchor}) for i in range(3)) + bias[o]"
    return "\n".join(
        [
            f"# cv2.filter2D correlates; {_WHAT[kernel.channels]}, applied plane by plane.",
            "# image: (H, W, 3) in R, G, B order (cv2.imread gives B, G, R: cv2.cvtColor(image, cv2.COLOR_BGR2RGB)).",
            "import cv2",
            "import numpy as np",
            "",
            *_header(kernel, decimals, "kernels", max_level),
            "planes = cv2.split(np.asarray(image, dtype=np.float64))",
            f"result = cv2.merge([{plane} for o in range(3)])  # float64, (H, W, 3)",
        ]
    )


def _scipy(kernel: Kernel, decimals: int | None, max_level: float) -> str:
    h, w = kernel.shape
    ay, ax = kernel.origin
    origin = "" if (ay, ax) == (h // 2, w // 2) else f", origin=({ay - h // 2}, {ax - w // 2})"
    if kernel.channels == "each":
        plane = f'ndimage.correlate(image[..., o], weights[o], mode="mirror"{origin}) + bias[o]'
    else:
        plane = (
            f'sum(ndimage.correlate(image[..., i], weights[o, i], mode="mirror"{origin}) for i in range(3)) + bias[o]'
        )
    return "\n".join(
        [
            f"# scipy.ndimage.correlate correlates; {_WHAT[kernel.channels]}, applied plane by plane.",
            '# image: (H, W, 3) in R, G, B order; mode="mirror" is OpenCV\'s default border (BORDER_REFLECT_101).',
            "import numpy as np",
            "from scipy import ndimage",
            "",
            *_header(kernel, decimals, "weights", max_level),
            "image = np.asarray(image, dtype=np.float64)",
            f"result = np.stack([{plane} for o in range(3)], axis=-1)  # (H, W, 3)",
        ]
    )


def export_colour(kernel: Kernel, tool: str, *, max_level: float, decimals: int | None) -> str:
    """A colour kernel for ``tool`` (opencv or scipy), see the module notes; json is written by the caller.

    Raises:
        InputError: Pillow and ImageMagick, which cannot express a colour kernel.
    """
    shape = "x".join(str(n) for n in kernel.weight.shape)
    if tool == "pillow":
        raise InputError(
            f"Pillow's ImageFilter.Kernel applies one kernel to every band, so it cannot express this {shape} "
            f"colour kernel ({_WHAT[kernel.channels]}). Export it --to opencv or --to scipy instead"
        )
    if tool == "imagemagick":
        why = (
            "-morphology applies one kernel to the channels -channel selects; a per-channel kernel needs a run per "
            "channel (-channel R ... -channel G ...), and one channel's filtering cannot be summed into another"
        )
        raise InputError(
            f"ImageMagick cannot express this {shape} colour kernel in one command: {why}. "
            "Export it --to opencv or --to scipy instead"
        )
    return {"opencv": _opencv, "scipy": _scipy}[tool](kernel, decimals, max_level)
