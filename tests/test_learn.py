import itertools

import pytest
import torch

from convlearn.corr import corr2d
from convlearn.errors import InputError
from convlearn.learn import Conv2D, LearnConfig, Pair, align_target, normal_equations, safe_step, train_sgd
from convlearn.synth import make_image


def test_conv2d_module_init_and_forward():
    torch.manual_seed(0)
    layer = Conv2D((1, 2))
    assert layer.weight.shape == (1, 2)
    assert 0 <= layer.weight.min() and layer.weight.max() < 1
    assert layer.bias.item() == 0
    X = make_image()
    torch.testing.assert_close(layer(X), corr2d(X, layer.weight.detach()))


def test_conv2d_module_trains():
    torch.manual_seed(0)
    layer = Conv2D((1, 2))
    X = make_image()
    Y = corr2d(X, torch.tensor([[1.0, -1.0]]))
    optimiser = torch.optim.SGD(layer.parameters(), lr=0.01)  # the bias sees 42 pixels: 0.03 diverges
    for _ in range(2000):
        optimiser.zero_grad()
        ((layer(X) - Y) ** 2).sum().backward()
        optimiser.step()
    torch.testing.assert_close(layer.weight.detach(), torch.tensor([[1.0, -1.0]]), atol=1e-3, rtol=0)


def test_default_run_is_the_notebooks_and_converges():
    losses = []
    result = train_sgd(on_epoch=lambda i, loss: losses.append((i, loss)))
    assert [i for i, _ in losses] == list(range(10))
    assert result.lr == 0.03
    assert all(b < a for (_, a), (_, b) in itertools.pairwise(losses))
    assert (result.weight - torch.tensor([[1.0, -1.0]])).abs().max() < 0.05


def test_seed_repeats():
    a = train_sgd(config=LearnConfig(epochs=3, seed=5))
    b = train_sgd(config=LearnConfig(epochs=3, seed=5))
    assert a.losses == b.losses


def test_same_size_target_aligned_like_opencv():
    X = torch.arange(20.0).reshape(4, 5)
    Y = torch.zeros(4, 5)
    assert align_target(X, Y, (3, 3)).shape == (2, 3)
    Y[1:3, 1:4] = 7
    assert torch.equal(align_target(X, Y, (3, 3)), torch.full((2, 3), 7.0))


def test_mismatched_target():
    with pytest.raises(InputError, match="a target must have the input's size or the valid size 3x4"):
        align_target(torch.zeros(4, 5), torch.zeros(3, 3), (2, 2))


def test_sgd_on_a_pair_with_safe_step():
    X = make_image(pattern="noise", height=48, width=48, seed=1)
    K = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
    pair = Pair(X, corr2d(X, K))
    G = normal_equations([pair], (3, 3))[0]
    result = train_sgd([pair], LearnConfig(kernel_size=(3, 3), epochs=300))
    assert result.lr == pytest.approx(safe_step(G))
    assert result.losses[-1] < result.losses[0] * 1e-2
