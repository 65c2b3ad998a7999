"""The fit report, the warnings and the reference difference (convlearn.learn.report)."""

import math

import pytest
import torch
from learn_data import K3, float_pair, noise

from convlearn.corr import corr2d
from convlearn.errors import InputError
from convlearn.kernels import Kernel, parse_kernel
from convlearn.learn import LearnConfig, Pair, fit_notes, fit_report, learn_kernel, max_abs_difference, normal_equations


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
