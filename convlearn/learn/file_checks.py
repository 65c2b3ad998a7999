"""What :func:`convlearn.learn.run_learn` checks about its files before a pair is read.

The pairs' paths, one target per input; the kernel size and the reference kernel, which must agree; the outputs, each
writable and none a file being read; the kernel against every input's size,
from the images' headers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from convlearn.errors import InputError
from convlearn.files import check_outputs
from convlearn.images import image_size
from convlearn.learn.config import AUTO, NOTEBOOK_SIZE, check_size, parse_size
from convlearn.learn.pairs import find_pairs

__all__ = ["check_kernel_fits", "check_output_paths", "pair_paths", "size_and_reference"]


def pair_paths(
    inputs: Sequence[str | os.PathLike], targets: Sequence[str | os.PathLike], pairs_dir: str | os.PathLike | None
) -> list[tuple]:
    """The ``(input, target)`` paths: those given one by one, then those matched in ``pairs_dir``.

    Raises:
        InputError: not one target per input, or a bad ``--pairs`` directory (see :func:`find_pairs`).

    >>> pair_paths(["a.png"], ["b.png"], None)
    [('a.png', 'b.png')]
    """
    if len(inputs) != len(targets):
        raise InputError(f"Got {len(inputs)} --input and {len(targets)} --target; give one target per input")
    return list(zip(inputs, targets, strict=True)) + (find_pairs(pairs_dir) if pairs_dir is not None else [])


def size_and_reference(kernel_size, reference: str | None, channels: str, paths: list[tuple]):
    """The kernel size (``HxW``, ``auto`` by default with pairs, the notebook's without) and the parsed reference.

    With ``auto`` and a reference, the size is the reference's: like is compared with like.

    Raises:
        InputError: a bad size, a bad reference, or a reference of another size.
    """
    size = _kernel_size(kernel_size if kernel_size is not None else AUTO if paths else NOTEBOOK_SIZE)
    ref = _reference(reference, size, channels)
    if ref is not None and size == AUTO:  # compare like with like: learn at the reference's size
        size = ref.shape
    return size, ref


def check_output_paths(
    output: str | os.PathLike | None, others: Sequence[str | os.PathLike], paths: list[tuple], reference: str | None
) -> None:
    """Every output checked before the first is written: writable, not alike, none a pair's file or the reference."""
    from convlearn.kernels import kernel_file_of

    read = [p for pair in paths for p in pair] + [None if reference is None else kernel_file_of(reference)]
    check_outputs([("--output", output), *(("--plot", o) for o in others)], read)


def check_kernel_fits(size: tuple[int, int], paths: list[tuple]) -> None:
    """Refuse a kernel larger than an input image, from the images' headers, before any memory is set aside for it.

    With no pair, the notebook's 6x8 image is the input.
    """
    h, w = size
    if paths:
        sizes = [image_size(x) for x, _ in paths]
    else:
        from convlearn.learn.problem import notebook_image

        sizes = [tuple(notebook_image().shape)]
    for found, (x, _) in zip(sizes, paths or [("synth:stripes", None)], strict=True):
        if found is not None and (h > found[0] or w > found[1]):
            raise InputError(f"Kernel {h}x{w} is larger than the input image {found[0]}x{found[1]} ({x})")


def _kernel_size(value: str | tuple[int, int]) -> tuple[int, int] | str:
    """``HxW`` parsed, ``auto`` kept, or ``(h, w)`` checked."""
    if isinstance(value, str):
        return AUTO if value.strip().lower() == AUTO else parse_size(value)
    size = (int(value[0]), int(value[1]))
    check_size(size)
    return size


def _reference(spec: str | None, size: tuple[int, int] | str, channels: str = "luma"):
    """The reference kernel of a spec, checked to be of the size being learned; None without a spec."""
    from convlearn.kernels import parse_kernel

    if spec is None:
        return None
    if channels != "luma":
        raise InputError(f"--reference compares a one-plane kernel; it cannot be used with --channels {channels}")
    ref = parse_kernel(spec)
    if ref.channels is not None:
        raise InputError(f"--reference {spec!r} is a colour kernel {ref.weight.shape}; give a one-plane kernel")
    if size != AUTO and ref.shape != size:
        raise InputError(
            f"--reference {spec!r} is {ref.shape[0]}x{ref.shape[1]}, but --kernel-size is {size[0]}x{size[1]}; "
            "give a reference of the size being learned"
        )
    return ref
