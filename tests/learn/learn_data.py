"""Training pairs with a known kernel, shared by the tests of convlearn.learn."""

import torch

from convlearn.corr import corr2d
from convlearn.learn import Pair
from convlearn.synth import make_image

# An asymmetric kernel: a flip or a transpose would not fit it.
K3 = torch.tensor([[0.5, -1.0, 0.25], [2.0, 0.0, -0.75], [0.1, 1.5, -2.0]], dtype=torch.float64)


def noise(size=48, seed=1):
    return make_image(pattern="noise", height=size, width=size, seed=seed)  # (size, size) float32 in [0, 1]


def float_pair(K=K3, size=48, seed=1, bias=0.0):
    X = noise(size, seed)
    return Pair(X, (corr2d(X.double(), K) + bias).float())


def patches(X: torch.Tensor, kernel_size) -> torch.Tensor:
    """The explicit patch matrix A, (Ho * Wo, h * w), in float64: the reference for the normal equations."""
    h, w = kernel_size
    Ho, Wo = X.shape[0] - h + 1, X.shape[1] - w + 1
    Xd = X.double()
    return torch.stack([Xd[a : a + Ho, c : c + Wo].reshape(-1) for a in range(h) for c in range(w)], 1)
