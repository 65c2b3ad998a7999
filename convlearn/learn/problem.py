"""The notebook's problem: its layer, :class:`Conv2D`, its image and its training pair.

The notebook learns a ``(1, 2)`` kernel from the striped 6x8 image X and its
edges ``Y = corr2d(X, [[1, -1]])`` by SGD, with step 0.03, on the summed
squared error; ``convlearn learn`` with no pair replays that run (its settings
are :mod:`convlearn.learn.config`'s ``NOTEBOOK_*``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from convlearn.corr import corr2d
from convlearn.errors import invalid_choice
from convlearn.learn.pairs import Pair

__all__ = ["INITS", "Conv2D", "notebook_image", "notebook_pair"]
#: How :class:`Conv2D` starts: ``uniform`` is the notebook's ``Conv2D`` (weight
#: ~ U(0, 1), bias 0); ``kaiming`` is ``nn.Conv2d(1, 1, kernel_size)``'s own
#: start, which the notebook's training cell uses.
INITS = ("uniform", "kaiming")


class Conv2D(nn.Module):
    """The notebook's layer: ``corr2d(x, weight) + bias``.

    By default the weight starts ~ U(0, 1) and the bias at 0, as in the
    notebook's ``Conv2D``. With ``init="kaiming"`` both start as in
    ``nn.Conv2d(1, 1, kernel_size)``, drawing the same random numbers, so a
    seeded run repeats the notebook's training cell.

    Args:
        kernel_size: ``(h, w)``.
        bias: learn an additive offset (``bias`` is None without one).
        init: ``uniform`` or ``kaiming``, see :data:`INITS`.
        in_channels: input planes summed into the one output plane (as
            ``nn.Conv2d(in_channels, 1)``); the weight is then :math:`(C, h, w)`.

    Shape:
        - Input: :math:`(H, W)` or :math:`(B, H, W)`; :math:`(C, H, W)` with ``in_channels`` C > 1
        - Output: :math:`(..., H - h + 1, W - w + 1)`

    >>> layer = Conv2D((1, 2)); layer(torch.ones(6, 8)).shape
    torch.Size([6, 7])
    >>> layer
    Conv2D(kernel_size=(1, 2), bias=True)
    """

    def __init__(
        self, kernel_size: tuple[int, int], *, bias: bool = True, init: str = "uniform", in_channels: int = 1
    ) -> None:
        super().__init__()
        if init not in INITS:
            raise invalid_choice("init", init, INITS)
        h, w = kernel_size
        shape = (h, w) if in_channels == 1 else (in_channels, h, w)
        if init == "uniform":
            self.weight = nn.Parameter(torch.rand(shape))
            self.bias = nn.Parameter(torch.zeros(1)) if bias else None
            return
        # nn.Conv2d's reset_parameters on its (1, C, h, w) weight: the fan-in is C * h * w.
        weight = torch.empty(shape)
        nn.init.kaiming_uniform_(weight.view(1, in_channels, h, w), a=math.sqrt(5))
        self.weight = nn.Parameter(weight)
        self.bias = None
        if bias:
            bound = 1 / math.sqrt(in_channels * h * w)
            self.bias = nn.Parameter(nn.init.uniform_(torch.empty(1), -bound, bound))

    def extra_repr(self) -> str:
        """What ``repr`` shows inside ``Conv2D(...)``: the kernel size, the bias, the input planes when several."""
        planes = "" if self.weight.dim() == 2 else f", in_channels={self.weight.shape[0]}"
        return f"kernel_size={tuple(self.weight.shape[-2:])}, bias={self.bias is not None}{planes}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.weight.dim() == 2:
            y = corr2d(x, self.weight)
        else:  # (C, H, W) in: each input plane through its own plane of the weight, summed
            y = sum(corr2d(x[c], self.weight[c]) for c in range(self.weight.shape[0]))
        return y if self.bias is None else y + self.bias

    def vector(self) -> torch.Tensor:
        """The kernel's values row by row, then the bias when there is one, as float64 on the CPU, :math:`(p,)`."""
        k = self.weight.detach().to("cpu", torch.float64).reshape(-1)
        if self.bias is None:
            return k
        return torch.cat([k, self.bias.detach().to("cpu", torch.float64)])


def notebook_image() -> torch.Tensor:
    """The notebook's image: 6x8 ones with columns 2 to 5 black, two vertical edges.

    ``convlearn synth``'s default draws the same image (its ``stripes`` pattern at 6x8).

    >>> notebook_image()[0].tolist()
    [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0]
    """
    X = torch.ones((6, 8))  # (6, 8), the notebook's torch.ones((6, 8))
    X[:, 2:6] = 0
    return X


def notebook_pair() -> Pair:
    """The notebook's problem: the striped 6x8 image and its edges under [[1, -1]].

    >>> tuple(notebook_pair().target.shape)
    (6, 7)
    """
    X = notebook_image()  # (6, 8)
    Y = corr2d(X, torch.tensor([[1.0, -1.0]]))  # (6, 7)
    return Pair(X, Y, "synth:stripes", "corr2d(synth, edge)")
