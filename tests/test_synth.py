import pytest
import torch

from convlearn.errors import InputError
from convlearn.synth import make_image, parse_stripe

NOTEBOOK_X = torch.tensor([[1.0, 1, 0, 0, 0, 0, 1, 1]] * 6)


def test_default_is_notebook_image():
    X = make_image()
    assert X.dtype == torch.float32
    assert torch.equal(X, NOTEBOOK_X)


def test_size_stripe_horizontal():
    X = make_image(height=4, width=5, stripe=(1, 3), horizontal=True)
    assert X.shape == (5, 4)
    assert torch.equal(X[:, 0], torch.tensor([1.0, 0, 0, 1, 1]))


@pytest.mark.parametrize("text", ["3:3", "0:9", "-1:2", "a:b", "2", "1:2:3"])
def test_bad_stripe(text):
    with pytest.raises(InputError, match="Invalid stripe"):
        parse_stripe(text, 8)


def test_diagonal_has_diagonal_edges():
    from convlearn.corr import corr2d

    Y = corr2d(make_image(pattern="diagonal"), torch.tensor([[1.0, -1.0]]))
    rows, cols = torch.nonzero(Y == 1, as_tuple=True)
    assert torch.equal(cols - rows, torch.ones_like(rows))  # the +1 edge moves one column per row


def test_checker():
    X = make_image(pattern="checker", height=4, width=4, cell=1)
    assert torch.equal(X, (torch.arange(4)[:, None] + torch.arange(4)).remainder(2).eq(0).float())


def test_noise_is_seeded_and_unit():
    a = make_image(pattern="noise", height=32, width=32, seed=3)
    b = make_image(pattern="noise", height=32, width=32, seed=3)
    c = make_image(pattern="noise", height=32, width=32, seed=4)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.min() == 0 and a.max() == 1


def test_bad_pattern():
    with pytest.raises(
        InputError, match="^Invalid pattern 'waves'. Expected one of: stripes, diagonal, checker, noise, shapes$"
    ):
        make_image(pattern="waves")
