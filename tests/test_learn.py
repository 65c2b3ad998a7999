"""The solvers and the fit report (convlearn.learn), against float64 references."""

import itertools
import math

import pytest
import torch

from convlearn.corr import corr2d, filter2d
from convlearn.errors import InputError
from convlearn.kernels import Kernel, parse_kernel
from convlearn.learn import (
    CONVERGED_RTOL,
    Conv2D,
    LearnConfig,
    Pair,
    TrainingDiverged,
    TrainingInterrupted,
    align_target,
    fit_notes,
    fit_report,
    learn_kernel,
    max_abs_difference,
    normal_equations,
    notebook_pair,
    safe_step,
    train_sgd,
)
from convlearn.synth import make_image

# An asymmetric kernel: a flip or a transpose would not fit it.
K3 = torch.tensor([[0.5, -1.0, 0.25], [2.0, 0.0, -0.75], [0.1, 1.5, -2.0]], dtype=torch.float64)


def noise(size=48, seed=1):
    return make_image(pattern="noise", height=size, width=size, seed=seed)  # (size, size) float32 in [0, 1]


def float_pair(K=K3, size=48, seed=1, bias=0.0):
    X = noise(size, seed)
    return Pair(X, (corr2d(X.double(), K) + bias).float())


def patches(X: torch.Tensor, kernel_size) -> torch.Tensor:
    """The explicit patch matrix A, (Ho * Wo, h * w), in float64: the reference for the normal equations."""
    h, w = kernel_size
    Ho, Wo = X.shape[0] - h + 1, X.shape[1] - w + 1
    Xd = X.double()
    return torch.stack([Xd[a : a + Ho, c : c + Wo].reshape(-1) for a in range(h) for c in range(w)], 1)


# The notebook's layer and run.


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
    result = train_sgd(on_epoch=lambda i, loss: losses.append((i, loss)))
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


def test_same_size_target_aligned_like_opencv():
    X = torch.arange(20.0).reshape(4, 5)
    Y = torch.zeros(4, 5)
    assert align_target(X, Y, (3, 3)).shape == (2, 3)
    Y[1:3, 1:4] = 7
    assert torch.equal(align_target(X, Y, (3, 3)), torch.full((2, 3), 7.0))


def test_mismatched_target():
    with pytest.raises(InputError, match="a target must have the input's size or the valid size 3x4"):
        align_target(torch.zeros(4, 5), torch.zeros(3, 3), (2, 2))


# The normal equations.


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


# Every solver recovers the kernel.


def test_lstsq_recovers_a_float_targets_kernel_within_1e6():
    result = learn_kernel([float_pair(size=64)], LearnConfig(kernel_size=(3, 3), solver="lstsq"))
    assert result.weight.dtype == torch.float64
    assert (result.weight - K3).abs().max() < 1e-6
    assert result.stopped == "solved" and result.lr is None and result.losses == []
    assert result.report.r2 == pytest.approx(1.0, abs=1e-9) and result.report.converged


@pytest.mark.parametrize(
    ("solver", "epochs", "tolerance"),
    [("sgd", 800, 2e-3), ("adam", 1000, 1e-4), ("lbfgs", 100, 1e-4)],
)
def test_iterative_solvers_recover_the_kernel(solver, epochs, tolerance):
    result = learn_kernel([float_pair()], LearnConfig(kernel_size=(3, 3), epochs=epochs, solver=solver))
    assert result.solver == solver and result.losses and result.epochs_run <= epochs
    assert (result.weight.double() - K3).abs().max() < tolerance
    assert result.report.gap == pytest.approx(float((result.weight.double() - K3).abs().max()), abs=1e-6)


def test_lbfgs_is_within_1e4_in_tens_of_iterations_and_exact_in_float64():
    pair = float_pair()
    quick = learn_kernel([pair], LearnConfig(kernel_size=(3, 3), solver="lbfgs", epochs=30))
    assert (quick.weight.double() - K3).abs().max() < 1e-4
    result = learn_kernel([pair], LearnConfig(kernel_size=(3, 3), solver="lbfgs", dtype="float64"))
    assert result.weight.dtype == torch.float64 and result.stopped == "converged"
    assert result.report.relative_gradient <= 1e-10
    assert (result.weight - K3).abs().max() < 1e-7


def test_sgd_uses_the_safe_step_on_pairs_and_loss_falls_monotonically():
    pair = float_pair()
    G = normal_equations([pair], (3, 3))[0]
    result = train_sgd([pair], LearnConfig(kernel_size=(3, 3), epochs=300))
    assert result.lr == pytest.approx(safe_step(G)) and result.safe_lr == result.lr
    assert all(b <= a for a, b in itertools.pairwise(result.losses))
    assert result.losses[-1] < result.losses[0] * 1e-2


def test_sgd_that_does_not_converge_says_so_and_names_lstsq():
    result = learn_kernel([float_pair()], LearnConfig(kernel_size=(3, 3), epochs=5))
    assert result.stopped == "epochs" and not result.report.converged
    assert result.report.relative_gradient > CONVERGED_RTOL
    (note,) = [n for n in fit_notes(result) if "did not converge" in n]
    assert "--solver lstsq" in note and "5 epochs" in note


def test_adam_stops_early_once_converged():
    result = learn_kernel([float_pair()], LearnConfig(kernel_size=(3, 3), solver="adam", epochs=5000))
    assert result.stopped == "converged" and result.epochs_run < 5000
    assert result.report.relative_gradient <= CONVERGED_RTOL


def test_every_solver_learns_one_kernel_from_several_pairs():
    # Noisy targets: each pair alone gives its own kernel; the joint least-squares
    # kernel (from the stacked patch matrices) is what every solver must find.
    generator = torch.Generator().manual_seed(3)
    pairs = []
    for seed in (7, 8):
        X = noise(32, seed)
        Y = corr2d(X.double(), K3) + 0.05 * torch.randn(30, 30, generator=generator, dtype=torch.float64)
        pairs.append(Pair(X, Y.float()))
    A = torch.cat([patches(p.input, (3, 3)) for p in pairs])
    y = torch.cat([p.target.double().reshape(-1) for p in pairs])
    joint = torch.linalg.solve(A.T @ A, A.T @ y).reshape(3, 3)
    alone = learn_kernel(pairs[:1], LearnConfig(kernel_size=(3, 3), solver="lstsq")).weight
    assert (alone - joint).abs().max() > 5e-3
    for solver in ("lstsq", "adam", "lbfgs"):
        result = learn_kernel(pairs, LearnConfig(kernel_size=(3, 3), solver=solver))
        assert result.report.pairs == 2 and result.report.pixels == 2 * 30 * 30
        assert (result.weight.double() - joint).abs().max() < 5e-4, solver
    # SGD (slow to converge, so only a few epochs): one full-batch loss over both pairs.
    config = LearnConfig(kernel_size=(3, 3), epochs=3)
    both, first, second = (learn_kernel(p, config).losses[0] for p in (pairs, pairs[:1], pairs[1:]))
    assert both == pytest.approx(first + second, rel=1e-6)


def test_one_pair_that_cannot_determine_the_kernel_gets_the_smallest_one_and_a_note():
    # The notebook's stripes never change down a column: a 2x2 kernel is not determined.
    X = make_image()
    pair = Pair(X, corr2d(X, torch.tensor([[1.0, -1.0], [0.0, 0.0]])))
    result = learn_kernel([pair], LearnConfig(kernel_size=(2, 2), solver="lstsq"))
    assert math.isinf(result.report.condition) and result.report.gap is None
    assert result.report.loss < 1e-12  # the quadratic form rounds at about 1e-16 of y^T y
    torch.testing.assert_close(result.weight, torch.tensor([[0.5, -0.5], [0.5, -0.5]], dtype=torch.float64))
    assert any("do not determine the kernel uniquely" in n for n in fit_notes(result))


# Targets as other tools write them.


def test_same_size_target_from_opencv_style_filtering():
    X = noise()
    Y = filter2d(X.double(), K3, mode="same", border="reflect").float()  # cv2.filter2D's default border
    result = learn_kernel([Pair(X, Y)], LearnConfig(kernel_size=(3, 3), solver="lstsq"))
    assert (result.weight - K3).abs().max() < 1e-6


def test_clipped_target_is_exact_with_the_mask_and_off_without_it():
    X = noise()
    Y = corr2d(X.double(), K3)
    clipped = Y.clamp(0, 1).float()
    usable = (clipped > 0) & (clipped < 1)
    masked = learn_kernel([Pair(X, clipped, mask=usable)], LearnConfig(kernel_size=(3, 3), solver="lstsq"))
    unmasked = learn_kernel([Pair(X, clipped)], LearnConfig(kernel_size=(3, 3), solver="lstsq"))
    assert (masked.weight - K3).abs().max() < 1e-5
    assert (unmasked.weight - K3).abs().max() > 0.1
    assert masked.report.excluded == int((~usable).sum()) and masked.report.pixels == int(usable.sum())


def test_offset_needs_the_bias():
    pair = float_pair(bias=128 / 255)
    plain = learn_kernel([pair], LearnConfig(kernel_size=(3, 3), solver="lstsq"))
    offset = learn_kernel([pair], LearnConfig(kernel_size=(3, 3), solver="lstsq", bias=True))
    assert (plain.weight - K3).abs().max() > 0.01
    assert (offset.weight - K3).abs().max() < 1e-5
    assert offset.bias == pytest.approx(128 / 255, abs=1e-6)
    iterative = learn_kernel([pair], LearnConfig(kernel_size=(3, 3), solver="lbfgs", bias=True, dtype="float64"))
    assert iterative.bias == pytest.approx(128 / 255, abs=1e-6)


# The report.


def test_report_values_by_hand():
    X = torch.arange(12.0).reshape(3, 4)
    Y = 2 * X + torch.tensor([[0.0, 1.0, 0.0, -1.0]] * 3)  # 2x plus a residual of +-1 on 6 pixels
    ne = normal_equations([Pair(X, Y)], (1, 1))
    report = fit_report(ne, torch.tensor([2.0]))
    assert report.loss == pytest.approx(6.0)
    assert report.rms == pytest.approx(math.sqrt(6 / 12))
    sst = float(((Y - Y.mean()) ** 2).sum())
    assert report.r2 == pytest.approx(1 - 6 / sst)


def test_non_linear_target_warns():
    X = noise(64)
    sobel = torch.from_numpy(parse_kernel("sobel-x").weight)
    Y = corr2d(X.double(), sobel).abs().float()  # |Sobel|: no linear filter explains it
    result = learn_kernel([Pair(X, Y)], LearnConfig(kernel_size=(3, 3), solver="lstsq", bias=True))
    assert result.report.r2_best < 0.99
    (note,) = fit_notes(result)
    assert note.startswith(f"R² is {result.report.r2_best:.4f} at best (< 0.99): the target is not well explained")


def test_linear_target_does_not_warn():
    result = learn_kernel([float_pair()], LearnConfig(kernel_size=(3, 3), solver="lstsq"))
    assert fit_notes(result) == []


def test_max_abs_difference_with_a_reference():
    result = learn_kernel([float_pair(bias=0.25)], LearnConfig(kernel_size=(3, 3), solver="lstsq", bias=True))
    assert max_abs_difference(result, Kernel(K3.numpy(), 0.25)) < 1e-5
    assert max_abs_difference(result, Kernel(K3.numpy())) == pytest.approx(0.25, abs=1e-5)  # the bias counts
    with pytest.raises(InputError, match="The reference kernel is 1x2 but the learned one is 3x3"):
        max_abs_difference(result, parse_kernel("edge"))


def test_record_holds_what_the_output_json_needs():
    result = learn_kernel([float_pair()], LearnConfig(kernel_size=(3, 3), epochs=4))
    record = result.record()
    assert record["solver"] == "sgd" and record["kernel_size"] == [3, 3] and record["epochs"] == 4
    assert record["step"] == result.lr and record["loss"] == result.report.loss and record["r2"] == result.report.r2
    assert record["inputs"] == ["<memory>"] and record["targets"] == ["<memory>"]


# Failures: divergence, interrupts, bad settings.


def test_a_too_large_step_stops_with_the_safe_step_and_the_best_kernel():
    pair = float_pair()
    safe = safe_step(normal_equations([pair], (3, 3)).gram)
    with pytest.raises(TrainingDiverged, match="A safe step is") as caught:
        learn_kernel([pair], LearnConfig(kernel_size=(3, 3), epochs=200, lr=safe * 3))
    result = caught.value.result
    assert f"{safe:.4g}" in str(caught.value) and result.stopped == "diverged"
    assert result.report.loss <= result.losses[0]  # the best kernel, not the last one
    assert caught.value.exit_code == 1


def test_a_non_finite_loss_stops():
    with pytest.raises(TrainingDiverged, match=r"The loss became (inf|nan)") as caught:
        learn_kernel([float_pair()], LearnConfig(kernel_size=(3, 3), epochs=50, lr=1e30))
    assert torch.isfinite(caught.value.result.weight).all()


def test_ctrl_c_keeps_the_kernel_reached_so_far():
    def on_epoch(epoch, loss):
        if epoch == 4:
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted) as caught:
        learn_kernel([float_pair()], LearnConfig(kernel_size=(3, 3), epochs=100), on_epoch)
    result = caught.value.result
    assert caught.value.exit_code == 130 and "Interrupted at epoch 5 of 100" in str(caught.value)
    assert result.stopped == "interrupted" and result.epochs_run == 5 and len(result.losses) == 5
    assert result.report.loss < result.losses[0]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (LearnConfig(solver="newton"), "Invalid solver 'newton'. Expected one of: sgd, lstsq, adam, lbfgs"),
        (LearnConfig(dtype="half"), "Invalid dtype 'half'. Expected one of: float32, float64"),
        (LearnConfig(lr=-1.0), "Invalid step -1.0; --lr must be a positive number"),
        (LearnConfig(kernel_size=(0, 2)), "Invalid kernel size 0x2"),
    ],
)
def test_bad_settings(config, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        learn_kernel(config=config)


def test_no_pairs_and_zero_inputs():
    with pytest.raises(InputError, match="No training pairs given"):
        learn_kernel([], LearnConfig(solver="lstsq"))
    zeros = Pair(torch.zeros(5, 5), torch.zeros(5, 4))
    for solver in ("lstsq", "sgd"):
        with pytest.raises(InputError, match="constant zero"):
            learn_kernel([zeros], LearnConfig(solver=solver))


def test_notebook_pair_is_the_notebooks():
    pair = notebook_pair()
    assert pair.input.shape == (6, 8) and pair.target[0].tolist() == [0, 1, 0, 0, 0, -1, 0]


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_the_cpu():
    pair = float_pair()
    for solver in ("lstsq", "lbfgs", "sgd"):
        config = LearnConfig(kernel_size=(3, 3), solver=solver, epochs=50 if solver == "sgd" else None)
        cpu = learn_kernel([pair], config)
        gpu = learn_kernel([pair], LearnConfig(**{**config.__dict__, "device": "cuda"}))
        assert gpu.weight.device.type == "cpu"
        assert (cpu.weight.double() - gpu.weight.double()).abs().max() < 1e-5, solver
