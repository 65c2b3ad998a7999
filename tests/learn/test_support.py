"""--kernel-size auto (convlearn.learn.support): the support found from the data."""

import pytest
import torch
from learn_data import K3, noise

from convlearn.corr import corr2d
from convlearn.errors import InputError
from convlearn.learn import LearnConfig, Pair, learn_kernel
from convlearn.learn.support import find_support, probe_side


def same_size(X: torch.Tensor, K: torch.Tensor, anchor=None) -> torch.Tensor:
    """A target of the input's size, the valid output placed at ``anchor`` (default: centred), zeros around."""
    h, w = K.shape
    ay, ax = anchor if anchor is not None else (h // 2, w // 2)
    valid = corr2d(X, K)  # (H - h + 1, W - w + 1)
    Y = torch.zeros_like(X)
    Y[ay : ay + valid.shape[0], ax : ax + valid.shape[1]] = valid
    return Y


def test_probe_side_is_bounded_by_the_image():
    assert probe_side([Pair(torch.zeros(512, 512), torch.zeros(512, 512))]) == 15
    assert probe_side([Pair(torch.zeros(40, 40), torch.zeros(40, 40))]) == 7  # 34² pixels >= 20 * 7²
    assert probe_side([Pair(torch.zeros(3, 200), torch.zeros(3, 200))]) == 3


@pytest.mark.parametrize(
    ("K", "anchor"),
    [
        (K3, None),  # odd, centred
        (torch.tensor([[1.0, -1.0]], dtype=torch.float64), None),  # even: the notebook's, anchored at (0, 1)
        (torch.tensor([[1.0, 2.0], [-3.0, 0.5]], dtype=torch.float64), (0, 0)),  # even, off centre
        (torch.tensor([[0.25, 0.5, 0.25]], dtype=torch.float64), (0, 2)),  # odd, off centre
    ],
)
def test_support_of_an_exact_same_size_target(K, anchor):
    X = noise(64, seed=3).double()
    support = find_support([Pair(X, same_size(X, K, anchor))])
    assert support.size == tuple(K.shape)
    centred = anchor is None or tuple(anchor) == (K.shape[0] // 2, K.shape[1] // 2)
    assert support.anchor == (None if centred else anchor)
    assert f"{K.shape[0]}x{K.shape[1]}" in support.reason and "fitted 11x11" in support.reason


def test_auto_learns_an_off_centre_kernel_and_keeps_its_anchor():
    X = noise(64, seed=3).double()
    K = torch.tensor([[1.0, 2.0], [-3.0, 0.5]], dtype=torch.float64)
    result = learn_kernel([Pair(X, same_size(X, K, (0, 0)))], LearnConfig(kernel_size="auto", solver="lstsq"))
    assert result.anchor == (0, 0) and result.support.startswith("2x2 (anchor (0, 0))")
    assert (result.weight - K).abs().max() < 1e-9
    assert result.kernel.anchor == (0, 0)


def test_a_noisy_target_keeps_only_the_weights_above_noise():
    X = noise(96, seed=5).double()
    g = torch.Generator().manual_seed(0)
    Y = same_size(X, K3) + 1e-3 * torch.randn(X.shape, generator=g, dtype=torch.float64)
    assert find_support([Pair(X, Y)]).size == (3, 3)


def test_a_valid_target_implies_its_size():
    X = noise(40).double()
    support = find_support([Pair(X, corr2d(X, torch.ones(2, 5, dtype=torch.float64)))])
    assert support.size == (2, 5) and support.anchor is None and "valid output" in support.reason


def test_targets_implying_different_sizes_are_refused():
    X = noise(40).double()
    pairs = [Pair(X, corr2d(X, torch.ones(3, 3, dtype=torch.float64))), Pair(X, corr2d(X, torch.ones(1, 2)))]
    with pytest.raises(InputError, match=r"imply different kernel sizes \(1x2, 3x3\); give --kernel-size"):
        find_support(pairs)


def test_no_pairs_with_auto():
    with pytest.raises(InputError, match="No training pairs given"):
        learn_kernel([], LearnConfig(kernel_size="auto", solver="lstsq"))
