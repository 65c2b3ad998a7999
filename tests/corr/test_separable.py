"""The separable engine: exact rank-1 factors, the numerical rank, low-rank kernels."""

import pytest
import torch
from corr_cases import SOBEL_X, assert_matches_reference, rand, randn

from convlearn.corr import choose_strategy, corr2d, separable


def test_sobel_factors_are_exact_integers():
    u, v = separable.rank1_factors(SOBEL_X)
    assert u.tolist() == [1.0, 2.0, 1.0] and v.tolist() == [1.0, 0.0, -1.0]
    assert torch.equal(torch.outer(u, v), SOBEL_X.double())


def test_separable_sobel_on_integers_is_exact():
    X = torch.randint(0, 256, (40, 50)).float()
    assert choose_strategy(X, SOBEL_X) == "separable"
    assert torch.equal(corr2d(X, SOBEL_X), corr2d(X, SOBEL_X, strategy="direct"))


@pytest.mark.parametrize(
    ("K", "rank"),
    [
        (torch.ones(5, 5) / 25, 1),  # box
        (torch.outer(torch.tensor([1.0, 4, 6, 4, 1]), torch.tensor([1.0, 4, 6, 4, 1])) / 256, 1),  # Gaussian
        (SOBEL_X, 1),
        (torch.eye(4), 4),
        (torch.zeros(3, 3), 0),
    ],
)
def test_kernel_rank(K, rank):
    assert separable.kernel_rank(K) == rank


def test_separable_factors_sum_to_the_kernel():
    K = randn(6, 4, dtype=torch.float64)
    terms = separable.separable_factors(K)
    assert len(terms) == 4
    torch.testing.assert_close(sum(torch.outer(u, v) for u, v in terms), K, rtol=1e-12, atol=1e-12)


def test_separable_with_a_low_rank_kernel():
    u1, v1, u2, v2 = randn(9, seed=2), randn(9, seed=3), randn(9, seed=4), randn(9, seed=5)
    K = torch.outer(u1, v1) + torch.outer(u2, v2)  # rank 2: 2 * 18 taps instead of 81
    X = rand(60, 60)
    assert choose_strategy(X, K) == "separable"
    assert_matches_reference(corr2d(X, K), X, K, "separable")
