"""Drawing the synthetic images and exact targets, and ``run_synth``."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from convlearn.errors import InputError, invalid_choice
from convlearn.synth.config import MAX_CELL, PATTERNS, SynthConfig, default_stripe, parse_stripe

__all__ = ["SynthResult", "make_image", "make_target", "run_synth"]


def _shapes(height: int, width: int) -> torch.Tensor:
    """Flat grey shapes on a dark ground: a disc, a square, a triangle and a ring.

    Edges in every direction and of several contrasts, for edge detectors; each
    pixel averages 4x4 samples, so the edges are anti-aliased as in a photograph.
    """
    s = 4
    y = (torch.arange(height * s, dtype=torch.float64)[:, None] + 0.5) / (height * s)  # (H*s, 1) in (0, 1)
    x = (torch.arange(width * s, dtype=torch.float64)[None, :] + 0.5) / (width * s)  # (1, W*s)
    X = torch.full((height * s, width * s), 0.2, dtype=torch.float64)
    X[(x - 0.3) ** 2 + (y - 0.3) ** 2 < 0.18**2] = 0.9  # disc
    X[((x - 0.72).abs() < 0.16) & ((y - 0.7).abs() < 0.16)] = 0.6  # square
    X[(y > 0.08) & (y < 0.42) & ((x - 0.76).abs() < (y - 0.08) * 0.6)] = 0.75  # triangle, apex up
    r2 = (x - 0.27) ** 2 + (y - 0.74) ** 2
    X[(r2 < 0.16**2) & (r2 > 0.09**2)] = 0.45  # ring
    return X.reshape(height, s, width, s).mean(dim=(1, 3)).float()


def _noise(height: int, width: int, seed: int, sigma: float) -> torch.Tensor:
    from convlearn.corr import filter2d
    from convlearn.kernels import gaussian_kernel

    generator = torch.Generator().manual_seed(seed)
    white = torch.rand(height, width, generator=generator, dtype=torch.float64)  # (H, W)
    if sigma > 0:
        size = max(3, 2 * round(3 * sigma) + 1)
        size = min(size, 2 * min(height, width) - 1) | 1
        kernel = torch.from_numpy(gaussian_kernel(size, sigma))
        white = filter2d(
            white, kernel, mode="same", border="reflect" if size // 2 < min(height, width) else "replicate"
        )
    lo, hi = white.min(), white.max()
    return ((white - lo) / (hi - lo) if hi > lo else torch.zeros_like(white)).float()


def make_image(config: SynthConfig | None = None, **overrides) -> torch.Tensor:
    """Draw a synthetic image with values in [0, 1].

    Args:
        config: the settings; keyword overrides replace single fields.

    Returns:
        float32 tensor of shape :math:`(height, width)` (swapped when ``horizontal``).

    >>> make_image()[0].tolist()
    [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0]
    """
    c = replace(config or SynthConfig(), **overrides)
    if c.pattern not in PATTERNS:
        raise invalid_choice("pattern", c.pattern, PATTERNS)
    if c.height < 1 or c.width < 1:
        raise InputError(f"Invalid size {c.height}x{c.width}; height and width must be at least 1")
    if c.height * c.width > 2**28:
        raise InputError(f"Size {c.height}x{c.width} is too large for synth (at most 2**28 pixels)")
    if not 1 <= c.cell <= MAX_CELL:
        raise InputError(f"Invalid cell {c.cell}; it must be from 1 to {MAX_CELL}")
    if not -(2**63) <= c.seed <= 2**64 - 1:
        raise InputError(f"Invalid --seed {c.seed}. Expected a whole number from -2**63 to 2**64 - 1")
    start, stop = c.stripe if c.stripe is not None else default_stripe(c.width)
    if not 0 <= start < stop <= c.width:
        raise InputError(f"Invalid stripe {start}:{stop}. Expected 0 <= START < STOP <= {c.width} (the width)")
    rows = torch.arange(c.height)[:, None]  # (H, 1)
    cols = torch.arange(c.width)[None, :]  # (1, W)
    if c.pattern == "stripes":
        X = torch.ones(c.height, c.width)
        X[:, start:stop] = 0  # the notebook's X[:, 2:6] = 0
    elif c.pattern == "diagonal":
        # The notebook's first exercise, an image with diagonal edges: the
        # stripe image sheared one column per row, wrapping around.
        X = (((cols - rows) % c.width < start) | ((cols - rows) % c.width >= stop)).float()
    elif c.pattern == "checker":
        X = (((rows // c.cell) + (cols // c.cell)) % 2 == 0).float()
    elif c.pattern == "shapes":
        X = _shapes(c.height, c.width)
    else:
        X = _noise(c.height, c.width, c.seed, c.smooth)
    return X.T.contiguous() if c.horizontal else X


def make_target(X: torch.Tensor, kernel, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The target ``corr2d(X, K) (+ bias)`` that makes ``(X, target)`` a pair for ``learn``.

    Computed in float64, then returned in ``dtype``: float32 is exact to float32
    rounding, float64 (what ``synth`` writes to ``.npy``) to float64 rounding.

    Shape:
        - X: :math:`(H, W)`
        - Output: :math:`(H - h + 1, W - w + 1)`

    >>> from convlearn.kernels import parse_kernel
    >>> make_target(make_image(), parse_kernel("edge"))[0].tolist()
    [0.0, 1.0, 0.0, 0.0, 0.0, -1.0, 0.0]
    """
    from convlearn.corr import corr2d

    Y = corr2d(X.double(), torch.from_numpy(kernel.weight))  # (Ho, Wo), float64
    if kernel.bias is not None:
        Y = Y + kernel.bias
    return Y.to(dtype)


def _target_kernel(spec: str, height: int, width: int):
    """The kernel of ``--kernel``, parsed and checked against the image's size."""
    from convlearn.kernels import parse_kernel

    K = parse_kernel(spec)
    if K.channels is not None:
        raise InputError(f"--kernel {spec!r} is a colour kernel {K.weight.shape}; synth makes one-plane pairs")
    h, w = K.shape
    if h > height or w > width:
        raise InputError(
            f"Kernel {h}x{w} is larger than the image {height}x{width}. Use a smaller kernel or a larger image"
        )
    return K


#: Where ``synth`` writes when no output is named.
DEFAULT_OUTPUT = "stripes.png"


def _check_outputs(output, target, kernel: str | None, *, overwrite: bool = False) -> str | os.PathLike:
    """Both outputs checked before either is written: formats, directories, not alike, not the kernel file.

    Returns the image's path: ``output``, or :data:`DEFAULT_OUTPUT` when it is None, which replaces an
    existing file only with ``overwrite`` (the user did not choose that name).
    """
    replace_default = overwrite or output is not None
    output = DEFAULT_OUTPUT if output is None else output
    from convlearn.files import check_image_suffix, check_outputs
    from convlearn.kernels import kernel_file_of

    for path in (output, target):
        if path is not None:
            check_image_suffix(path)
    if not replace_default and Path(output).exists():
        raise InputError(
            f"Output {str(output)!r} already exists; refusing to replace it. "
            "Give --overwrite to replace it, or name another OUTPUT"
        )
    check_outputs([("OUTPUT", output), ("--target", target)], [None if kernel is None else kernel_file_of(kernel)])
    return output


@dataclass(frozen=True)
class SynthResult:
    """What :func:`run_synth` wrote."""

    image: torch.Tensor  # (H, W), the values as saved (a picture's levels / 255)
    target: torch.Tensor | None = None  # corr2d(image, kernel) in float64, when a kernel was given
    output: str = DEFAULT_OUTPUT  # where the image was written


def run_synth(
    *,
    output: str | os.PathLike | None = None,
    overwrite: bool = False,
    pattern: str = SynthConfig.pattern,
    height: int = SynthConfig.height,
    width: int = SynthConfig.width,
    stripe: str | None = None,
    horizontal: bool = SynthConfig.horizontal,
    cell: int = SynthConfig.cell,
    seed: int = SynthConfig.seed,
    kernel: str | None = None,
    target: str | os.PathLike | None = None,
) -> SynthResult:
    """Write a synthetic image, and with ``kernel`` its target, as ``convlearn synth`` does.

    Args:
        output: the image (.png, .tif or .npy; a PNG is clipped to [0, 1]); None: :data:`DEFAULT_OUTPUT`.
        overwrite: let the default name replace an existing file (a named ``output`` always may).
        pattern, height, width, horizontal, cell, seed: see :class:`SynthConfig`.
        stripe: ``START:STOP``, the zero columns (default: the middle half).
        kernel: a kernel spec; writes ``target = corr2d(image, kernel)`` to ``target``,
            computed in float64 from the image as saved (its 8-bit levels for a picture).
        target: where to write the target (goes with ``kernel``): ``.npy`` keeps
            float64, ``.tif`` float32, a picture its levels.

    Returns:
        The image and the target written.

    Raises:
        InputError: a bad setting, or ``kernel`` without ``target`` (or the reverse).
    """
    from convlearn.files import write_bytes
    from convlearn.images import decode_image, encode_image

    if (kernel is None) != (target is None):
        raise InputError("--kernel and --target go together: give both to write an input/target pair")
    made_up = output is None and not overwrite  # the default name: never replaces a file
    output = _check_outputs(output, target, kernel, overwrite=overwrite)
    K = None if kernel is None else _target_kernel(kernel, height, width)  # checked before anything is written
    config = SynthConfig(
        pattern=pattern,
        height=height,
        width=width,
        stripe=None if stripe is None else parse_stripe(stripe, width),
        horizontal=horizontal,
        cell=cell,
        seed=seed,
    )
    X = make_image(config)  # (H, W)
    data = encode_image(X.numpy(), Path(output).suffix, scale="clip")
    write_bytes(output, data, exclusive=made_up)
    if K is None:
        return SynthResult(X, output=str(output))
    # The target is computed from the image as saved (8-bit levels / 255 for a
    # picture), so the pair on disk is exact, not off by the image's rounding.
    saved = torch.from_numpy(decode_image(data, str(output), max_pixels=None, dtype=np.float64))  # (H, W)
    Y = make_target(saved, K, dtype=torch.float64)  # (Ho, Wo)
    _write_target(target, Y)
    return SynthResult(saved.float(), Y, output=str(output))


def _write_target(target: str | os.PathLike, Y: torch.Tensor) -> None:
    """``.npy`` holds float64, the target exactly as computed; other formats as :func:`write_image` writes them."""
    from convlearn.files import write_bytes
    from convlearn.images import write_image

    if Path(target).suffix.lower() == ".npy":
        buffer = io.BytesIO()
        np.save(buffer, Y.numpy(), allow_pickle=False)
        write_bytes(target, buffer.getvalue())
    else:
        write_image(target, Y.numpy())
