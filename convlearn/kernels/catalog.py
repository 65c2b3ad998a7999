"""What ``convlearn kernels`` shows: the built-in table, or one kernel with its pairing and anchor."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from convlearn.kernels.export import convolution_kernel
from convlearn.kernels.kernel import Kernel
from convlearn.kernels.kernel_file import kernel_to_json
from convlearn.kernels.spec import parse_kernel
from convlearn.kernels.table import KERNELS, KernelInfo, gradient_pair

__all__ = ["BuiltinEntry", "KernelDetails", "describe_kernel", "list_builtins", "run_kernels"]


@dataclass(frozen=True)
class BuiltinEntry:
    """One built-in kernel, made with its default parameters."""

    info: KernelInfo
    weight: np.ndarray  # (h, w), float64

    @property
    def gradient(self) -> tuple[str, str] | None:
        """The ``(gx, gy)`` names ``--magnitude`` pairs it as, or None when it pairs with its transpose."""
        info = self.info
        if not info.pair:
            return None
        return (info.name, info.pair) if info.axis == "x" else (info.pair, info.name)


@dataclass(frozen=True)
class KernelDetails:
    """One kernel and how other parts of convlearn, and other tools, read it."""

    kernel: Kernel
    convention: str | None  # the built-in's sign convention; None for any other kernel
    gradient: tuple[str, str] | None  # the names of the gx and gy kernels --magnitude combines; None: colour
    convolution: Kernel | None  # the same filter for a tool that convolves (ImageMagick's Convolve); None: colour


def list_builtins() -> list[BuiltinEntry]:
    """Every built-in kernel, in table order, made with its default parameters.

    Returns:
        One entry per row of :data:`~convlearn.kernels.KERNELS`.

    >>> list_builtins()[0].info.name, list_builtins()[0].gradient
    ('edge', ('edge', 'edge-t'))
    """
    return [BuiltinEntry(info, info.make([])) for info in KERNELS.values()]


def describe_kernel(kernel: Kernel) -> KernelDetails:
    """``kernel``'s built-in convention (if any), its ``--magnitude`` pair and its convolution form.

    Args:
        kernel: any kernel; a built-in is recognised by its name (``gaussian:5,1.2`` as ``gaussian``).

    Returns:
        The kernel with what ``convlearn kernels SPEC`` shows about it.

    >>> describe_kernel(parse_kernel("sobel-y")).gradient
    ('sobel-x', 'sobel-y')
    """
    info = KERNELS.get(kernel.name.split(":", 1)[0])
    if kernel.channels is not None:  # a colour kernel file: no gradient pair, no one-kernel convolution form
        return KernelDetails(kernel=kernel, convention=None, gradient=None, convolution=None)
    gx, gy = gradient_pair(kernel)
    return KernelDetails(
        kernel=kernel,
        convention=None if info is None else info.convention,
        gradient=(gx.name, gy.name),
        convolution=convolution_kernel(kernel),
    )


def run_kernels(*, spec: str | None = None, as_json: bool = False) -> str | list[BuiltinEntry] | KernelDetails:
    """What ``convlearn kernels [SPEC] [--json]`` shows.

    Args:
        spec: a kernel spec (see :func:`~convlearn.kernels.parse_kernel`), or None for the built-ins.
        as_json: give JSON text instead: every built-in's default matrix by name,
            or the kernel as a kernel file that ``detect --kernel`` reads back.

    Returns:
        The JSON text (ending in a newline) when ``as_json``; else the built-ins
        (:func:`list_builtins`) or the kernel's details (:func:`describe_kernel`).

    Raises:
        KernelSpecError: a bad spec.

    >>> run_kernels(spec="edge", as_json=True).splitlines()[0]
    '{'
    """
    if spec is None:
        if as_json:
            return json.dumps({e.info.name: e.weight.tolist() for e in list_builtins()}, indent=2) + "\n"
        return list_builtins()
    kernel = parse_kernel(spec)
    return kernel_to_json(kernel) if as_json else describe_kernel(kernel)
