"""The detect pipeline on arrays: correlation, magnitude, angle, thresholds, Canny and colour."""

import numpy as np
import pytest
import torch
from conftest import cuda
from PIL import Image

from convlearn.corr import filter2d
from convlearn.detect import DetectConfig, apply_kernel, detect_image
from convlearn.errors import InputError
from convlearn.images import write_image
from convlearn.kernels import parse_kernel

CPU = DetectConfig(device="cpu")


def _rgb(seed: int, shape=(12, 15)) -> np.ndarray:
    return np.random.default_rng(seed).random((*shape, 3)).astype(np.float32)


def test_apply_kernel_is_corr2d():
    X = torch.rand(9, 10)
    K = parse_kernel("sobel-x")
    expected = filter2d(X, torch.from_numpy(K.weight).float())
    torch.testing.assert_close(apply_kernel(X, K, CPU), expected)


def test_bias_is_added():
    from convlearn.kernels import Kernel

    K = Kernel(np.array([[1.0, -1.0]]), 0.5)
    assert apply_kernel(torch.tensor([[0.0, 1.0]]), K, CPU).tolist() == [[-0.5]]


def test_magnitude_of_the_sobel_pair():
    X = np.random.default_rng(0).random((16, 18)).astype(np.float32)
    out = detect_image(X, parse_kernel("sobel-y"), DetectConfig(device="cpu", magnitude=True, mode="same"))
    gx = filter2d(torch.from_numpy(X), torch.from_numpy(parse_kernel("sobel-x").weight).float(), mode="same")
    gy = filter2d(torch.from_numpy(X), torch.from_numpy(parse_kernel("sobel-y").weight).float(), mode="same")
    torch.testing.assert_close(out.values, torch.sqrt(gx**2 + gy**2))


def test_magnitude_of_edge_pair_in_valid_mode_is_cut_to_the_common_part():
    X = torch.tensor([[0.0, 1.0, 1.0], [0.0, 1.0, 3.0], [0.0, 0.0, 0.0]])
    out = detect_image(X.numpy(), parse_kernel("edge"), DetectConfig(device="cpu", magnitude=True, angle=True))
    # gx = X[i, j] - X[i, j+1], gy = X[i, j] - X[i+1, j], both on the top-left 2x2.
    gx = X[:2, :2] - X[:2, 1:3]
    gy = X[:2, :2] - X[1:3, :2]
    torch.testing.assert_close(out.values, torch.hypot(gx, gy))
    torch.testing.assert_close(out.angle, torch.atan2(gy, gx))


def test_threshold_after_magnitude():
    X = np.zeros((8, 8), np.float32)
    X[:, 4:] = 1
    cfg = DetectConfig(device="cpu", magnitude=True, threshold=2.0, mode="same", border="replicate")
    out = detect_image(X, parse_kernel("sobel-x"), cfg)
    assert set(out.values.unique().tolist()) == {0.0, 1.0}
    assert out.values[:, 3:5].all() and out.values[:, :3].sum() == 0
    assert out.threshold.tolist() == [2.0]


def test_canny_through_detect():
    from convlearn.edges import canny

    X = np.random.default_rng(1).random((20, 20)).astype(np.float32)
    out = detect_image(X, parse_kernel("edge"), DetectConfig(device="cpu", canny=(0.2, 0.5), angle=True))
    assert torch.equal(out.values, canny(torch.from_numpy(X), 0.2, 0.5, 1.0))
    assert out.angle.shape == (20, 20)


def test_channels_each_filters_each_plane():
    rgb = _rgb(2)
    K = parse_kernel("laplacian")
    out = detect_image(rgb, K, DetectConfig(device="cpu", channels="each", mode="same", border="reflect"))
    assert out.values.shape == (12, 15, 3)
    for c in range(3):
        plane = detect_image(rgb[..., c], K, DetectConfig(device="cpu", mode="same", border="reflect")).values
        torch.testing.assert_close(out.values[..., c], plane)


def test_channels_each_otsu_is_per_channel():
    rgb = _rgb(3)
    rgb[..., 1] *= 10  # a different range in green
    out = detect_image(rgb, parse_kernel("box"), DetectConfig(device="cpu", channels="each", threshold="otsu"))
    assert out.threshold.shape == (3,)
    assert out.threshold[1] > 3 * out.threshold[0]


def test_image_shape_must_fit_channels():
    with pytest.raises(InputError, match=r"must be \(H, W, 3\)"):
        detect_image(np.zeros((4, 4)), parse_kernel("edge"), DetectConfig(device="cpu", channels="each"))


@pytest.mark.cuda
@cuda
def test_detect_on_cuda_matches_cpu():
    X = np.random.default_rng(5).random((64, 80)).astype(np.float32)
    for cfg in [DetectConfig(magnitude=True, mode="same", border="reflect"), DetectConfig(canny=(0.1, 0.3))]:
        cpu = detect_image(X, parse_kernel("sobel-x"), DetectConfig(**{**cfg.__dict__, "device": "cpu"}))
        gpu = detect_image(X, parse_kernel("sobel-x"), DetectConfig(**{**cfg.__dict__, "device": "cuda"}))
        assert gpu.values.device.type == "cuda"
        same = (cpu.values == gpu.values.cpu()).float().mean()
        assert (cpu.values - gpu.values.cpu()).abs().max() < 1e-5 or same > 0.999


def test_write_image_accepts_detect_output(tmp_path):
    out = detect_image(_rgb(6), parse_kernel("sobel-x"), DetectConfig(device="cpu", channels="each"))
    write_image(tmp_path / "a.png", out.values.numpy())
    with Image.open(tmp_path / "a.png") as image:
        assert image.mode == "RGB" and image.size == (13, 10)
