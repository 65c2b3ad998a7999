"""2-D cross-correlation (corr2d) and its form with a choice of output size and border (filter2d).

corr2d has the notebook's meaning: no kernel flip, and a valid output of shape
``(H - h + 1, W - w + 1)``. The notebook's double loop over pixels survives
only as the reference in the tests. corr2d hands the work to one of the
engines through :mod:`convlearn.corr.engine`, which picks one by kernel size,
kernel rank and device (see :func:`~convlearn.corr.choose_strategy`), or runs
the one asked for with ``strategy=``. When X or K needs a gradient it runs a
differentiable path instead.
"""

from __future__ import annotations

import torch

from convlearn.corr.config import check_border, check_mode, check_strategy
from convlearn.corr.engine import compute, differentiable
from convlearn.corr.padding import pad_same
from convlearn.corr.planes import as_images, check_kernel

__all__ = ["corr2d", "filter2d"]


def corr2d(X: torch.Tensor, K: torch.Tensor, *, strategy: str = "auto") -> torch.Tensor:
    """2-D cross-correlation of an image with a kernel, without flipping it.

    ``Y[i, j] = sum_{a, b} X[i + a, j + b] * K[a, b]``, as in the notebook.

    Every strategy gives this sum to the rounding of X's dtype: ``direct``
    (cache-blocked shift-add; on CUDA one fused kernel), ``separable`` (1-D
    passes over the kernel's rank-1 terms), ``fft`` (overlap-save strips) and
    ``conv2d`` (``F.conv2d``; cuDNN on CUDA, TF32 off). The FFT's error is
    absolute, at most about ``u * log2(n) * sum(|K|) * max(|X|)`` per output
    (``u`` the unit roundoff, ``n`` the points of one strip's FFT; see
    :mod:`convlearn.corr.fft`). When X or K requires a gradient (and grad mode is
    on), ``fft`` and ``conv2d`` run as differentiable torch ops and the others
    as the differentiable shift-add.

    Args:
        X: image(s), floating point.
        K: kernel of shape :math:`(h, w)`; cast to X's dtype and device.
        strategy: ``auto`` (see :func:`~convlearn.corr.choose_strategy`), ``direct``,
            ``separable``, ``fft`` or ``conv2d``.

    Returns:
        The valid correlation, on X's device with X's dtype.

    Shape:
        - X: :math:`(H, W)`, :math:`(B, H, W)` or :math:`(B, 1, H, W)`
        - K: :math:`(h, w)`
        - Output: X's leading shape, then :math:`(H - h + 1, W - w + 1)`

    Raises:
        InputError: a kernel larger than the image, bad shapes, an unknown strategy.
        OutOfMemoryError: the output does not fit even when computed one row band at a time.

    >>> X = torch.arange(9.0).reshape(3, 3)
    >>> corr2d(X, torch.arange(4.0).reshape(2, 2))
    tensor([[19., 25.],
            [37., 43.]])
    """
    check_strategy(strategy)
    Xb, lead = as_images(X)  # (N, H, W)
    K = check_kernel(Xb, K)
    h, w = K.shape
    Ho, Wo = Xb.shape[-2] - h + 1, Xb.shape[-1] - w + 1
    if torch.is_grad_enabled() and (Xb.requires_grad or K.requires_grad):
        out = differentiable(Xb, K, strategy)
    elif Xb.shape[0] == 0:
        out = Xb.new_empty((0, Ho, Wo))
    else:
        with torch.no_grad():
            out = compute(Xb, K, strategy)
    return out.reshape(*lead, Ho, Wo)


def filter2d(
    X: torch.Tensor,
    K: torch.Tensor,
    *,
    mode: str = "valid",
    border: str = "zero",
    anchor: tuple[int, int] | None = None,
    strategy: str = "auto",
) -> torch.Tensor:
    """corr2d with a choice of output size and border rule.

    Args:
        X: image(s).
        K: kernel of shape :math:`(h, w)`.
        mode: ``valid`` (the notebook's shape) or ``same`` (X's size).
        border: for ``same``: ``zero``, ``reflect`` (OpenCV's REFLECT_101),
            ``replicate`` or ``circular``.
        anchor: the kernel's ``(row, col)`` origin for ``same``; default the centre.
        strategy: how to compute, as for :func:`corr2d`.

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
    check_mode(mode)
    check_border(border)
    K = torch.as_tensor(K)
    if mode == "same":
        X = pad_same(X, tuple(K.shape), border, anchor)
    return corr2d(X, K, strategy=strategy)
