"""The conv2d engine."""

import torch
from corr_cases import rand, randn

from convlearn.corr import corr2d


def test_conv2d_strategy_leaves_cudnn_flags_alone():
    before = (torch.backends.cudnn.benchmark, torch.backends.cudnn.allow_tf32)
    for _ in range(3):  # many tiles on several worker threads at once
        corr2d(rand(700, 700), randn(3, 3), strategy="conv2d")
    assert (torch.backends.cudnn.benchmark, torch.backends.cudnn.allow_tf32) == before
