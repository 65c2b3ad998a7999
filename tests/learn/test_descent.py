"""The nesterov method, sgd on pairs (convlearn.learn.descent): preconditioned Nesterov descent that converges."""

import math

import numpy as np
import pytest
import torch
from learn_data import K3, float_pair, noise

from convlearn.corr import corr2d
from convlearn.learn import (
    LearnConfig,
    LearnHooks,
    NormalEquations,
    Pair,
    TrainingInterrupted,
    learn_kernel,
    normal_equations,
)
from convlearn.learn.descent import DESCENT_CAP, plan


def smooth_pair(size=96, smooth=1.0, seed=4, K=K3):
    """A harder pair: smoother noise, so the Gram matrix is worse conditioned (~1e4 at 3x3)."""
    from convlearn.synth import make_image

    X = make_image(pattern="noise", height=size, width=size, seed=seed, smooth=smooth).double()
    return Pair(X, corr2d(X, K))


def test_plan_of_a_diagonal_gram_is_one_exact_step():
    ne = NormalEquations(torch.diag(torch.tensor([4.0, 1.0], dtype=torch.float64)), torch.ones(2), 0.0, 0.0, 1)
    p = plan(ne)
    assert p.step == 0.5 and p.momentum == 0.0 and p.condition == 1.0 and p.lowest == 1.0
    np.testing.assert_array_equal(p.scale, [0.25, 1.0])


def test_plan_momentum_is_from_the_preconditioned_condition_number():
    ne = normal_equations([smooth_pair()], (3, 3))
    p = plan(ne)
    G = ne.gram.numpy()
    d = 1 / np.sqrt(np.diag(G))
    ev = np.linalg.eigvalsh(d[:, None] * G * d[None, :])
    kappa = ev[-1] / ev[0]
    assert p.condition == pytest.approx(kappa, rel=1e-9) and p.step == pytest.approx(1 / (2 * ev[-1]))
    assert p.momentum == pytest.approx((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1))


def test_sgd_on_pairs_runs_until_it_is_within_1e6_of_lstsq():
    pair = smooth_pair()
    exact = learn_kernel([pair], LearnConfig(kernel_size=(3, 3), solver="lstsq")).weight
    result = learn_kernel([pair], LearnConfig(kernel_size=(3, 3)))
    assert result.report.condition > 1e3  # hard for plain descent: it would need about this many epochs per digit
    assert result.stopped == "converged" and result.report.converged and result.epochs_run < DESCENT_CAP
    assert result.weight.dtype == torch.float64
    # Certified on stopping: ||k - k*|| <= ||G k - b|| / λmin <= 1e-6 ||k|| (2-norms).
    assert float(torch.linalg.vector_norm(result.weight - exact)) <= 1e-6 * float(torch.linalg.vector_norm(exact))
    assert (result.weight - K3).abs().max() < 1e-5
    assert result.lr == pytest.approx(plan(normal_equations([pair], (3, 3))).step)


def test_sgd_with_epochs_runs_exactly_that_many():
    result = learn_kernel([float_pair()], LearnConfig(kernel_size=(3, 3), epochs=7))
    assert result.epochs_run == 7 and len(result.losses) == 7 and result.stopped == "epochs"
    long = learn_kernel([float_pair()], LearnConfig(kernel_size=(3, 3), epochs=3000))
    assert long.epochs_run == 3000 and long.stopped == "converged"  # converged long before, and ran on


def test_sgd_with_a_bias_and_a_mask():
    X = noise(40, seed=2).double()
    Y = corr2d(X, K3) + 0.3
    mask = torch.rand(Y.shape, generator=torch.Generator().manual_seed(0)) > 0.3
    result = learn_kernel([Pair(X, Y, mask=mask)], LearnConfig(kernel_size=(3, 3), bias=True))
    assert result.stopped == "converged"
    norm = float(torch.linalg.vector_norm(result.vector()))
    assert (result.weight - K3).abs().max() < 1e-6 * norm and result.bias == pytest.approx(0.3, abs=1e-6 * norm)


def test_ctrl_c_keeps_the_kernel_reached():
    def interrupt(epoch, loss):
        if epoch == 4:
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted, match="Interrupted at epoch 5 of ") as info:
        learn_kernel([float_pair()], LearnConfig(kernel_size=(3, 3)), LearnHooks(on_epoch=interrupt))
    assert info.value.result.stopped == "interrupted" and info.value.result.epochs_run == 5
    assert torch.isfinite(info.value.result.weight).all()
