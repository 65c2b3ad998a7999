"""--device's check without torch: what it refuses, torch.device refuses too."""

import pytest
import torch

from convlearn.errors import InputError
from convlearn.runtime.config import check_device


@pytest.mark.parametrize("name", ["auto", "cpu", "cuda", "cuda:0", "cuda:12", "CPU", " cuda:1 ", "cpu:0"])
def test_names_torch_reads_pass(name):
    assert check_device(name) == name


@pytest.mark.parametrize("name", ["gpu", "cuda:", "cuda:-1", "cuda:01", "cuda: 1", "cuda:1x", "mps", ""])
def test_names_torch_cannot_read_fail_with_the_choices(name):
    with pytest.raises(InputError, match=r"Invalid device .*\. Expected one of: auto, cpu, cuda"):
        check_device(name)
    if name.strip() not in ("mps", ""):
        with pytest.raises(RuntimeError):
            torch.device(name.strip().lower())
