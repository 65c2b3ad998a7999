"""Colour kernels (convlearn.learn.colour): --channels each and full, every solver, the support, the report."""

import numpy as np
import pytest
import torch
from PIL import Image

from convlearn.corr import corr2d
from convlearn.errors import InputError
from convlearn.learn import LearnConfig, Pair, learn_kernel, read_pair, run_learn
from convlearn.learn.colour import colour_support
from convlearn.synth import make_image

# Asymmetric kernels, one per channel (each) and one per (output, input) channel (full).
KE = torch.tensor(
    [
        [[0.5, -1.0, 0.25], [2.0, 0.0, -0.75], [0.1, 1.5, -2.0]],
        [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]],
        [[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]],
    ],
    dtype=torch.float64,
)
KF = torch.from_numpy(np.random.default_rng(5).standard_normal((3, 3, 3, 3)))


def rgb(size=40, seed=1) -> torch.Tensor:
    """A colour input, (3, H, W) float64: three different smooth-noise planes."""
    return torch.stack([make_image(pattern="noise", height=size, width=size, seed=seed + c).double() for c in range(3)])


def each_target(X, K=KE, bias=(0.0, 0.0, 0.0)):
    return torch.stack([corr2d(X[c], K[c]) + bias[c] for c in range(3)])  # (3, Ho, Wo)


def full_target(X, K=KF, bias=(0.0, 0.0, 0.0)):
    return torch.stack([sum(corr2d(X[i], K[o, i]) for i in range(3)) + bias[o] for o in range(3)])


@pytest.mark.parametrize("channels, make, K", [("each", each_target, KE), ("full", full_target, KF)])
def test_lstsq_recovers_a_float_colour_kernel_exactly(channels, make, K):
    X = rgb()
    r = learn_kernel([Pair(X, make(X))], LearnConfig(kernel_size=(3, 3), solver="lstsq", channels=channels))
    assert tuple(r.weight.shape) == tuple(K.shape)
    assert float((r.weight - K).abs().max()) < 1e-9
    assert r.report.r2 == pytest.approx(1.0, abs=1e-12)
    assert [f["channel"] for f in r.channel_fits] == ["R", "G", "B"]


@pytest.mark.parametrize("channels, make, K", [("each", each_target, KE), ("full", full_target, KF)])
def test_lstsq_recovers_the_bias_of_each_output_channel(channels, make, K):
    X = rgb()
    Y = make(X, K, bias=(0.1, -0.2, 0.3))
    r = learn_kernel([Pair(X, Y)], LearnConfig(kernel_size=(3, 3), solver="lstsq", channels=channels, bias=True))
    assert r.bias == pytest.approx((0.1, -0.2, 0.3), abs=1e-9)
    assert float((r.weight - K).abs().max()) < 1e-9


@pytest.mark.parametrize("solver, tol", [("sgd", 1e-4), ("lbfgs", 1e-4), ("adam", 1e-3)])
@pytest.mark.parametrize("channels, make, K", [("each", each_target, KE), ("full", full_target, KF)])
def test_every_solver_learns_colour(solver, tol, channels, make, K):
    X = rgb()
    cfg = LearnConfig(kernel_size=(3, 3), solver=solver, channels=channels, dtype="float64")
    r = learn_kernel([Pair(X, make(X))], cfg)
    assert tuple(r.weight.shape) == tuple(K.shape)
    assert float((r.weight - K).abs().max()) < tol
    assert r.report.converged


def test_each_names_the_closest_built_in_per_channel():
    X = rgb()
    r = learn_kernel([Pair(X, each_target(X))], LearnConfig(kernel_size=(3, 3), solver="lstsq", channels="each"))
    assert r.closest is None  # a colour kernel's closest built-ins are per channel
    assert r.channel_fits[0]["closest"] is None  # KE[0] is like no built-in
    assert r.channel_fits[2]["closest"]["spec"] == "sharpen"
    assert r.record()["channels"] == "each"
    assert r.record()["kernel_size"] == [3, 3, 3]


def test_full_kernel_mixes_channels():
    """An output channel made from another input channel only: full finds it, each cannot."""
    X = rgb()
    Y = torch.stack([X[1, 1:-1, 1:-1], X[2, 1:-1, 1:-1], X[0, 1:-1, 1:-1]])  # a channel rotation, valid size
    full = learn_kernel([Pair(X, Y)], LearnConfig(kernel_size=(3, 3), solver="lstsq", channels="full"))
    assert float(full.weight[0, 1, 1, 1]) == pytest.approx(1.0, abs=1e-9)
    assert float(full.weight[0, 0].abs().max()) < 1e-9
    each = learn_kernel([Pair(X, Y)], LearnConfig(kernel_size=(3, 3), solver="lstsq", channels="each"))
    assert each.report.r2 < 0.99 < full.report.r2


def test_auto_size_is_the_union_of_the_channels_supports():
    big = rgb(68)
    K = torch.zeros(3, 5, 5, dtype=torch.float64)
    K[0, 1:4, 1:4] = KE[0]  # 3x3 centred in R
    K[1, 2, 2] = 1.0  # 1x1 in G
    K[2, :, 2] = torch.tensor([1.0, -2.0, 3.0, -2.0, 1.0])  # 5x1 in B
    # A same-size target, as tools write them: the input is the middle 64x64 of what was filtered.
    pair = Pair(big[:, 2:-2, 2:-2], torch.stack([corr2d(big[c], K[c]) for c in range(3)]))
    support = colour_support([pair], channels="each", bias=False, device="cpu")
    assert support.size == (5, 3) and support.anchor is None
    assert "R 3x3, G 1x1, B 5x1" in support.reason
    r = learn_kernel([pair], LearnConfig(kernel_size="auto", solver="lstsq", channels="each"))
    assert float((r.weight - K[:, :, 1:4]).abs().max()) < 1e-9
    assert r.support == support.reason


def test_an_8_bit_colour_target_is_recovered_as_lstsq_does_for_luma(tmp_path):
    """Each channel of an 8-bit target is fitted as a luma target is: to its rounding's precision."""
    X = (rgb(96).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    Image.fromarray(X).save(tmp_path / "x.png")
    Xf = torch.from_numpy(X.astype(np.float64) / 255).permute(2, 0, 1)
    Y = each_target(Xf, KE / 4)  # same size: pad by one pixel of the valid output
    Y8 = np.clip(np.pad(Y.permute(1, 2, 0).numpy(), ((1, 1), (1, 1), (0, 0))) * 255, 0, 255).round().astype(np.uint8)
    Image.fromarray(Y8).save(tmp_path / "y.png")
    run = run_learn(
        inputs=[tmp_path / "x.png"], targets=[tmp_path / "y.png"], kernel_size="3x3", solver="lstsq", channels="each"
    )
    gap = float((run.result.weight - KE / 4).abs().max())
    assert gap < 2e-3
    assert run.record["channels"] == "each"


def test_a_single_plane_pair_is_refused_with_colour_channels(tmp_path):
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "g.png")
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "c.png")
    with pytest.raises(InputError, match=r"single-plane \(grey\) image, but R, G and B planes were asked for"):
        read_pair(tmp_path / "g.png", tmp_path / "c.png", channels="each")
    with pytest.raises(InputError, match=r"single-plane \(grey\) image"):
        read_pair(tmp_path / "c.png", tmp_path / "g.png", channels="full")


def test_colour_pairs_in_memory_must_be_rgb():
    X = make_image(pattern="noise", height=20, width=20).double()
    with pytest.raises(InputError, match="needs RGB pairs"):
        learn_kernel([Pair(X, X)], LearnConfig(kernel_size=(3, 3), solver="lstsq", channels="full"))


def test_colour_needs_pairs_and_a_known_channels_name():
    with pytest.raises(InputError, match="give --input and --target"):
        learn_kernel(config=LearnConfig(solver="lstsq", channels="each"))
    with pytest.raises(InputError, match="Invalid channels 'rgb'"):
        run_learn(channels="rgb")


def test_a_clipped_value_leaves_out_its_own_channel_only(tmp_path):
    X = (rgb(24).permute(1, 2, 0).numpy() * 200 + 20).astype(np.uint8)
    Y = X.copy()
    Y[..., 0] = 255  # R clipped everywhere; G and B usable
    Image.fromarray(X).save(tmp_path / "x.png")
    Image.fromarray(Y).save(tmp_path / "y.png")
    pair = read_pair(tmp_path / "x.png", tmp_path / "y.png", channels="each")
    assert tuple(pair.mask.shape) == (3, 24, 24)
    assert not bool(pair.mask[0].any()) and bool(pair.mask[1:].all())


def test_full_needs_an_explicit_size():
    X = rgb()
    with pytest.raises(InputError, match="--channels full needs --kernel-size HxW"):
        learn_kernel([Pair(X, full_target(X))], LearnConfig(kernel_size="auto", solver="lstsq", channels="full"))
