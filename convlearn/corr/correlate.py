"""2-D cross-correlation (corr2d) and its padded ``same`` form.

corr2d has the notebook's meaning: no kernel flip, and a valid output of shape
``(H - h + 1, W - w + 1)``. The notebook's double loop over pixels survives
only as the reference in the tests. corr2d picks one of the strategies of
:mod:`convlearn.corr.strategies` by kernel size, kernel rank and device (see
:func:`choose_strategy`), or the one asked for with ``strategy=``. When X or K
needs a gradient it runs a differentiable path instead.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from convlearn.corr import strategies
from convlearn.corr.fft import FftPlan, fast_size, fft_corr2d_differentiable, fft_rows
from convlearn.errors import InputError, OutOfMemoryError, invalid_choice, is_device_out_of_memory

__all__ = [
    "BORDERS",
    "MODES",
    "STRATEGIES",
    "as_planes",
    "choose_strategy",
    "corr2d",
    "filter2d",
    "pad_same",
]

#: Output sizes: ``valid`` is the notebook's, ``same`` keeps the input's size.
MODES = ("valid", "same")
#: Border rules for ``same``. ``reflect`` is torch's reflect, OpenCV's BORDER_REFLECT_101.
BORDERS = ("zero", "reflect", "replicate", "circular")
#: How corr2d computes; ``auto`` picks one of the others (see :func:`choose_strategy`).
STRATEGIES = ("auto", "direct", "separable", "fft", "conv2d")
_TORCH_PAD = {"zero": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}

#: What the FFT costs per output pixel, in shift-add taps. CPU: 2-core sandbox,
#: float32, 512² and 2048²: a 7x7 direct sum (49 taps) took about as long as the
#: FFT, 9x9 (81) took longer, and separable passes over a 31x31 Gaussian (62)
#: about as long; so 64 (OpenCV switches to its DFT at 11x11). CUDA: not
#: measured; OpenCV's 11x11 until benchmarks/gpu_check.sh says otherwise.
FFT_COST_TAPS = {"cpu": 64, "cuda": 121}
#: On CUDA, auto compiles the fused shift-add only for outputs at least this
#: large (pixels); smaller ones go to cuDNN, whose speed there should make the
#: compile (seconds) not worth it. A guess: not yet measured on a GPU.
FUSED_MIN_OUTPUTS = 1 << 20
_FFT_DTYPES = (torch.float32, torch.float64)


def as_planes(X: torch.Tensor, what: str) -> tuple[torch.Tensor, tuple[int, ...]]:
    """View X of shape (..., H, W) as planes (N, H, W), and give the leading shape to restore.

    Args:
        X: a floating-point tensor of shape (..., H, W).
        what: the caller's name, for the error message.

    Returns:
        ``(planes, lead)``: ``planes`` of shape (N, H, W), a view where the
        layout allows, and ``lead = X.shape[:-2]``.
    """
    if not isinstance(X, torch.Tensor):
        raise InputError(f"{what} expects a torch.Tensor, got {type(X).__name__}")
    if X.dim() < 2:
        raise InputError(f"{what} expects planes of shape (..., H, W), got {tuple(X.shape)}")
    if not X.is_floating_point():
        raise InputError(f"{what} expects a floating-point tensor, got {X.dtype}")
    return X.reshape(-1, *X.shape[-2:]), tuple(X.shape[:-2])


def _as_batch(X: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
    """View an image (H, W), (B, H, W) or (B, 1, H, W) as (N, H, W), remembering the leading shape."""
    if isinstance(X, torch.Tensor) and (X.dim() not in (2, 3, 4) or (X.dim() == 4 and X.shape[1] != 1)):
        raise InputError(f"corr2d expects an image of shape (H, W), (B, H, W) or (B, 1, H, W), got {tuple(X.shape)}")
    return as_planes(X, "corr2d")


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


def choose_strategy(X: torch.Tensor, K: torch.Tensor) -> str:
    """The strategy ``corr2d(X, K)`` uses with ``strategy="auto"`` and no gradient.

    A cost model in shift-add taps per output pixel: ``direct`` costs ``h * w``,
    ``separable`` ``rank * (h + w)`` (only for kernels at least 2x2), ``fft``
    a constant per device (``FFT_COST_TAPS``); the cheapest wins. An image
    holding inf or NaN always gets ``direct``, which puts them where the
    notebook's loop does (the FFT spreads them over a strip). On CUDA a
    direct sum runs as the fused, compiled shift-add when ``torch.compile``
    works and the output has at least ``FUSED_MIN_OUTPUTS`` pixels, and as
    cuDNN's ``conv2d`` otherwise.

    Args:
        X: image(s), as for :func:`corr2d`.
        K: kernel :math:`(h, w)`.

    Returns:
        One of ``direct``, ``separable``, ``fft``, ``conv2d``.

    >>> choose_strategy(torch.zeros(64, 64), torch.ones(3, 3))  # a box: rank 1
    'separable'
    >>> choose_strategy(torch.zeros(64, 64), torch.randn(3, 3))
    'direct'
    >>> choose_strategy(torch.zeros(64, 64), torch.randn(15, 15))
    'fft'
    """
    Xb, _ = _as_batch(X)
    K = _check_kernel(Xb, K)
    return _choose(Xb, K)


def _choose(Xb: torch.Tensor, K: torch.Tensor) -> str:
    h, w = K.shape
    device = Xb.device.type if Xb.device.type in FFT_COST_TAPS else "cuda"
    cost = {"direct": h * w}
    if Xb.dtype in _FFT_DTYPES:
        cost["fft"] = FFT_COST_TAPS[device]
        if h > 1 and w > 1 and bool(torch.isfinite(K).all()):
            cost["separable"] = max(1, strategies.kernel_rank(K)) * (h + w)
    best = min(cost, key=lambda name: (cost[name], name != "direct"))  # ties go to direct
    # The FFT would spread an inf or NaN over its whole strip, and the separable
    # passes can turn inf into NaN. The sum finds them in one pass with no
    # temporary (a finite image whose sum overflows also lands on direct: fine).
    if best != "direct" and not math.isfinite(strategies.on_worker(lambda: float(Xb.sum()), Xb.device)):
        best = "direct"
    if best == "direct" and Xb.device.type == "cuda":
        N, H, W = Xb.shape
        large = N * (H - h + 1) * (W - w + 1) >= FUSED_MIN_OUTPUTS
        return "direct" if large and strategies.compile_enabled(Xb.device, h * w) else "conv2d"
    return best


def _shift_add_autograd(Xb: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """The differentiable shift-add: one multiply-add per tap over a strided view, out of place."""
    h, w = K.shape
    Ho, Wo = Xb.shape[-2] - h + 1, Xb.shape[-1] - w + 1
    out = None
    for a in range(h):
        for b in range(w):
            term = Xb[:, a : a + Ho, b : b + Wo] * K[a, b]  # (N, Ho, Wo)
            out = term if out is None else out.add_(term) if not out.requires_grad else out + term
    return out


def _differentiable(Xb: torch.Tensor, K: torch.Tensor, strategy: str) -> torch.Tensor:
    """corr2d with autograd: the FFT or conv2d when asked for, else the shift-add."""
    if strategy == "fft":
        _check_fft_dtype(Xb)
        return fft_corr2d_differentiable(Xb, K)
    if strategy == "conv2d":
        with strategies.cudnn_exact(Xb.device):
            return F.conv2d(Xb[:, None], K[None, None])[:, 0]
    return _shift_add_autograd(Xb, K)


def _check_fft_dtype(Xb: torch.Tensor) -> None:
    if Xb.dtype not in _FFT_DTYPES:
        raise InputError(f"Strategy 'fft' needs a float32 or float64 image, got {Xb.dtype}")


def _tiling(name: str, Xb: torch.Tensor, K: torch.Tensor) -> strategies.Tiling:
    N, H, W = Xb.shape
    h, w = K.shape
    if name == "fft":
        rows = fft_rows(h, H)
        if Xb.device.type != "cpu":  # on a GPU, strips as large as the budget allows
            rows = max(rows, strategies.tiling_for(N, fast_size(H), fast_size(W), (h, w), Xb.device).rows)
        return strategies.tiling_for(N, H, W, (h, w), Xb.device, rows=rows, fast_cols=True)
    return strategies.tiling_for(N, H, W, (h, w), Xb.device)


def _run(name: str, Xb: torch.Tensor, K: torch.Tensor, tiling: strategies.Tiling) -> torch.Tensor:
    """Run one strategy at one tile size, without autograd."""
    N, H, W = Xb.shape
    h, w = K.shape
    whole = tiling.images >= N and tiling.rows >= H - h + 1 and tiling.cols >= W - w + 1
    if name == "fft":
        plan = FftPlan(K, tiling.rows, min(W, tiling.cols + w - 1))
        return strategies.run_tiled(Xb, (h, w), tiling, plan)
    if name == "separable" and bool(torch.isfinite(K).all()):
        tile = strategies.separable_tile(strategies.separable_factors(K), Xb)
        return strategies.run_tiled(Xb, (h, w), tiling, tile)
    if name == "conv2d":
        if whole and Xb.device.type != "cpu":
            with strategies.cudnn_exact(Xb.device):
                return F.conv2d(Xb[:, None], K[None, None])[:, 0]
        return strategies.run_tiled(Xb, (h, w), tiling, strategies.conv2d_tile(K))
    # direct (and separable on a kernel with inf or NaN, where it is the same sum)
    if strategies.compile_enabled(Xb.device, h * w):
        if whole:
            return strategies.fused_shift_add((h, w))(Xb, K)
        return strategies.run_tiled(Xb, (h, w), tiling, strategies.fused_tile(K))
    return strategies.run_tiled(Xb, (h, w), tiling, strategies.direct_tile(K))


def _fast(Xb: torch.Tensor, K: torch.Tensor, strategy: str) -> torch.Tensor:
    """corr2d without autograd; on out of memory, again in smaller tiles."""
    name = _choose(Xb, K) if strategy == "auto" else strategy
    if name == "fft":
        _check_fft_dtype(Xb)
    tiling = _tiling(name, Xb, K)
    while True:
        try:
            return _run(name, Xb, K, tiling)
        except Exception as e:
            if not is_device_out_of_memory(e):
                raise
            failed = tiling
        # Out of the except block, so the failed attempt's tensors are freed first.
        tiling = failed.smaller()
        if Xb.device.type == "cuda":
            torch.cuda.empty_cache()
        if tiling is None:
            N, H, W = Xb.shape
            raise OutOfMemoryError(
                f"corr2d ran out of {Xb.device.type} memory even one image row band at a time "
                f"({N}x{H}x{W} image); use a smaller image or batch, or another device"
            )


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
        strategy: ``auto`` (see :func:`choose_strategy`), ``direct``,
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
    if strategy not in STRATEGIES:
        raise invalid_choice("strategy", strategy, STRATEGIES)
    Xb, lead = _as_batch(X)  # (N, H, W)
    K = _check_kernel(Xb, K)
    h, w = K.shape
    Ho, Wo = Xb.shape[-2] - h + 1, Xb.shape[-1] - w + 1
    if torch.is_grad_enabled() and (Xb.requires_grad or K.requires_grad):
        out = _differentiable(Xb, K, strategy)
    elif Xb.shape[0] == 0:
        out = Xb.new_empty((0, Ho, Wo))
    else:
        with torch.no_grad():
            out = _fast(Xb, K, strategy)
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
    if mode not in MODES:
        raise invalid_choice("mode", mode, MODES)
    if border not in BORDERS:
        raise invalid_choice("border", border, BORDERS)
    K = torch.as_tensor(K)
    if mode == "same":
        X = pad_same(X, tuple(K.shape), border, anchor)
    return corr2d(X, K, strategy=strategy)
