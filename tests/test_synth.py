import numpy as np
import pytest
import torch

from convlearn.errors import InputError
from convlearn.synth import make_image, parse_stripe, run_synth

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


def test_shapes_pattern_has_edges_in_every_direction():
    from convlearn.edges import gradient_angle, sobel_gradients

    X = make_image(pattern="shapes", height=64, width=64)
    assert X.shape == (64, 64) and X.dtype == torch.float32
    levels = {round(v, 4) for v in X.unique().tolist()}
    assert {0.2, 0.45, 0.6, 0.75, 0.9} <= levels  # ground, ring, square, triangle, disc
    assert 0.2 <= X.min() and X.max() <= 0.9
    gx, gy = sobel_gradients(X)
    angles = gradient_angle(gx, gy)[torch.hypot(gx, gy) > 0.5]
    hist = torch.histc(angles, bins=8, min=-np.pi, max=np.pi)
    assert (hist > 0).all()  # the disc and ring give every orientation


def test_run_synth_writes_the_image_and_its_target(tmp_path):
    result = run_synth(output=tmp_path / "x.npy", kernel="edge", target=tmp_path / "y.npy")
    assert torch.equal(result.image, NOTEBOOK_X)
    assert result.target[0].tolist() == [0, 1, 0, 0, 0, -1, 0]
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), NOTEBOOK_X.numpy())
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), result.target.numpy())


@pytest.mark.parametrize("settings", [{"kernel": "edge"}, {"target": "y.npy"}])
def test_run_synth_wants_kernel_and_target_together(tmp_path, settings):
    with pytest.raises(InputError, match="^--kernel and --target go together"):
        run_synth(output=tmp_path / "x.npy", **settings)
    assert not (tmp_path / "x.npy").exists()


def test_run_synth_checks_the_stripe_against_the_width(tmp_path):
    with pytest.raises(InputError, match="Invalid stripe '2:6'. Expected 0 <= START < STOP <= 4"):
        run_synth(output=tmp_path / "x.png", width=4, stripe="2:6")


def test_run_synth_pair_is_exact_for_the_image_as_saved(tmp_path):
    from PIL import Image

    from convlearn.corr import corr2d
    from convlearn.learn import run_learn

    result = run_synth(output=tmp_path / "x.png", pattern="noise", height=48, width=48, kernel="sobel-x",
                       target=tmp_path / "y.npy")  # fmt: skip
    levels = np.asarray(Image.open(tmp_path / "x.png"), dtype=np.float64) / 255  # what learn reads back
    sobel = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=torch.float64)
    expected = corr2d(torch.from_numpy(levels), sobel)
    saved = np.load(tmp_path / "y.npy")
    assert saved.dtype == np.float64 and np.abs(saved - expected.numpy()).max() < 1e-14
    assert torch.equal(result.image, torch.from_numpy(levels).float())
    run = run_learn(inputs=[tmp_path / "x.png"], targets=[tmp_path / "y.npy"], kernel_size="3x3", solver="lstsq")
    assert float((run.result.weight - sobel).abs().max()) < 1e-9
