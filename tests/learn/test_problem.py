"""The notebook's layer and run (convlearn.learn.problem), against the notebook's own loop."""

import itertools

import pytest
import torch

from convlearn.corr import corr2d
from convlearn.errors import InputError
from convlearn.learn import Conv2D, LearnConfig, LearnHooks, notebook_pair, train_sgd
from convlearn.learn.problem import notebook_image
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


def notebook_loop(epochs=10, seed=0):
    """The notebook's training cell, verbatim but for the seed: the reference for the default run."""
    torch.manual_seed(seed)
    conv2d = torch.nn.Conv2d(1, 1, kernel_size=(1, 2), bias=False)
    X = make_image().reshape((1, 1, 6, 8))
    Y = corr2d(make_image(), torch.tensor([[1.0, -1.0]])).reshape((1, 1, 6, 7))
    trainer = torch.optim.SGD(conv2d.parameters(), lr=3e-2)
    losses = []
    for _ in range(epochs):
        Y_hat = conv2d(X)
        l = (Y_hat - Y) ** 2
        conv2d.zero_grad()
        l.sum().backward()
        trainer.step()
        losses.append(float(l.sum().detach()))
    return losses, conv2d.weight.data[0, 0]


def test_default_run_is_the_notebooks_and_converges():
    losses = []
    result = train_sgd(hooks=LearnHooks(on_epoch=lambda i, loss: losses.append((i, loss))))
    assert [i for i, _ in losses] == list(range(10))
    assert result.lr == 0.03
    assert all(b < a for (_, a), (_, b) in itertools.pairwise(losses))
    assert (result.weight - torch.tensor([[1.0, -1.0]])).abs().max() < 0.05
    reference_losses, reference_weight = notebook_loop()
    torch.testing.assert_close([loss for _, loss in losses], reference_losses, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(result.weight, reference_weight, rtol=1e-5, atol=1e-6)


def test_seed_repeats():
    a = train_sgd(config=LearnConfig(epochs=3, seed=5))
    b = train_sgd(config=LearnConfig(epochs=3, seed=5))
    assert a.losses == b.losses


def test_notebook_pair_is_the_notebooks():
    pair = notebook_pair()
    assert pair.input.shape == (6, 8) and pair.target[0].tolist() == [0, 1, 0, 0, 0, -1, 0]


@pytest.mark.parametrize("kernel_size", [(1, 2), (3, 3), (2, 5)])
@pytest.mark.parametrize("bias", [False, True])
def test_kaiming_start_draws_what_nn_conv2d_draws(kernel_size, bias):
    torch.manual_seed(3)
    reference = torch.nn.Conv2d(1, 1, kernel_size=kernel_size, bias=bias)
    next_after_reference = torch.rand(4)
    torch.manual_seed(3)
    layer = Conv2D(kernel_size, bias=bias, init="kaiming")
    assert torch.equal(torch.rand(4), next_after_reference)  # as many draws as nn.Conv2d
    assert torch.equal(layer.weight.detach(), reference.weight.detach()[0, 0])
    if bias:
        assert torch.equal(layer.bias.detach(), reference.bias.detach())
    else:
        assert layer.bias is None and [name for name, _ in layer.named_parameters()] == ["weight"]


def test_conv2d_vector_is_the_weight_then_the_bias():
    layer = Conv2D((2, 2))
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
        layer.bias.fill_(0.5)
    assert layer.vector().tolist() == [1.0, 2.0, 3.0, 4.0, 0.5] and layer.vector().dtype == torch.float64
    assert Conv2D((1, 2), bias=False).vector().shape == (2,)


def test_conv2d_refuses_an_unknown_init():
    with pytest.raises(InputError, match="Invalid init 'zeros'. Expected one of: uniform, kaiming"):
        Conv2D((1, 2), init="zeros")


def test_the_notebooks_image_is_synths_default():
    assert torch.equal(notebook_image(), make_image())
