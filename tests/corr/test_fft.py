"""The FFT engine: fast sizes, and its error within the documented bound."""

import pytest
import torch
from conftest import conv2d_reference
from corr_cases import assert_matches_reference, rand, randn
from hypothesis import given, settings
from hypothesis import strategies as st

from convlearn.corr import corr2d
from convlearn.corr.fft import fast_size, fft_error_bound


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 5000))
def test_fast_size_is_the_next_5_smooth_number(n):
    m = fast_size(n)
    assert m >= n and _smooth(m)
    assert not any(_smooth(k) for k in range(n, m))


def _smooth(k: int) -> bool:
    """Whether k has no prime factor but 2, 3 and 5."""
    for p in (2, 3, 5):
        while k % p == 0:
            k //= p
    return k == 1


@pytest.mark.parametrize(
    "case",
    ["uniform", "offset", "spikes", "signed"],
)
@pytest.mark.parametrize("shape", [(11, 11), (31, 31), (3, 17)])
def test_fft_error_within_documented_bound(case, shape):
    g = torch.Generator().manual_seed(7)
    X = torch.rand(96, 130, generator=g)
    if case == "offset":  # a large mean: most of the energy in one frequency
        X = X + 1000
    elif case == "spikes":  # nearly all zero: small outputs next to huge ones
        X = (X > 0.995).float() * 1e4
    elif case == "signed":
        X = X - 0.5
    K = torch.randn(*shape, generator=g)
    assert_matches_reference(corr2d(X, K, strategy="fft"), X, K, "fft")


def test_fft_bound_is_not_vacuous():
    X, K = rand(64, 64), randn(15, 15)
    # It is tighter than the direct sum's worst case for a large kernel...
    direct_worst = 15 * 15 * 2.0**-24 * float(K.abs().sum()) * float(X.abs().max())
    assert fft_error_bound(X, K, 64 * 64) < direct_worst
    # ...and far below the size of the result itself.
    assert fft_error_bound(X, K, 64 * 64) < 1e-4 * float(conv2d_reference(X, K).abs().max())
