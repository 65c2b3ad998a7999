"""restore_planes: exact messages, the solve against dense least squares, and borders that do not ring."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from convlearn.corr import filter2d
from convlearn.errors import InputError
from convlearn.kernels import Kernel
from convlearn.restore import NoiseLevel, jpeg_noise, restore_planes, rounding_noise
from convlearn.restore.blur import Blur
from convlearn.restore.config import RestoreConfig, check_config


def gaussian(side: int, sigma: float) -> np.ndarray:
    g = np.exp(-0.5 * ((np.arange(side) - side // 2) / sigma) ** 2)
    return np.outer(g, g) / np.outer(g, g).sum()


def smooth_scene(shape: tuple[int, int], seed: int = 0) -> torch.Tensor:
    """A sharp-ish test image in [0, 1]: random blocks plus a smooth ramp, float64."""
    rng = np.random.default_rng(seed)
    blocks = np.kron(rng.random((shape[0] // 4 + 1, shape[1] // 4 + 1)), np.ones((4, 4)))[: shape[0], : shape[1]]
    ramp = np.linspace(0, 1, shape[1])[None, :] * np.ones(shape)
    return torch.from_numpy(0.7 * blocks + 0.3 * ramp)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(10 * torch.log10(1 / torch.mean((a - b) ** 2)))


# ---- messages -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "tv"}, "Invalid method 'tv'. Expected one of: wiener, rl"),
        ({"mode": "full"}, "Invalid mode 'full'. Expected one of: same, valid"),
        ({"border": "wrap"}, "Invalid border 'wrap'. Expected one of: unknown, zero, reflect, replicate, circular"),
        ({"strength": 0.0}, "Invalid strength 0.0. Expected a number above 0 and at most 1e+06"),
        ({"strength": float("nan")}, "Invalid strength nan. Expected a number above 0 and at most 1e+06"),
        (
            {"method": "rl", "strength": 1.0},
            "--strength sets the Wiener solve's regularisation; --method rl stops by the noise instead",
        ),
        (
            {"mode": "valid", "border": "reflect"},
            "Border 'reflect' only applies to mode 'same'; a valid blur has no border",
        ),
        ({"max_iterations": 0}, "Invalid max iterations 0. Expected 1 or more"),
    ],
)
def test_bad_choices_have_exact_messages(kwargs, message):
    with pytest.raises(InputError) as info:
        restore_planes(torch.rand(16, 16), Kernel(gaussian(3, 1.0)), **kwargs)
    assert str(info.value) == message
    assert info.value.exit_code == 2


def test_an_edge_detector_is_refused_with_the_reason():
    sobel = Kernel(np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]), name="sobel-x")
    with pytest.raises(InputError) as info:
        restore_planes(torch.rand(16, 16), sobel)
    assert str(info.value) == (
        "Kernel 'sobel-x' cannot be undone: its weights sum to 0, so the image's mean is lost "
        "(an edge detector, not a blur). Restore needs weights with a clear non-zero sum, such as a blur's 1"
    )


def test_rl_refuses_negative_weights_and_colour_kernels_must_match():
    sharpen = Kernel(np.array([[0.0, -1, 0], [-1, 5, -1], [0, -1, 0]]), name="sharpen")
    with pytest.raises(InputError, match="negative weights; --method rl needs a non-negative blur"):
        restore_planes(torch.rand(16, 16), sharpen, method="rl")
    each = Kernel(np.stack([gaussian(3, 1.0)] * 3), name="k.json")
    with pytest.raises(InputError) as info:
        restore_planes(torch.rand(2, 16, 16), each)
    assert str(info.value) == "Kernel 'k.json' has one plane per channel, shape (3, 3, 3); the image has 2"
    with pytest.raises(InputError, match="larger than the image 4x4"):
        restore_planes(torch.rand(4, 4), Kernel(gaussian(5, 1.0)))


def test_noise_levels():
    assert rounding_noise(8).sigma == pytest.approx(1 / 255 / np.sqrt(12))
    assert rounding_noise(16).source == "16-bit rounding"
    assert jpeg_noise({0: [12] * 64}).sigma * 255 == pytest.approx(12 / np.sqrt(12))
    assert check_config(RestoreConfig()) == RestoreConfig()


# ---- values ---------------------------------------------------------------------------------------------------------


def dense_blur(blur: Blur) -> np.ndarray:
    """A as a dense matrix, column by column, from the operator's forward."""
    Hx, Wx = blur.unknowns
    eye = torch.eye(Hx * Wx, dtype=torch.float64).reshape(-1, Hx, Wx)
    return np.stack([blur.forward(e).flatten().numpy() for e in eye], axis=1)


def dense_gradient(shape: tuple[int, int]) -> np.ndarray:
    """D: forward differences along rows and columns inside the frame, as a dense matrix."""
    H, W = shape
    rows = []
    for y in range(H):
        for x in range(W):
            for dy, dx in ((0, 1), (1, 0)):
                if y + dy < H and x + dx < W:
                    row = np.zeros(H * W)
                    row[y * W + x], row[(y + dy) * W + x + dx] = -1.0, 1.0
                    rows.append(row)
    return np.array(rows)


SETUPS = [("same", "unknown", (0, 2)), ("valid", "unknown", None), ("same", "reflect", None)]


@pytest.mark.parametrize(("mode", "border", "anchor"), SETUPS)
def test_wiener_matches_dense_regularised_least_squares(mode, border, anchor):
    kernel = Kernel(np.array([[0.1, 0.3, 0.1], [0.05, 0.4, 0.05]]), anchor=anchor, bias=0.02)
    b = torch.rand(9, 11, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    strength = 1e-2
    out = restore_planes(b, kernel, strength=strength, mode=mode, border=border, tolerance=1e-10)
    blur = Blur(torch.as_tensor(kernel.weight), (9, 11), mode, border, kernel.origin)
    A, D = dense_blur(blur), dense_gradient(blur.unknowns)
    x = np.linalg.solve(A.T @ A + strength * D.T @ D, A.T @ (b.flatten().numpy() - 0.02))
    expected = blur.frame(torch.from_numpy(x.reshape(blur.unknowns)))
    assert out.planes.shape == expected.shape
    torch.testing.assert_close(out.planes, expected, rtol=0, atol=1e-7)
    assert out.reports[0].strength == strength and out.reports[0].why == "strength 0.01: given"


def test_a_noiseless_blur_comes_back_with_a_tiny_strength():
    sharp = smooth_scene((64, 64))
    K = gaussian(5, 1.0)
    blurred = filter2d(sharp, torch.from_numpy(K), mode="same", border="reflect")
    out = restore_planes(blurred, Kernel(K), strength=1e-6, noise=0.0, tolerance=1e-6, max_iterations=500)
    assert psnr(out.planes[8:-8, 8:-8], sharp[8:-8, 8:-8]) > psnr(blurred[8:-8, 8:-8], sharp[8:-8, 8:-8]) + 15


def blurred_8bit(shape=(96, 96), seed=1):
    sharp = smooth_scene(shape, seed).float()
    K = gaussian(9, 2.0)
    blurred = filter2d(sharp, torch.from_numpy(K).float(), mode="same", border="reflect")
    return sharp, (blurred * 255).round() / 255, Kernel(K)


def test_default_is_chosen_from_8bit_rounding_and_does_not_ring():
    sharp, blurred, kernel = blurred_8bit()
    out = restore_planes(blurred, kernel)
    report = out.reports[0]
    assert report.noise_source == "8-bit rounding"
    assert report.converged and "least expected error" in report.why
    inside = psnr(out.planes[8:-8, 8:-8], sharp[8:-8, 8:-8])
    assert inside > psnr(blurred[8:-8, 8:-8], sharp[8:-8, 8:-8]) + 2
    assert psnr(out.planes, sharp) > inside - 1.0  # the full frame within 1 dB of the interior


def test_rl_stops_at_the_noise_and_improves():
    sharp, blurred, kernel = blurred_8bit()
    out = restore_planes(blurred, kernel, method="rl", noise=NoiseLevel(2 / 255, "test"), max_iterations=300)
    report = out.reports[0]
    assert report.converged and 0 < report.iterations < 300
    assert psnr(out.planes[8:-8, 8:-8], sharp[8:-8, 8:-8]) > psnr(blurred[8:-8, 8:-8], sharp[8:-8, 8:-8])


def test_colour_planes_with_a_kernel_per_channel_match_plane_by_plane():
    _, blurred, kernel = blurred_8bit((48, 48))
    planes = torch.stack([blurred, blurred.flip(-1), blurred.T.contiguous()])
    weights = np.stack([kernel.weight, kernel.weight.T, gaussian(9, 1.0)])
    out = restore_planes(planes, Kernel(weights), strength=1e-3)
    for n in range(3):
        one = restore_planes(planes[n], Kernel(weights[n]), strength=1e-3)
        torch.testing.assert_close(out.planes[n], one.planes)
    grey = restore_planes(planes[None, :2], kernel, strength=1e-3)  # (1, 2, H, W): a 2-D kernel on every plane
    assert grey.planes.shape == (1, 2, 48, 48) and len(grey.reports) == 2


@pytest.mark.parametrize(("mode", "border", "anchor"), SETUPS)
def test_gram_and_adjoint_match_the_dense_operator(mode, border, anchor):
    kernel = Kernel(np.array([[0.1, 0.3, 0.1], [0.05, 0.4, 0.05]]), anchor=anchor)
    blur = Blur(torch.as_tensor(kernel.weight), (9, 11), mode, border, kernel.origin)
    A = dense_blur(blur)
    g = torch.Generator().manual_seed(5)
    x = torch.rand(blur.unknowns, dtype=torch.float64, generator=g)
    r = torch.rand(9, 11, dtype=torch.float64, generator=g)
    np.testing.assert_allclose(blur.gram(x).flatten().numpy(), A.T @ A @ x.flatten().numpy(), atol=1e-12)
    np.testing.assert_allclose(blur.adjoint(r).flatten().numpy(), A.T @ r.flatten().numpy(), atol=1e-12)
