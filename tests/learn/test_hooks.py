"""The hooks record (convlearn.learn.hooks): what a fit tells, and when, through one LearnHooks."""

import pytest
import torch
from learn_data import float_pair

from convlearn.learn import LearnConfig, LearnHooks, Pair, TrainingInterrupted, TrainingStart, learn_kernel
from convlearn.synth import make_image


def test_empty_hooks_call_nothing_and_a_fit_needs_none():
    LearnHooks().start(TrainingStart("sgd", 0.1, "given by --lr", 1, False))
    LearnHooks().epoch(0, 1.0)
    assert learn_kernel(None, LearnConfig(epochs=2)).epochs_run == 2


def test_start_then_every_epoch_in_order():
    told = []
    hooks = LearnHooks(on_start=lambda s: told.append(("start", s.step, s.how)), on_epoch=lambda i, _: told.append(i))
    result = learn_kernel([float_pair()], LearnConfig(kernel_size=(3, 3), solver="adam", epochs=5, lr=0.05), hooks)
    assert told == [("start", 0.05, "given by --lr"), 0, 1, 2, 3, 4] and result.epochs_run == 5


def test_the_epochs_losses_are_the_results():
    losses = []
    result = learn_kernel(None, LearnConfig(), LearnHooks(on_epoch=lambda i, loss: losses.append(loss)))
    assert losses == result.losses and len(losses) == 10


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_a_keyboard_interrupt_from_on_epoch_stops_every_iterative_solver(solver):
    def interrupt(epoch, loss):
        if epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted, match="Interrupted at epoch 2 of ") as caught:
        learn_kernel(
            [float_pair()], LearnConfig(kernel_size=(3, 3), solver=solver, epochs=50), LearnHooks(on_epoch=interrupt)
        )
    assert caught.value.result.stopped == "interrupted" and caught.value.result.epochs_run == 2


def test_a_colour_fit_starts_once_and_counts_each_channels_epochs_from_0():
    X = torch.stack([make_image(pattern="noise", height=24, width=24, seed=s).double() for s in (1, 2, 3)])
    pair = Pair(X, X[:, 1:-1, 1:-1] * 0.5)
    starts, epochs = [], []
    hooks = LearnHooks(on_start=starts.append, on_epoch=lambda i, loss: epochs.append(i))
    config = LearnConfig(kernel_size=(3, 3), solver="adam", epochs=3, channels="each")
    learn_kernel([pair], config, hooks)
    assert len(starts) == 1 and starts[0].solver == "adam" and epochs == [0, 1, 2] * 3
