"""convlearn.restore_planes follows the array rule: NumPy in, NumPy out (channels last); torch in, torch out."""

import numpy as np
import torch

import convlearn
from convlearn.restore import restore_planes as restore_tensors


def test_numpy_grey_in_gives_numpy_out_equal_to_the_torch_result():
    b = np.random.default_rng(0).random((30, 40)).astype(np.float32)
    out = convlearn.restore_planes(b, "gaussian:5,1", strength=1e-3)
    ref = restore_tensors(torch.from_numpy(b), convlearn.parse_kernel("gaussian:5,1"), strength=1e-3)
    assert isinstance(out.planes, np.ndarray) and out.planes.shape == (30, 40)
    np.testing.assert_allclose(out.planes, ref.planes.numpy(), rtol=0, atol=1e-6)
    assert out.reports == ref.reports


def test_numpy_colour_stays_channels_last_and_torch_stays_torch():
    rgb = np.random.default_rng(1).random((24, 28, 3))
    out = convlearn.restore_planes(rgb, np.full((3, 3), 1 / 9), strength=1e-3)
    assert isinstance(out.planes, np.ndarray) and out.planes.shape == (24, 28, 3) and len(out.reports) == 3
    first = restore_tensors(torch.from_numpy(rgb[..., 0]), convlearn.Kernel(np.full((3, 3), 1 / 9)), strength=1e-3)
    np.testing.assert_allclose(out.planes[..., 0], first.planes.numpy(), atol=1e-9)
    t = convlearn.restore_planes(torch.from_numpy(rgb).permute(2, 0, 1), "box:3", strength=1e-3)
    assert isinstance(t.planes, torch.Tensor) and t.planes.shape == (3, 24, 28)
