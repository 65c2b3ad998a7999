"""The ``detect`` pipeline on arrays: correlation, gradient magnitude, Canny, thresholds.

1. the image, as luma or as R, G and B planes (``channels``);
2. the kernel by correlation (:func:`~convlearn.corr.filter2d`: no kernel
   flip), or a gradient pair's magnitude ``sqrt(gx² + gy²)`` (``magnitude``),
   or Canny's edges (``canny``, see :mod:`convlearn.edges`);
3. optionally a threshold, a number or Otsu's, into a binary map.

:func:`detect_image` runs it on one array. :func:`detect_stack`, the step it
shares with the batch runner of :mod:`convlearn.detect.batch`, runs it on a
stack of images of one shape with a config already checked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from convlearn.corr import filter2d
from convlearn.detect.config import DetectConfig, check_config, kernel_channels
from convlearn.errors import InputError
from convlearn.kernels import Kernel, gradient_pair
from convlearn.runtime import resolve_device

__all__ = ["DetectOutput", "apply_kernel", "detect_image", "detect_stack"]


@dataclass(frozen=True)
class DetectOutput:
    """The result for a stack of planes, or for one image (see :func:`detect_image`)."""

    values: torch.Tensor  # the filtered image, edge map or magnitude
    angle: torch.Tensor | None = None  # atan2(gy, gx), when asked for
    threshold: torch.Tensor | None = None  # the threshold used per plane, when asked for; --canny auto: (low, high)


def apply_kernel(image: torch.Tensor | np.ndarray, kernel: Kernel, config: DetectConfig | None = None) -> torch.Tensor:
    """Correlate an image with a kernel (plus its bias, if it has one).

    Args:
        image: float image.
        kernel: from :func:`convlearn.kernels.parse_kernel`.
        config: mode, border and device.

    Returns:
        float32 result on the chosen device.

    Shape:
        - image: :math:`(H, W)` or :math:`(B, H, W)`
        - Output: ``valid``: :math:`(..., H - h + 1, W - w + 1)`; ``same``: the image's shape

    >>> from convlearn.kernels import parse_kernel
    >>> apply_kernel(torch.tensor([[0.0, 1.0, 1.0]]), parse_kernel("edge")).tolist()
    [[-1.0, 0.0]]
    """
    cfg = check_config(config or DetectConfig())  # a mode from the border, the canny thresholds parsed
    device = resolve_device(cfg.device)
    X = torch.as_tensor(image).to(device=device, dtype=torch.float32)
    return _correlate(X, kernel, cfg)


def _correlate(X: torch.Tensor, kernel: Kernel, cfg: DetectConfig) -> torch.Tensor:
    if kernel.channels is not None:
        return _correlate_colour(X, kernel, cfg)
    K = torch.from_numpy(kernel.weight).to(device=X.device, dtype=X.dtype)
    Y = filter2d(X, K, mode=cfg.mode, border=cfg.border, anchor=kernel.anchor)
    if kernel.bias is not None:
        Y = Y + kernel.bias
    return Y


def _correlate_colour(X: torch.Tensor, kernel: Kernel, cfg: DetectConfig) -> torch.Tensor:
    """A colour kernel on R, G, B planes stacked (B*3, H, W): plane o of each image from its
    plane o alone (a (3, h, w) kernel) or from all three (a (3, 3, h, w) kernel), plus bias o."""
    K = torch.from_numpy(kernel.weight).to(device=X.device, dtype=X.dtype)  # (3, h, w) or (3, 3, h, w)
    rgb = X.reshape(-1, 3, *X.shape[-2:])  # (B, 3, H, W)
    out = []
    for o, bias in enumerate(kernel.biases()):
        if K.dim() == 3:
            Y = filter2d(rgb[:, o], K[o], mode=cfg.mode, border=cfg.border, anchor=kernel.anchor)
        else:
            Y = sum(
                filter2d(rgb[:, i], K[o, i], mode=cfg.mode, border=cfg.border, anchor=kernel.anchor) for i in range(3)
            )
        out.append(Y + bias)  # (B, h', w')
    return torch.stack(out, dim=1).reshape(-1, *out[0].shape[-2:])  # (B*3, h', w')


def _pipeline(X: torch.Tensor, kernel: Kernel, cfg: DetectConfig) -> DetectOutput:
    """The pipeline on planes :math:`(N, H, W)` already on the device, with a checked config."""
    from convlearn import edges

    gx = gy = None
    thresholds = None
    if cfg.canny is not None:
        sigma = 1.0 if cfg.sigma is None else cfg.sigma  # None: not given, skimage's 1.0
        if cfg.canny == "auto":
            thresholds = edges.canny_thresholds(X, sigma)  # (N, 2): low, high per plane
            low, high = thresholds[:, 0], thresholds[:, 1]
        else:
            low, high = cfg.canny
        parts = edges.canny_parts(X, low, high, sigma, gradients=cfg.angle, dtype=torch.uint8)  # 0 or 1 a byte
        Y, gx, gy = parts.edges, parts.gx, parts.gy
    elif cfg.magnitude:
        kx, ky = gradient_pair(kernel)
        gx, gy = _correlate(X, kx, cfg), _correlate(X, ky, cfg)
        h, w = min(gx.shape[-2], gy.shape[-2]), min(gx.shape[-1], gy.shape[-1])
        gx, gy = gx[..., :h, :w], gy[..., :h, :w]  # valid mode, unequal shapes: the common top-left part
        Y = edges.gradient_magnitude(gx, gy)
    else:
        Y = _correlate(X, kernel, cfg)
    angle = edges.gradient_angle(gx, gy) if cfg.angle and gx is not None else None
    if cfg.threshold is not None:
        Y, thresholds = edges.apply_threshold(Y, cfg.threshold)
    return DetectOutput(Y, angle, thresholds)


def _to_planes(batch: np.ndarray, channels: str) -> np.ndarray:
    """(B, H, W) stays; (B, H, W, 3) becomes (B*3, H, W)."""
    if channels == "each":
        B, H, W, C = batch.shape
        return np.ascontiguousarray(batch.transpose(0, 3, 1, 2).reshape(B * C, H, W))
    return batch


def _from_planes(Y: torch.Tensor | None, B: int, channels: str) -> torch.Tensor | None:
    """Undo :func:`_to_planes`: (B*3, h, w) becomes (B, h, w, 3)."""
    if Y is None or channels != "each":
        return Y
    return Y.reshape(B, 3, *Y.shape[-2:]).permute(0, 2, 3, 1)


def detect_stack(images: np.ndarray, kernel: Kernel, config: DetectConfig, device: torch.device) -> DetectOutput:
    """The pipeline on images of one shape, stacked, with a config :func:`check_config` has checked.

    Args:
        images: float32 images, grey or (with ``channels="each"``) R, G and B.
        kernel: from :func:`~convlearn.kernels.parse_kernel`.
        config: from :func:`check_config` (after :func:`kernel_channels`).
        device: from :func:`~convlearn.runtime.resolve_device`.

    Returns:
        The results on ``device``, one per image (Canny's edges as uint8 0 and 1,
        a byte a pixel; the rest float32); the thresholds as :math:`(B, P)`, one per
        plane (P is 1, or 3 with ``channels="each"``; ``--canny auto``: low and high, 2P).

    Shape:
        - images: :math:`(B, H, W)`, or :math:`(B, H, W, 3)` with ``channels="each"``
        - Output: :math:`(B, h, w)` or :math:`(B, h, w, 3)`. With ``magnitude`` in
          ``valid`` mode the pair's outputs are cut to their common top-left part.

    >>> from convlearn.kernels import parse_kernel
    >>> cfg = check_config(DetectConfig(magnitude=True))
    >>> images = np.array([[[0.0, 3.0], [4.0, 0.0]]], np.float32)  # one 2x2 image
    >>> detect_stack(images, parse_kernel("edge"), cfg, torch.device("cpu")).values
    tensor([[[5.]]])
    """
    B = len(images)
    X = torch.from_numpy(_to_planes(images, config.channels)).to(device)  # (N, H, W)
    with torch.no_grad():
        out = _pipeline(X, kernel, config)
    return DetectOutput(
        _from_planes(out.values, B, config.channels),
        _from_planes(out.angle, B, config.channels),
        None if out.threshold is None else out.threshold.reshape(B, -1),
    )


def detect_image(image: np.ndarray | torch.Tensor, kernel: Kernel, config: DetectConfig | None = None) -> DetectOutput:
    """Run the ``detect`` pipeline on one image.

    Args:
        image: float image, one plane, or three (R, G, B) with ``channels="each"``.
        kernel: from :func:`~convlearn.kernels.parse_kernel`.
        config: see :class:`DetectConfig`.

    Returns:
        The result on the device; colour results are :math:`(h, w, 3)`.

    Shape:
        - image: :math:`(H, W)`, or :math:`(H, W, 3)` with ``channels="each"``
        - Output: :math:`(h, w)` or :math:`(h, w, 3)`

    >>> from convlearn.kernels import parse_kernel
    >>> detect_image(np.array([[0.0, 1.0, 1.0]]), parse_kernel("edge")).values
    tensor([[-1.,  0.]])
    """
    config = check_config(kernel_channels(kernel, config or DetectConfig()))
    array = np.asarray(image.cpu() if isinstance(image, torch.Tensor) else image, dtype=np.float32)
    want = 3 if config.channels == "each" else 2
    if array.ndim != want or (want == 3 and array.shape[-1] != 3):
        form = "(H, W, 3)" if want == 3 else "(H, W)"
        raise InputError(f"With channels={config.channels!r} the image must be {form}, got {array.shape}")
    out = detect_stack(array[None], kernel, config, resolve_device(config.device))
    return DetectOutput(
        out.values[0],
        None if out.angle is None else out.angle[0],
        None if out.threshold is None else out.threshold[0],
    )
