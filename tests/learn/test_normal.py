"""The normal equations (convlearn.learn.normal), against the explicit patch matrix in float64."""

import pytest
import torch
from learn_data import K3, float_pair, noise, patches

from convlearn.corr import corr2d
from convlearn.errors import InputError
from convlearn.learn import Pair, normal_equations, safe_step


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize(("tile", "workers"), [(1, 1), (1, 3), (37, 2), (None, None)])
def test_normal_equations_match_the_explicit_patch_matrix(bias, tile, workers):
    X = noise(20, 3)
    Y = torch.randn(18, 17, generator=torch.Generator().manual_seed(0))
    mask = torch.rand(18, 17, generator=torch.Generator().manual_seed(1)) > 0.3
    threads = torch.get_num_threads()
    ne = normal_equations([Pair(X, Y, mask=mask)], (3, 4), bias, tile_pixels=tile, workers=workers)
    assert torch.get_num_threads() == threads  # restored after the single-threaded accumulation
    A = patches(X, (3, 4))
    if bias:
        A = torch.cat([A, torch.ones(A.shape[0], 1, dtype=torch.float64)], 1)
    keep = mask.reshape(-1)
    A, y = A[keep], Y.double().reshape(-1)[keep]
    torch.testing.assert_close(ne.gram, A.T @ A, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ne.rhs, A.T @ y, rtol=1e-12, atol=1e-12)
    assert ne.yy == pytest.approx(float(y @ y), rel=1e-12)
    assert ne.ysum == pytest.approx(float(y.sum()), rel=1e-12)
    assert (ne.count, ne.excluded, ne.pairs) == (int(keep.sum()), int((~keep).sum()), 1)


def test_normal_equations_take_non_contiguous_inputs_and_sum_pairs():
    X = noise(30, 4)
    Xt = X.t()  # a non-contiguous view
    assert not Xt.is_contiguous()
    pair_a, pair_b = Pair(Xt, corr2d(Xt, K3.float())), float_pair(seed=5)
    both = normal_equations([pair_a, pair_b], (3, 3))
    one, other = normal_equations([pair_a], (3, 3)), normal_equations([pair_b], (3, 3))
    torch.testing.assert_close(both.gram, one.gram + other.gram, rtol=1e-12, atol=1e-9)
    torch.testing.assert_close(both.rhs, one.rhs + other.rhs, rtol=1e-12, atol=1e-9)
    assert both.pairs == 2 and both.count == one.count + other.count


def test_normal_equations_stream_a_generator_once():
    seen = []

    def stream():
        for seed in (1, 2, 3):
            seen.append(seed)
            yield float_pair(seed=seed)

    ne = normal_equations(stream(), (3, 3))
    assert seen == [1, 2, 3] and ne.pairs == 3
    torch.testing.assert_close(ne.solve().reshape(3, 3), K3, rtol=0, atol=1e-6)


def test_loss_and_gradient_from_the_normal_equations_match_direct_sums():
    pair = float_pair()
    ne = normal_equations([pair], (3, 3))
    k = torch.randn(9, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    residual = corr2d(pair.input.double(), k.reshape(3, 3)) - pair.target.double()
    assert ne.loss(k) == pytest.approx(float((residual**2).sum()), rel=1e-9)
    A = patches(pair.input, (3, 3))
    gradient = A.T @ residual.reshape(-1)  # half the loss's gradient, like G k - b
    assert ne.relative_gradient(k) == pytest.approx(float(gradient.norm() / ne.rhs.norm()), rel=1e-9)


def test_safe_step_is_one_over_the_largest_curvature():
    ne = normal_equations([float_pair()], (3, 3))
    top = float(torch.linalg.eigvalsh(ne.gram)[-1])
    assert safe_step(ne.gram) == pytest.approx(1 / (2 * top))
    with pytest.raises(InputError, match="constant zero"):
        safe_step(torch.zeros(3, 3))
