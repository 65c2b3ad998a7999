"""Inputs and checks shared by the corr tests."""

import torch
from conftest import TOL, conv2d_reference

from convlearn.corr import STRATEGIES
from convlearn.corr.fft import fast_size, fft_error_bound

FAST = [s for s in STRATEGIES if s != "auto"]
SOBEL_X = torch.tensor([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])


def rand(*shape, seed=0, dtype=torch.float32):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def randn(*shape, seed=1, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def assert_matches_reference(Y: torch.Tensor, X: torch.Tensor, K: torch.Tensor, strategy: str) -> None:
    """fp32 rounding for the spatial strategies; the documented bound for the FFT."""
    ref = conv2d_reference(X, K)
    if strategy == "fft":
        bound = fft_error_bound(X, K, fast_size(X.shape[-2]) * fast_size(X.shape[-1]))
        assert (Y.double() - ref).abs().max().item() <= bound
    else:
        torch.testing.assert_close(Y.double(), ref, **TOL[torch.float32])
