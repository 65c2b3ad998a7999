"""corr2d on a CUDA GPU: every strategy against float64 references, TF32 off, the fused kernel.

Skipped without a GPU. Self-contained (no conftest import), so that
``benchmarks/gpu_check.sh`` can run it with ``--noconftest`` on a machine that
has torch but not the CLI's dependencies. ``CONVLEARN_CUDA_TESTS_ON=cpu`` runs
the device-neutral ones on the CPU, to check the tests themselves without a GPU.
"""

import os
import warnings

import pytest
import torch
import torch.nn.functional as F

from convlearn.corr import STRATEGIES, choose_strategy, corr2d, filter2d, fused, tiles2d
from convlearn.corr.fft import FftPlan, fast_size, fft_error_bound

DEVICE = torch.device(os.environ.get("CONVLEARN_CUDA_TESTS_ON", "cuda"))
ON_CUDA = DEVICE.type == "cuda"
pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(ON_CUDA and not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]
only_on_cuda = pytest.mark.skipif(not ON_CUDA, reason="what it checks exists on CUDA only")

FAST = [s for s in STRATEGIES if s != "auto"]


def reference(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid correlation by F.conv2d in float64 on the CPU, batched."""
    Xb = X.reshape(-1, *X.shape[-2:]).double().cpu()
    out = F.conv2d(Xb[:, None], K.double().cpu()[None, None])[:, 0]
    return out.reshape(*X.shape[:-2], *out.shape[-2:])


def summation_bound(X: torch.Tensor, K: torch.Tensor) -> float:
    """Worst case of an fp32 sum of h*w products in any order: h*w*u*sum|K|*max|X|."""
    u = torch.finfo(X.dtype).eps / 2
    return K.numel() * u * float(K.abs().sum()) * float(X.abs().max())


def check(Y: torch.Tensor, X: torch.Tensor, K: torch.Tensor, strategy: str) -> None:
    """The direct sum's rounding bound; the FFT's documented bound (cuDNN may use Winograd or an FFT too)."""
    err = (Y.double().cpu() - reference(X, K)).abs().max().item()
    fft = fft_error_bound(X, K, fast_size(X.shape[-2]) * fast_size(X.shape[-1]))
    if strategy == "fft" or (strategy == "conv2d" and ON_CUDA):
        assert err <= max(fft, summation_bound(X, K))
    else:
        assert err <= summation_bound(X, K)


def data(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=g).to(DEVICE)


def kernel(h, w, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(h, w, generator=g).to(DEVICE)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("shape", [(1, 2), (3, 3), (5, 5), (15, 15), (31, 31)])
def test_every_strategy_on_cuda(strategy, shape):
    X, K = data(257, 300), kernel(*shape)
    Y = corr2d(X, K, strategy=strategy)
    assert Y.device.type == DEVICE.type and Y.dtype == torch.float32
    check(Y, X, K, strategy)


@pytest.mark.parametrize("strategy", FAST)
def test_batches_on_cuda(strategy):
    X, K = data(4, 1, 96, 80), kernel(5, 4)
    Y = corr2d(X, K, strategy=strategy)
    assert Y.shape == (4, 1, 92, 77)
    check(Y, X, K, strategy)


def test_tf32_stays_off_even_when_the_user_turned_it_on():
    X, K = data(512, 512), kernel(5, 5)
    before = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = True
    try:
        check(corr2d(X, K, strategy="conv2d"), X, K, "conv2d")
        assert torch.backends.cudnn.allow_tf32  # restored after the call
    finally:
        torch.backends.cudnn.allow_tf32 = before


@only_on_cuda
def test_auto_on_cuda():
    big = data(1100, 1000)
    small_direct = "direct" if tiles2d.available() or fused.compile_enabled(big.device) else "conv2d"
    assert choose_strategy(big, kernel(3, 3)) == small_direct
    assert choose_strategy(big, torch.ones(3, 3, device=DEVICE)) == small_direct  # a box: no separable passes on CUDA
    assert choose_strategy(data(64, 64), kernel(3, 3)) == ("direct" if tiles2d.available() else "conv2d")
    assert choose_strategy(data(64, 64).double(), kernel(3, 3).double()) == "conv2d"  # the tiles add in float32
    assert choose_strategy(big, kernel(7, 7)) == small_direct  # 49 taps: under the FFT's 80
    assert choose_strategy(big, kernel(9, 9)) == "fft"
    assert choose_strategy(big, kernel(31, 31)) == "fft"


@only_on_cuda
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (3, 3), (5, 4), (11, 11)])
@pytest.mark.parametrize("size", [(1, 5, 11), (3, 37, 300), (2, 513, 129)])
def test_triton_tiles_match_float64(shape, size):
    if not tiles2d.available():
        pytest.skip("Triton not available here")
    if shape[0] > size[1] or shape[1] > size[2]:
        pytest.skip("a kernel larger than the image has no valid output (corr2d refuses it first)")
    X, K = data(*size), kernel(*shape)
    Y = tiles2d.corr2d_tiles(X, K)
    assert Y.shape == (size[0], size[1] - shape[0] + 1, size[2] - shape[1] + 1)
    check(Y, X, K, "direct")


@only_on_cuda
def test_fused_kernel_survives_many_kernel_shapes():
    """dynamo keeps 8 compiles per code object: each kernel shape has its own, so a 9th shape still compiles."""
    if not fused.compile_enabled(DEVICE):
        pytest.skip("torch.compile/Triton not available here")
    X = data(1, 300, 280)
    with warnings.catch_warnings():
        # Only the fallback's RuntimeWarning: inductor's first import raises DeprecationWarnings of its own
        # (an H200 run with every warning an error failed there, not in the fused kernel).
        warnings.simplefilter("error", RuntimeWarning)
        for k in range(1, 11):
            K = kernel(k, 2)
            check(fused.fused_shift_add((k, 2))(X, K), X, K, "direct")
    assert not fused._compile_state["broken"]


@only_on_cuda
def test_fused_kernel_compiles_and_matches():
    if not fused.compile_enabled(DEVICE):
        pytest.skip("torch.compile/Triton not available here")
    X, K = data(2, 700, 900), kernel(3, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a failed compile warns and falls back: fail instead
        Y = fused.fused_shift_add((3, 3))(X, K)
    assert not fused._compile_state["broken"]
    check(Y, X, K, "direct")
    # A second image size reuses the dynamic-shape kernel.
    X2 = data(1, 513, 517)
    check(fused.fused_shift_add((3, 3))(X2, K), X2, K, "direct")


@only_on_cuda
def test_large_image_every_fast_strategy():
    X = data(4096, 4096)
    for shape, strategy in [((3, 3), "auto"), ((31, 31), "auto"), ((5, 5), "conv2d")]:
        K = kernel(*shape)
        Y = corr2d(X, K, strategy=strategy)
        ref = F.conv2d(X.double()[None, None], K.double()[None, None])[0, 0]  # on the GPU: 4096² is slow on a CPU
        bound = summation_bound(X, K)
        if strategy == "conv2d" or choose_strategy(X, K) == "fft":
            bound = max(bound, fft_error_bound(X, K, fast_size(4096) ** 2))
        assert (Y.double() - ref).abs().max().item() <= bound


def test_out_of_memory_retries_on_cuda(monkeypatch):
    X, K = data(300, 200), kernel(15, 15)
    rows = []
    real_call = FftPlan.__call__

    def flaky(self, strip, out):
        rows.append(out.shape[-2])
        if out.shape[-2] > 64:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_call(self, strip, out)

    def flaky_whole(self, x):
        rows.append(x.shape[-2] - self.h + 1)
        raise torch.OutOfMemoryError("CUDA out of memory (simulated)")

    monkeypatch.setattr(FftPlan, "__call__", flaky)
    monkeypatch.setattr(FftPlan, "whole", flaky_whole)
    Y = corr2d(X, K, strategy="fft")
    assert rows[0] > 64 and max(rows[-3:]) <= 64  # the whole image first (in one transform on a GPU), then strips
    check(Y, X, K, "fft")


def test_filter2d_same_on_cuda():
    X, K = data(120, 130), kernel(7, 7)
    Y = filter2d(X, K, mode="same", border="reflect")
    ref = filter2d(X.double().cpu(), K.double().cpu(), mode="same", border="reflect", strategy="conv2d")
    assert Y.shape == X.shape and Y.device.type == DEVICE.type
    torch.testing.assert_close(Y.double().cpu(), ref, rtol=1e-5, atol=5e-5)


def test_gradcheck_on_cuda():
    X = torch.rand(6, 7, dtype=torch.float64, device=DEVICE, requires_grad=True)
    K = torch.rand(2, 3, dtype=torch.float64, device=DEVICE, requires_grad=True)
    for strategy in STRATEGIES:
        assert torch.autograd.gradcheck(lambda x, k, s=strategy: corr2d(x, k, strategy=s), (X, K))
