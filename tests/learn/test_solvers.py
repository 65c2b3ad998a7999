"""Every solver recovers the kernel through the method registry (convlearn.learn.solvers); failures stop cleanly."""

import itertools
import math

import pytest
import torch
from learn_data import K3, float_pair, noise, patches

from convlearn.corr import corr2d, filter2d
from convlearn.errors import InputError
from convlearn.learn import (
    CONVERGED_RTOL,
    DEFAULT_EPOCHS,
    REGISTRY,
    SOLVERS,
    LearnConfig,
    LearnHooks,
    Pair,
    TrainingDiverged,
    TrainingInterrupted,
    fit_notes,
    learn_kernel,
    normal_equations,
    safe_step,
    solver_named,
    train_sgd,
)
from convlearn.synth import make_image


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


def test_sgd_at_the_safe_step_falls_monotonically():
    # Given a step, sgd on pairs is the notebook's plain descent on a Conv2D.
    pair = float_pair()
    G = normal_equations([pair], (3, 3))[0]
    result = train_sgd([pair], LearnConfig(kernel_size=(3, 3), epochs=300, lr=safe_step(G)))
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
        learn_kernel([float_pair()], LearnConfig(kernel_size=(3, 3), epochs=100), LearnHooks(on_epoch=on_epoch))
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


# The choices and the method registry.


def test_the_choices_and_their_defaults():
    assert SOLVERS == ("sgd", "lstsq", "adam", "lbfgs")
    assert DEFAULT_EPOCHS == {"sgd": 10, "adam": 2000, "lbfgs": 100}
    assert [name for name in SOLVERS if not solver_named(name).iterative] == ["lstsq"]
    assert LearnConfig(solver="lstsq").epochs_for_solver() == 0
    assert LearnConfig(solver="adam", epochs=7).epochs_for_solver() == 7


def test_every_choice_names_registered_methods_and_every_method_is_named():
    named = set()
    for name in SOLVERS:
        solver = solver_named(name)
        for notebook, lr in itertools.product((False, True), (None, 0.1)):
            named.add(solver.method_for(notebook=notebook, lr=lr))
    assert named == set(REGISTRY) == {"lstsq", "nesterov", "plain-sgd", "adam", "lbfgs"}


@pytest.mark.parametrize(
    ("notebook", "lr", "method"),
    [(False, None, "nesterov"), (True, None, "plain-sgd"), (False, 0.01, "plain-sgd"), (True, 0.01, "plain-sgd")],
)
def test_sgd_runs_nesterov_on_pairs_and_plain_sgd_on_the_notebook_or_with_a_step(notebook, lr, method):
    assert solver_named("sgd").method_for(notebook=notebook, lr=lr) == method
    assert solver_named("adam").method_for(notebook=notebook, lr=lr) == "adam"


def test_default_steps_come_from_the_choices():
    sgd, adam, lbfgs = (solver_named(name) for name in ("sgd", "adam", "lbfgs"))
    assert sgd.default_lr(0.25, notebook=False) == 0.25  # the safe step from the data
    assert sgd.default_lr(0.25, notebook=True) == 0.03  # the notebook's step on its own problem
    assert adam.default_lr(0.25, notebook=True) == 0.1 and lbfgs.default_lr(0.25, notebook=False) == 1.0


def test_solver_named_refuses_an_unknown_name():
    with pytest.raises(InputError, match="Invalid solver 'newton'. Expected one of: sgd, lstsq, adam, lbfgs"):
        solver_named("newton")


def test_on_start_gets_each_solvers_default_step():
    pair = float_pair(size=16)
    for solver, expected in (("adam", 0.1), ("lbfgs", 1.0)):
        starts = []
        hooks = LearnHooks(on_start=starts.append)
        learn_kernel([pair], LearnConfig(kernel_size=(3, 3), solver=solver, epochs=1), hooks)
        assert [(s.solver, s.step, s.epochs, s.notebook) for s in starts] == [(solver, expected, 1, False)]
