"""The direct engine's shift-add."""

import torch
from corr_cases import rand, randn

from convlearn.corr import corr2d, direct


def test_shift_add_body_matches_direct():
    X = rand(2, 30, 31)
    K = randn(4, 3)
    torch.testing.assert_close(direct.shift_add(X, K), corr2d(X, K, strategy="direct"), rtol=1e-6, atol=1e-6)
