"""Training pairs for ``learn``: an input image, the target another program made from it.

Targets arrive as other tools write them, and three things about them matter:

- **Size.** A target of the input's size (a padded, ``same`` output) is fitted on
  its interior, at the centred anchor ``(h // 2, w // 2)`` that OpenCV, SciPy and
  Pillow use; a target of the valid size ``(H - h + 1, W - w + 1)`` is used as it is.
- **Clipping.** An 8- or 16-bit target was rounded and clipped to its type's range,
  so a pixel at the type's minimum or maximum only says "at least" or "at most".
  Those pixels are left out of the fit by default (see :func:`informative_mask`).
- **Several pairs.** ``DIR/inputs/*`` and ``DIR/targets/*`` are matched by file name
  (see :func:`find_pairs`); every solver fits one kernel to all pairs together.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from convlearn.errors import ImageReadError, InputError
from convlearn.images import DEFAULT_MAX_PIXELS, Decoded, decode_with_levels, integer_range, read_with_levels

__all__ = [
    "Pair",
    "PairFiles",
    "align_pair",
    "align_target",
    "find_pairs",
    "informative_mask",
    "integer_range",
    "read_pair",
]


@dataclass
class Pair:
    """One training pair.

    Attributes:
        input: :math:`(H, W)` float tensor; :math:`(3, H, W)` for colour (RGB planes).
        target: :math:`(H, W)` (same-size) or :math:`(H - h + 1, W - w + 1)` (valid) float tensor,
            with a leading 3 for colour.
        input_name, target_name: where they came from, for reports.
        mask: None (every pixel counts) or a bool tensor of the target's shape,
            True where the pixel is used in the fit.
    """

    input: torch.Tensor
    target: torch.Tensor
    input_name: str = "<memory>"
    target_name: str = "<memory>"
    mask: torch.Tensor | None = None


def align_target(
    X: torch.Tensor,
    Y: torch.Tensor,
    kernel_size: tuple[int, int],
    name: str = "target",
    anchor: tuple[int, int] | None = None,
) -> torch.Tensor:
    """Cut a target to the valid output of a ``kernel_size`` correlation of X.

    A valid-sized target is used as it is. A same-sized target, as other tools
    write them after padding, is fitted on its interior, at the centred anchor
    ``(h // 2, w // 2)`` that OpenCV and SciPy use.

    Args:
        X: the input image.
        Y: the target (or its mask: any tensor of the target's shape).
        kernel_size: ``(h, w)``.
        name: the target's name, for the error message.
        anchor: ``(row, col)`` of the output pixel in the kernel for a same-sized
            target; None: the centre ``(h // 2, w // 2)``.

    Returns:
        A view of Y's fitted region.

    Raises:
        InputError: a kernel larger than the input, or a target of neither size.

    Shape:
        - X: :math:`(H, W)`
        - Y: :math:`(H, W)` or :math:`(H - h + 1, W - w + 1)`
        - Output: :math:`(H - h + 1, W - w + 1)`

    >>> align_target(torch.zeros(4, 5), torch.arange(20.0).reshape(4, 5), (3, 3))
    tensor([[ 6.,  7.,  8.],
            [11., 12., 13.]])
    """
    h, w = kernel_size
    H, W = X.shape[-2:]
    Ho, Wo = H - h + 1, W - w + 1
    if Ho < 1 or Wo < 1:
        raise InputError(f"Kernel {h}x{w} is larger than the input image {H}x{W}")
    if tuple(Y.shape[-2:]) == (Ho, Wo):
        return Y
    if tuple(Y.shape[-2:]) == (H, W):
        ay, ax = anchor if anchor is not None else (h // 2, w // 2)
        return Y[..., ay : ay + Ho, ax : ax + Wo]
    raise InputError(
        f"{name} is {Y.shape[-2]}x{Y.shape[-1]}, but its input is {H}x{W}: a target must have the input's size "
        f"or the valid size {Ho}x{Wo} for a {h}x{w} kernel"
    )


def align_pair(pair: Pair, kernel_size: tuple[int, int], anchor: tuple[int, int] | None = None) -> Pair:
    """The pair with its target (and mask) cut to the valid region, see :func:`align_target`.

    >>> p = align_pair(Pair(torch.zeros(4, 5), torch.zeros(4, 5)), (3, 3)); tuple(p.target.shape)
    (2, 3)
    """
    target = align_target(pair.input, pair.target, kernel_size, pair.target_name, anchor)
    mask = None if pair.mask is None else align_target(pair.input, pair.mask, kernel_size, pair.target_name, anchor)
    return replace(pair, target=target, mask=mask)


def informative_mask(
    data: bytes | Decoded, name: str = "target", per_channel: bool = False
) -> tuple[np.ndarray | None, int]:
    """Which pixels of an integer-typed image are not clipped.

    A pixel whose stored level (any colour channel) is its type's minimum or
    maximum, 0 or 255 for 8-bit and 0 or 65535 for 16-bit, was probably clipped
    there by the program that wrote it, so its true value is unknown.

    Args:
        data: the file's bytes (any format :func:`convlearn.images.decode_image` reads),
            or the image already decoded with its levels
            (:func:`convlearn.images.decode_with_levels`).
        name: for messages.
        per_channel: for a colour image, one mask per channel, :math:`(3, H, W)`,
            rather than one leaving out a pixel any of whose channels is clipped.

    Returns:
        ``(mask, excluded)``: a bool array :math:`(H, W)`, True where the pixel is
        usable, and the number of pixels (channel values, per channel) left out; ``(None, 0)`` for float data,
        whose values were not clipped to a type's range.

    >>> import io; buf = io.BytesIO(); np.save(buf, np.array([[0, 7, 255]], np.uint8))
    >>> mask, excluded = informative_mask(buf.getvalue()); mask.tolist(), excluded
    ([[False, True, False]], 2)
    """
    decoded = data if isinstance(data, Decoded) else decode_with_levels(data, name, max_pixels=None)
    if decoded.levels is None or decoded.bounds is None:
        return None, 0
    lo, hi = decoded.bounds
    clipped = (decoded.levels == lo) | (decoded.levels == hi)
    if clipped.ndim == 3 and per_channel:
        clipped = np.moveaxis(clipped, -1, 0)  # (3, H, W)
    elif clipped.ndim == 3:
        clipped = clipped.any(axis=-1)
    return ~clipped, int(clipped.sum())


def read_pair(
    input_path: str | os.PathLike,
    target_path: str | os.PathLike,
    *,
    keep_saturated: bool = False,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    channels: str = "luma",
) -> Pair:
    """Read an input/target pair from files, with the target's clipped pixels masked out.

    Args:
        input_path: the input image.
        target_path: what another program made from it.
        keep_saturated: keep target pixels at their integer type's minimum or
            maximum (by default they are left out, see :func:`informative_mask`).
        max_pixels: Pillow's decompression-bomb limit, see :func:`convlearn.images.read_image`.
        channels: ``luma`` reads one plane; ``each`` or ``full`` read RGB, as (3, H, W),
            and each channel's clipped values are left out of that channel's fit.

    Returns:
        The pair; ``mask`` is None when nothing is left out.

    Raises:
        ImageReadError: a missing or unreadable file.
        InputError: a target whose every pixel is clipped; a single-plane image with colour channels.
    """
    X = _read(input_path, max_pixels, channels)[0]
    Y, data = _read(target_path, max_pixels, channels)
    mask = None
    if not keep_saturated:
        mask_np, excluded = informative_mask(data, str(target_path), per_channel=channels != "luma")
        if mask_np is not None and excluded:
            if mask_np.shape != Y.shape:
                raise ImageReadError(f"{target_path}: its stored levels have shape {mask_np.shape}, not {Y.shape}")
            if not mask_np.any():
                raise InputError(
                    f"Every pixel of {str(target_path)!r} is at its type's minimum or maximum, so none says what the "
                    "filter gave. Use --keep-saturated to fit them anyway"
                )
            mask = torch.from_numpy(np.ascontiguousarray(mask_np))
    return Pair(torch.from_numpy(X), torch.from_numpy(Y), str(input_path), str(target_path), mask)


def _read(path: str | os.PathLike, max_pixels: int | None, channels: str = "luma") -> tuple[np.ndarray, Decoded]:
    # float64: 8- and 16-bit levels divide exactly, so exact filters come back to 1e-14, not 1e-7.
    if channels == "luma":
        # A float32 .npy stays float32: its values are exact there, and the sums are float64 anyway.
        dtype = np.float32 if _stored_dtype(path) == np.float32 else np.float64
        decoded = read_with_levels(path, max_pixels=max_pixels, dtype=dtype)
        return decoded.values, decoded
    # The decoder refuses a single-plane image when R, G and B are asked for.
    decoded = read_with_levels(path, channels="each", max_pixels=max_pixels, dtype=np.float64)
    return np.ascontiguousarray(decoded.values.transpose(2, 0, 1)), decoded  # (3, H, W)


def _stored_dtype(path: str | os.PathLike) -> np.dtype | None:
    """The dtype in a ``.npy`` file's header; None for any other file (or one that cannot be read here)."""
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = (
                np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            )
            return read_header(f)[2]
    except (OSError, ValueError):
        return None


def find_pairs(directory: str | os.PathLike) -> list[tuple[Path, Path]]:
    """Match ``DIR/inputs/*`` with ``DIR/targets/*`` by file name, ignoring the suffix.

    ``inputs/a.png`` pairs with ``targets/a.png`` or ``targets/a.npy``. Hidden
    files (``.name``) and sub-directories are skipped.

    Args:
        directory: the folder holding ``inputs/`` and ``targets/``.

    Returns:
        ``(input, target)`` paths, sorted by name.

    Raises:
        InputError: a missing folder, no files, a name on one side only, or two
            files with the same name but different suffixes on one side.
    """
    root = Path(directory)
    if not root.is_dir():
        raise InputError(f"--pairs {str(root)!r} is not a directory")
    sides = {}
    for side in ("inputs", "targets"):
        folder = root / side
        if not folder.is_dir():
            raise InputError(
                f"--pairs {str(root)!r} has no {side}/ folder; it needs inputs/ and targets/, matched by file name"
            )
        by_stem: dict[str, Path] = {}
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or not path.is_file():
                continue
            if path.stem in by_stem:
                raise InputError(
                    f"{side}/ holds both {by_stem[path.stem].name!r} and {path.name!r}; "
                    "pairs are matched by name without the suffix, so each name must appear once"
                )
            by_stem[path.stem] = path
        sides[side] = by_stem
    inputs, targets = sides["inputs"], sides["targets"]
    lonely = sorted(set(inputs) ^ set(targets))
    if lonely:
        names = ", ".join(
            f"{'inputs' if s in inputs else 'targets'}/{(inputs.get(s) or targets[s]).name}" for s in lonely[:5]
        )
        more = f" and {len(lonely) - 5} more" if len(lonely) > 5 else ""
        raise InputError(f"--pairs {str(root)!r}: no partner with the same name for {names}{more}")
    if not inputs:
        raise InputError(f"--pairs {str(root)!r}: inputs/ and targets/ hold no files")
    return [(inputs[s], targets[s]) for s in sorted(inputs)]


class PairFiles(Sequence[Pair]):
    """Pairs of image files, read one at a time when used.

    Iterating reads each pair as it is reached, so a solver that streams (lstsq)
    holds one pair in memory whatever the number of pairs.

    Args:
        paths: ``(input, target)`` file paths.
        keep_saturated, max_pixels, channels: passed to :func:`read_pair`.
    """

    def __init__(
        self,
        paths: Sequence[tuple[str | os.PathLike, str | os.PathLike]],
        *,
        keep_saturated: bool = False,
        max_pixels: int | None = DEFAULT_MAX_PIXELS,
        channels: str = "luma",
    ) -> None:
        self.paths = [(Path(x), Path(y)) for x, y in paths]
        self.keep_saturated = keep_saturated
        self.max_pixels = max_pixels
        self.channels = channels

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        x, y = self.paths[index]
        return read_pair(x, y, keep_saturated=self.keep_saturated, max_pixels=self.max_pixels, channels=self.channels)

    def __iter__(self) -> Iterator[Pair]:
        for i in range(len(self)):
            yield self[i]
