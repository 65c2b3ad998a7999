"""2-D cross-correlation (corr2d) and its padded ``same`` form.

corr2d has the notebook's meaning: no kernel flip, and a valid output of shape
``(H - h + 1, W - w + 1)``. The compute is vectorised; the notebook's double
loop over pixels survives only as the reference in the tests.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from convlearn.errors import InputError, invalid_choice

__all__ = ["BORDERS", "MODES", "corr2d", "filter2d", "pad_same"]

#: Output sizes: ``valid`` is the notebook's, ``same`` keeps the input's size.
MODES = ("valid", "same")
#: Border rules for ``same``. ``reflect`` is torch's reflect, OpenCV's BORDER_REFLECT_101.
BORDERS = ("zero", "reflect", "replicate", "circular")
_TORCH_PAD = {"zero": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


def _as_batch(X: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
    """View X as (N, H, W), remembering the leading shape to restore."""
    if not isinstance(X, torch.Tensor):
        raise InputError(f"corr2d expects a torch.Tensor image, got {type(X).__name__}")
    if X.dim() not in (2, 3, 4) or (X.dim() == 4 and X.shape[1] != 1):
        raise InputError(f"corr2d expects an image of shape (H, W), (B, H, W) or (B, 1, H, W), got {tuple(X.shape)}")
    lead = tuple(X.shape[:-2])
    return X.reshape(-1, *X.shape[-2:]), lead


def _check_kernel(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    if not isinstance(K, torch.Tensor):
        K = torch.as_tensor(K)
    if K.dim() != 2 or K.numel() == 0:
        raise InputError(f"corr2d expects a non-empty 2-D kernel, got shape {tuple(K.shape)}")
    h, w = K.shape
    H, W = X.shape[-2:]
    if h > H or w > W:
        raise InputError(f"Kernel {h}x{w} is larger than the image {H}x{W}. Use a smaller kernel or a larger image")
    if not X.is_floating_point():
        raise InputError(f"corr2d expects a floating-point image, got {X.dtype}")
    return K.to(device=X.device, dtype=X.dtype)


def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """2-D cross-correlation of an image with a kernel, without flipping it.

    ``Y[i, j] = sum_{a, b} X[i + a, j + b] * K[a, b]``, as in the notebook.

    Args:
        X: image(s), floating point.
        K: kernel of shape :math:`(h, w)`; cast to X's dtype and device.

    Returns:
        The valid correlation, on X's device with X's dtype.

    Shape:
        - X: :math:`(H, W)`, :math:`(B, H, W)` or :math:`(B, 1, H, W)`
        - K: :math:`(h, w)`
        - Output: X's leading shape, then :math:`(H - h + 1, W - w + 1)`

    Raises:
        InputError: a kernel larger than the image, or bad shapes.

    >>> X = torch.arange(9.0).reshape(3, 3)
    >>> corr2d(X, torch.arange(4.0).reshape(2, 2))
    tensor([[19., 25.],
            [37., 43.]])
    """
    Xb, lead = _as_batch(X)  # (N, H, W)
    K = _check_kernel(Xb, K)
    h, w = K.shape
    Ho, Wo = Xb.shape[-2] - h + 1, Xb.shape[-1] - w + 1
    # Shift-add: one fused multiply-add per kernel tap over a strided view of
    # the image, so no pixel loop and no (N, h*w, Ho*Wo) unfold buffer.
    out = None
    for a in range(h):
        for b in range(w):
            term = Xb[:, a : a + Ho, b : b + Wo] * K[a, b]  # (N, Ho, Wo)
            out = term if out is None else out.add_(term) if not out.requires_grad else out + term
    return out.reshape(*lead, Ho, Wo)


def pad_same(
    X: torch.Tensor, kernel_shape: tuple[int, int], border: str = "zero", anchor: tuple[int, int] | None = None
) -> torch.Tensor:
    """Pad X so that a valid corr2d with a kernel of ``kernel_shape`` keeps X's size.

    The output pixel sits at the kernel's ``anchor`` (default: the centre
    ``(h // 2, w // 2)``, as in OpenCV and SciPy).

    Shape:
        - X: :math:`(H, W)`, :math:`(B, H, W)` or :math:`(B, 1, H, W)`
        - Output: X's leading shape, then :math:`(H + h - 1, W + w - 1)`
    """
    if border not in BORDERS:
        raise invalid_choice("border", border, BORDERS)
    h, w = kernel_shape
    ay, ax = anchor if anchor is not None else (h // 2, w // 2)
    Xb, lead = _as_batch(X)
    H, W = Xb.shape[-2:]
    pads = (ax, w - 1 - ax, ay, h - 1 - ay)  # left, right, top, bottom
    if border == "reflect" and (max(ay, h - 1 - ay) >= H or max(ax, w - 1 - ax) >= W):
        raise InputError(
            f"Border 'reflect' needs an image larger than the kernel's reach; the image is {H}x{W} for a {h}x{w} kernel"
        )
    if border == "circular" and (max(ay, h - 1 - ay) > H or max(ax, w - 1 - ax) > W):
        raise InputError(
            f"Border 'circular' needs an image at least as large as the kernel's reach; the image is {H}x{W}"
        )
    padded = F.pad(Xb.unsqueeze(1), pads, mode=_TORCH_PAD[border]).squeeze(1)  # (N, H+h-1, W+w-1)
    return padded.reshape(*lead, *padded.shape[-2:])


def filter2d(
    X: torch.Tensor,
    K: torch.Tensor,
    *,
    mode: str = "valid",
    border: str = "zero",
    anchor: tuple[int, int] | None = None,
) -> torch.Tensor:
    """corr2d with a choice of output size and border rule.

    Args:
        X: image(s).
        K: kernel of shape :math:`(h, w)`.
        mode: ``valid`` (the notebook's shape) or ``same`` (X's size).
        border: for ``same``: ``zero``, ``reflect`` (OpenCV's REFLECT_101),
            ``replicate`` or ``circular``.
        anchor: the kernel's ``(row, col)`` origin for ``same``; default the centre.

    Returns:
        The correlation; ``same`` matches ``cv2.filter2D`` with the same border.

    Shape:
        - X: :math:`(H, W)`, :math:`(B, H, W)` or :math:`(B, 1, H, W)`
        - Output: ``valid``: :math:`(..., H - h + 1, W - w + 1)`; ``same``: X's shape

    >>> filter2d(torch.ones(3, 3), torch.ones(3, 3), mode="same")
    tensor([[4., 6., 4.],
            [6., 9., 6.],
            [4., 6., 4.]])
    """
    if mode not in MODES:
        raise invalid_choice("mode", mode, MODES)
    if border not in BORDERS:
        raise invalid_choice("border", border, BORDERS)
    K = torch.as_tensor(K)
    if mode == "same":
        X = pad_same(X, tuple(K.shape), border, anchor)
    return corr2d(X, K)
