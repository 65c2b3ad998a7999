"""One file through ``restore``: read it (with a JPEG's tables), restore its planes, write it atomically."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from convlearn.files import write_encoded
from convlearn.images.stdio import encode_output, read_decoded
from convlearn.kernels import Kernel
from convlearn.restore.config import RestoreConfig, jpeg_noise
from convlearn.restore.files import RestoredFile
from convlearn.restore.result import RestoreResult
from convlearn.restore.run import restore_planes

__all__ = ["restore_file"]


def restore_file(
    source: str, target: str | None, kernel: Kernel, config: RestoreConfig, settings: dict[str, Any], device
) -> RestoredFile:
    """Read ``source``, undo ``kernel``'s blur, write ``target`` (``-`` is stdout); the file's record.

    The noise the strength is chosen from is the file's own: a JPEG's quantisation
    tables, else the 8- or 16-bit rounding its values sit on, else fitted.
    """
    decoded = read_decoded(
        source,
        channels=settings["channels"],
        max_pixels=settings["max_pixels"],
        exif_orientation=not settings["raw_orientation"],
    )
    noise = jpeg_noise(decoded.quantization) if decoded.quantization else None
    values = torch.from_numpy(decoded.values)
    planes = values.permute(2, 0, 1) if values.dim() == 3 else values[None]  # (N, H, W)
    del decoded
    result = restore_planes(
        planes.to(device),
        kernel,
        method=config.method,
        strength=config.strength,
        mode=config.mode,
        border=config.border,
        noise=noise,
    )
    del planes, values
    out = result.planes.cpu()
    image = (out.permute(1, 2, 0) if out.shape[0] == 3 else out[0]).numpy()  # (H, W) or (H, W, 3)
    written = _write(target, image, result, settings)
    return RestoredFile(source, written, tuple(image.shape), _summary(result))


def _write(target: str | None, image: np.ndarray, result: RestoreResult, settings: dict[str, Any]) -> str | None:
    """Encode and write the restored image; its PNG depth follows the input's unless given."""
    if target is None:
        return None
    depth = settings["bit_depth"]
    if depth is None:
        sixteen = result.reports[0].noise_source == "16-bit rounding" and image.ndim == 2
        depth = 16 if sixteen else 8
    options = {"scale": settings["scale"], "bit_depth": depth, "fmt": settings["fmt"]}
    data = encode_output(target, image, **options)
    return write_encoded(target, data)


def _summary(result: RestoreResult) -> str:
    """The solve in one line; with several planes, each plane's strength."""
    if len(result.reports) == 1 or result.reports[0].method != "wiener":
        return result.summary()
    strengths = ", ".join(f"{r.strength:.3g}" for r in result.reports)
    return f"{result.summary()} (R, G, B strengths {strengths})"
