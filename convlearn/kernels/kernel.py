"""The kernel: a correlation weight with an optional bias and anchor, and the checks every weight passes.

Kernels are correlation kernels (no flip), as in the notebook, ``cv2.filter2D``
and ``scipy.ndimage.correlate``:
``Y[i, j] = sum_{a, b} K[a, b] * X[i + a - ay, j + b - ax]`` with the anchor
``(ay, ax)`` (``--mode same``) or ``(0, 0)`` (``--mode valid``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from convlearn.errors import KernelSpecError

__all__ = ["COLOUR_PLANES", "MAX_KERNEL_SIDE", "Kernel", "check_weight", "shown"]

#: Largest kernel side accepted from a spec; far beyond any sensible filter, it
#: stops a typo such as ``box:100000`` from allocating gigabytes.
MAX_KERNEL_SIDE = 1025
#: The leading axes a colour kernel's weight has, by how it treats the channels:
#: ``each`` one (h, w) plane per channel (R->R, G->G, B->B); ``full`` one per
#: (output, input) channel pair, as ``nn.Conv2d(3, 3)``'s weight.
COLOUR_PLANES = {"each": (3,), "full": (3, 3)}
#: Largest magnitude a weight may have: the float32 the filters compute in, over the
#: largest kernel (so a sum of weight x value on an image in [0, 1] stays finite).
MAX_WEIGHT = float(np.finfo(np.float32).max) / MAX_KERNEL_SIDE**2
#: Longest spec quoted whole in a message; a longer one is cut, with its length.
_SHOWN = 60


def shown(text: str) -> str:
    """``repr(text)`` for messages, cut to :data:`_SHOWN` characters with its length when longer.

    >>> shown("1,-1")
    "'1,-1'"
    >>> shown("1," * 100)[-24:]  # the first 60 characters quoted, then the length
    ",1,'... (200 characters)"
    """
    return repr(text) if len(text) <= _SHOWN else f"{text[:_SHOWN]!r}... ({len(text)} characters)"


@dataclass(frozen=True)
class Kernel:
    """A correlation kernel with an optional bias and anchor.

    Attributes:
        weight: the kernel, float64, shape :math:`(h, w)`; a colour kernel's is
            :math:`(3, h, w)` (per channel) or :math:`(3, 3, h, w)` (output, input channel).
        bias: an additive offset, or None; a colour kernel's may be one per output channel.
        name: where it came from (a table name, ``"inline"`` or a path).
        anchor: ``(row, col)`` of the output pixel's position in the kernel,
            used by ``mode="same"``; None means the centre ``(h // 2, w // 2)``,
            as in OpenCV and SciPy.
    """

    weight: np.ndarray
    bias: float | tuple[float, ...] | None = None
    name: str = "inline"
    anchor: tuple[int, int] | None = None
    meta: dict = field(default_factory=dict, compare=False)

    @property
    def shape(self) -> tuple[int, int]:
        """``(h, w)``: the spatial size (a colour kernel's planes share it)."""
        return tuple(self.weight.shape[-2:])  # type: ignore[return-value]

    @property
    def channels(self) -> str | None:
        """``"each"`` for a (3, h, w) weight, ``"full"`` for (3, 3, h, w), None for a plain (h, w) kernel."""
        planes = tuple(self.weight.shape[:-2])
        return next((name for name, lead in COLOUR_PLANES.items() if lead == planes), None)

    def biases(self) -> tuple[float, ...]:
        """The bias of each output plane (one for a plain kernel, three for a colour one), 0 when there is none."""
        n = 3 if self.channels is not None else 1
        if self.bias is None:
            return (0.0,) * n
        if isinstance(self.bias, tuple):
            return self.bias
        return (float(self.bias),) * n

    @property
    def origin(self) -> tuple[int, int]:
        """The anchor, with the centre filled in."""
        h, w = self.shape
        return self.anchor if self.anchor is not None else (h // 2, w // 2)

    def transpose(self) -> Kernel:
        a = None if self.anchor is None else (self.anchor[1], self.anchor[0])
        return Kernel(np.swapaxes(self.weight, -1, -2).copy(), self.bias, f"{self.name}.T", a)


def check_weight(weight: np.ndarray, spec: str, colour: bool = False) -> np.ndarray:
    """``weight`` itself, once it is a non-empty, finite 2-D matrix no side of which exceeds :data:`MAX_KERNEL_SIDE`.

    With ``colour``, a (3, h, w) or (3, 3, h, w) weight (see :data:`COLOUR_PLANES`) passes too.
    Its values must also fit float32, the type the filters compute in: no
    magnitude above :data:`MAX_WEIGHT` (about 3.2e32), checked on the float32 cast.

    Raises:
        KernelSpecError: naming ``spec``, the text the weight came from.
    """
    planes = tuple(weight.shape[:-2]) if weight.ndim >= 2 else None
    shaped = weight.ndim == 2 or (colour and planes in COLOUR_PLANES.values())
    if not shaped or weight.size == 0:
        expected = "a non-empty 2-D matrix" + (", (3, h, w) or (3, 3, h, w) array" if colour else "")
        raise KernelSpecError(f"Kernel {shown(spec)} must be {expected}, got shape {weight.shape}")
    if max(weight.shape[-2:]) > MAX_KERNEL_SIDE:
        raise KernelSpecError(
            f"Kernel {shown(spec)} is {weight.shape[-2]}x{weight.shape[-1]}; "
            f"the largest side allowed is {MAX_KERNEL_SIDE}"
        )
    if not np.isfinite(weight).all():
        raise KernelSpecError(f"Kernel {shown(spec)} contains NaN or inf; every value must be finite")
    with np.errstate(over="ignore"):
        cast = weight.astype(np.float32)
    if not np.isfinite(cast).all() or np.abs(cast).max() > MAX_WEIGHT:
        raise KernelSpecError(
            f"Kernel {shown(spec)} has a value of magnitude {np.abs(weight).max():.3g}; "
            f"the largest allowed is {MAX_WEIGHT:.3g} (float32, which the filters compute in)"
        )
    return weight
