"""Learning a convolution kernel from input/target pairs.

The default problem is the notebook's: X is the striped 6x8 image, Y is
``corr2d(X, [[1, -1]])``, and a ``(1, 2)`` kernel is trained by SGD with
learning rate 0.03 on the summed squared error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from convlearn.corr import corr2d
from convlearn.errors import InputError, TrainingError

__all__ = [
    "Conv2D",
    "LearnConfig",
    "LearnResult",
    "Pair",
    "align_target",
    "normal_equations",
    "notebook_pair",
    "safe_step",
    "train_sgd",
]


class Conv2D(nn.Module):
    """The notebook's layer: ``corr2d(x, weight) + bias``.

    The weight starts ~ U(0, 1) and the bias at 0, as in the notebook.

    Args:
        kernel_size: ``(h, w)``.

    Shape:
        - Input: :math:`(H, W)` or :math:`(B, H, W)`
        - Output: :math:`(..., H - h + 1, W - w + 1)`

    >>> layer = Conv2D((1, 2)); layer(torch.ones(6, 8)).shape
    torch.Size([6, 7])
    """

    def __init__(self, kernel_size: tuple[int, int]) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return corr2d(x, self.weight) + self.bias


@dataclass
class Pair:
    """One training pair, with the target cut to the valid region of the input.

    Attributes:
        input: :math:`(H, W)` float tensor.
        target: :math:`(H - h + 1, W - w + 1)` float tensor.
        input_name, target_name: where they came from, for reports.
    """

    input: torch.Tensor
    target: torch.Tensor
    input_name: str = "<memory>"
    target_name: str = "<memory>"


def align_target(X: torch.Tensor, Y: torch.Tensor, kernel_size: tuple[int, int], name: str = "target") -> torch.Tensor:
    """Cut a target to the valid output of a ``kernel_size`` correlation of X.

    A valid-sized target is used as it is. A same-sized target, as other tools
    write them after padding, is fitted on its interior, at the centred anchor
    ``(h // 2, w // 2)`` that OpenCV and SciPy use.

    Shape:
        - X: :math:`(H, W)`
        - Y: :math:`(H, W)` or :math:`(H - h + 1, W - w + 1)`
        - Output: :math:`(H - h + 1, W - w + 1)`
    """
    h, w = kernel_size
    H, W = X.shape[-2:]
    Ho, Wo = H - h + 1, W - w + 1
    if Ho < 1 or Wo < 1:
        raise InputError(f"Kernel {h}x{w} is larger than the input image {H}x{W}")
    if tuple(Y.shape) == (Ho, Wo):
        return Y
    if tuple(Y.shape) == (H, W):
        return Y[h // 2 : h // 2 + Ho, w // 2 : w // 2 + Wo]
    raise InputError(
        f"{name} is {Y.shape[0]}x{Y.shape[1]}, but its input is {H}x{W}: a target must have the input's size "
        f"or the valid size {Ho}x{Wo} for a {h}x{w} kernel"
    )


def notebook_pair() -> Pair:
    """The notebook's problem: the striped 6x8 image and its edges under [[1, -1]]."""
    from convlearn.synth import make_image

    X = make_image()  # (6, 8)
    Y = corr2d(X, torch.tensor([[1.0, -1.0]]))  # (6, 7)
    return Pair(X, Y, "synth:stripes", "corr2d(synth, edge)")


def normal_equations(
    pairs: Sequence[Pair], kernel_size: tuple[int, int], bias: bool = False
) -> tuple[torch.Tensor, torch.Tensor, float, int]:
    """Accumulate ``A^T A``, ``A^T y`` and ``y^T y`` in float64, one pair at a time.

    A's rows are the input patches (plus a 1 for the bias), so the least-squares
    kernel solves ``(A^T A) k = A^T y`` and the summed squared error is
    ``k^T (A^T A) k - 2 k^T A^T y + y^T y``.

    Returns:
        ``(G, b, yy, n)``: G of shape :math:`(p, p)`, b of shape :math:`(p,)`
        with ``p = h * w (+ 1)``, the target energy and the number of pixels.
    """
    h, w = kernel_size
    p = h * w + int(bias)
    G = torch.zeros(p, p, dtype=torch.float64)
    b = torch.zeros(p, dtype=torch.float64)
    yy, n = 0.0, 0
    for pair in pairs:
        X = pair.input.detach().to("cpu", torch.float64)
        Y = pair.target.detach().to("cpu", torch.float64)  # (Ho, Wo)
        Ho, Wo = Y.shape
        cols = [X[a : a + Ho, c : c + Wo] for a in range(h) for c in range(w)]
        if bias:
            cols.append(torch.ones_like(Y))
        for i, ci in enumerate(cols):
            b[i] += (ci * Y).sum()
            for j in range(i, p):
                G[i, j] += (ci * cols[j]).sum()
                G[j, i] = G[i, j]
        yy += float((Y * Y).sum())
        n += Y.numel()
    return G, b, yy, n


def safe_step(G: torch.Tensor) -> float:
    """The largest safe fixed SGD step for the summed squared error.

    The loss is quadratic with Hessian ``2 G`` (G the patch Gram matrix), so
    gradient descent converges for steps below ``2 / lambda_max(2 G)``. We take
    ``1 / lambda_max(2 G)``, which converges monotonically and fastest along the
    stiffest direction.
    """
    top = float(torch.linalg.eigvalsh(G).max())
    if not math.isfinite(top) or top <= 0:
        raise InputError("The inputs are constant zero, so no kernel can be learned from them")
    return 1.0 / (2.0 * top)


@dataclass(frozen=True)
class LearnConfig:
    """Settings for :func:`train_sgd`. Defaults are the notebook's."""

    kernel_size: tuple[int, int] = (1, 2)  # (1, 2): the notebook's nn.Conv2d kernel_size
    epochs: int = 10  # 10: the notebook's range(10)
    lr: float | None = None  # None: 0.03 (the notebook's) on its own problem, else safe_step()
    bias: bool = False  # False: the notebook's bias=False
    seed: int = 0  # fixed, so runs repeat
    device: str = "cpu"


@dataclass
class LearnResult:
    """What training produced."""

    weight: torch.Tensor  # (h, w), float32, on the CPU
    bias: float | None
    losses: list[float] = field(default_factory=list)
    lr: float = 0.0
    epochs_run: int = 0


NOTEBOOK_LR = 0.03


def train_sgd(
    pairs: Sequence[Pair] | None = None,
    config: LearnConfig | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
) -> LearnResult:
    """Train a kernel by full-batch SGD on the summed squared error, as the notebook does.

    Args:
        pairs: training pairs; None means the notebook's problem.
        config: settings, see :class:`LearnConfig`.
        on_epoch: called with ``(epoch, loss)`` after each step.

    Returns:
        The learned kernel, bias and the loss of every epoch.

    Raises:
        TrainingError: the loss turned non-finite.

    >>> result = train_sgd(config=LearnConfig(epochs=10))
    >>> [round(v, 1) for v in result.weight[0].tolist()]
    [1.0, -1.0]
    """
    from convlearn.device import resolve_device

    cfg = config or LearnConfig()
    device = resolve_device(cfg.device)
    own_problem = pairs is None
    pairs = [notebook_pair()] if own_problem else list(pairs)
    if not pairs:
        raise InputError("No training pairs given")
    pairs = [
        Pair(p.input, align_target(p.input, p.target, cfg.kernel_size, p.target_name), p.input_name, p.target_name)
        for p in pairs
    ]
    lr = cfg.lr
    if lr is None:
        lr = NOTEBOOK_LR if own_problem else safe_step(normal_equations(pairs, cfg.kernel_size, cfg.bias)[0])
    torch.manual_seed(cfg.seed)
    # The notebook's layer: nn.Conv2d(1, 1, kernel_size, bias=False), whose
    # Kaiming-uniform init we keep; the forward pass is corr2d on its weight.
    layer = nn.Conv2d(1, 1, kernel_size=cfg.kernel_size, bias=cfg.bias).to(device)
    trainer = torch.optim.SGD(layer.parameters(), lr=lr)
    inputs = [p.input.to(device, torch.float32) for p in pairs]
    targets = [p.target.to(device, torch.float32) for p in pairs]
    result = LearnResult(layer.weight.detach()[0, 0].cpu().clone(), None, [], lr, 0)
    for epoch in range(cfg.epochs):
        total = torch.zeros((), device=device)
        trainer.zero_grad()
        for X, Y in zip(inputs, targets, strict=True):
            Y_hat = corr2d(X, layer.weight[0, 0])  # (Ho, Wo)
            if layer.bias is not None:
                Y_hat = Y_hat + layer.bias
            loss = ((Y_hat - Y) ** 2).sum()
            loss.backward()
            total = total + loss.detach()
        value = float(total)
        if not math.isfinite(value):
            raise TrainingError(f"The loss became {value} at epoch {epoch}; use a smaller --lr than {lr:g}")
        trainer.step()
        result.losses.append(value)
        result.epochs_run = epoch + 1
        result.weight = layer.weight.detach()[0, 0].cpu().clone()
        result.bias = None if layer.bias is None else float(layer.bias.detach())
        if on_epoch is not None:
            on_epoch(epoch, value)
    return result
