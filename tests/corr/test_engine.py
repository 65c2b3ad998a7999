"""The engine choice and the dispatch: every strategy against the references, the cost model, out of memory."""

import pytest
import torch
from conftest import TOL, corr2d_loop
from corr_cases import FAST, SOBEL_X, assert_matches_reference, rand, randn
from hypothesis import given, settings
from hypothesis import strategies as st

from convlearn.corr import STRATEGIES, choose_strategy, corr2d, direct, filter2d
from convlearn.errors import InputError, OutOfMemoryError


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("shape", [(1, 2), (2, 1), (3, 3), (5, 5), (2, 7), (15, 15), (31, 31)])
def test_every_strategy_matches_conv2d_float64(strategy, shape):
    X = rand(45, 52)
    K = randn(*shape)
    Y = corr2d(X, K, strategy=strategy)
    assert Y.dtype == torch.float32 and Y.shape == (45 - shape[0] + 1, 52 - shape[1] + 1)
    assert_matches_reference(Y, X, K, strategy)


@pytest.mark.parametrize("strategy", FAST)
def test_every_strategy_float64_matches_notebook_loop(strategy):
    X = rand(13, 17, dtype=torch.float64)
    K = randn(4, 3, dtype=torch.float64)
    Y = corr2d(X, K, strategy=strategy)
    assert Y.dtype == torch.float64
    tol = dict(rtol=1e-10, atol=1e-10) if strategy == "fft" else TOL[torch.float64]
    torch.testing.assert_close(Y, corr2d_loop(X, K), **tol)


@settings(max_examples=25, deadline=None)
@given(
    H=st.integers(1, 24),
    W=st.integers(1, 24),
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    strategy=st.sampled_from(FAST),
    seed=st.integers(0, 2**31 - 1),
)
def test_strategies_match_loop_on_random_shapes(H, W, h, w, strategy, seed):
    if h > H or w > W:
        return
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(H, W, generator=g, dtype=torch.float64)
    K = torch.randn(h, w, generator=g, dtype=torch.float64)
    torch.testing.assert_close(corr2d(X, K, strategy=strategy), corr2d_loop(X, K), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("strategy", FAST)
def test_every_strategy_impulse(strategy):
    X = torch.zeros(9, 9)
    X[4, 4] = 1
    K = torch.arange(1.0, 10.0).reshape(3, 3)
    Y = corr2d(X, K, strategy=strategy)
    atol = 1e-6 if strategy in ("fft", "separable") else 0  # the SVD and the FFT round
    torch.testing.assert_close(Y[2:5, 2:5], torch.flip(K, (0, 1)), rtol=0, atol=atol)


@pytest.mark.parametrize("strategy", FAST)
def test_every_strategy_batches(strategy):
    X = rand(3, 20, 24)
    K = randn(4, 5)
    Y = corr2d(X, K, strategy=strategy)
    assert Y.shape == (3, 17, 20)
    for i in range(3):
        assert_matches_reference(Y[i], X[i], K, strategy)
    Y4 = corr2d(X[:, None], K, strategy=strategy)
    assert Y4.shape == (3, 1, 17, 20)
    torch.testing.assert_close(Y4[:, 0], Y, rtol=0, atol=1e-6)


@pytest.mark.parametrize("strategy", FAST)
def test_every_strategy_non_contiguous(strategy):
    X = rand(30, 26).T  # (26, 30), column-major
    K = randn(3, 4)
    assert not X.is_contiguous()
    assert_matches_reference(corr2d(X, K, strategy=strategy), X.contiguous(), K, strategy)


def test_auto_avoids_fft_on_non_finite_images():
    X = rand(40, 40)
    K = randn(13, 13)
    assert choose_strategy(X, K) == "fft"
    X[5, 7] = float("nan")
    assert choose_strategy(X, K) == "direct"
    Y = corr2d(X, K)
    ref = corr2d_loop(X.double(), K.double())
    assert torch.equal(torch.isnan(Y), torch.isnan(ref))  # NaN stays where the loop puts it


@pytest.mark.parametrize(
    ("strategy", "K"),
    [
        ("direct", torch.tensor([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0], [3.0, 0.0, -1.0]])),  # zeros: 0 * inf is NaN
        ("conv2d", torch.tensor([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0], [3.0, 0.0, -1.0]])),
        ("separable", SOBEL_X),  # rank 1: the exact factors keep inf and NaN in place
        ("auto", torch.tensor([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0], [3.0, 0.0, -1.0]])),
        ("auto", torch.ones(3, 3)),  # separable on a finite image; direct here
    ],
)
def test_nan_and_inf_spread_as_in_the_loop(strategy, K):
    X = rand(12, 12)
    X[3, 3], X[8, 2], X[5, 9] = float("inf"), float("nan"), -float("inf")
    if strategy == "auto":
        assert choose_strategy(X, K) == "direct"
    Y = corr2d(X, K, strategy=strategy)
    ref = corr2d_loop(X, K)
    assert torch.equal(torch.isnan(Y), torch.isnan(ref))
    assert torch.equal(torch.isinf(Y), torch.isinf(ref))


# --- choice, options, autograd -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "kind", "expected"),
    [
        ((1, 2), "random", "direct"),
        ((3, 3), "random", "direct"),
        ((5, 5), "random", "direct"),
        ((3, 3), "box", "separable"),
        ((31, 31), "box", "separable"),
        ((11, 11), "random", "fft"),
        ((31, 31), "random", "fft"),
    ],
)
def test_choose_strategy(shape, kind, expected):
    K = torch.ones(shape) if kind == "box" else randn(*shape)
    assert choose_strategy(rand(64, 64), K) == expected


def test_choose_strategy_half_precision_is_direct():
    assert choose_strategy(rand(40, 40).half(), randn(15, 15)) == "direct"
    with pytest.raises(InputError, match="^Strategy 'fft' needs a float32 or float64 image, got torch.float16$"):
        corr2d(rand(20, 20).half(), torch.ones(3, 3), strategy="fft")


def test_invalid_strategy_message():
    with pytest.raises(
        InputError, match="^Invalid strategy 'fast'. Expected one of: auto, direct, separable, fft, conv2d$"
    ):
        corr2d(torch.zeros(3, 3), torch.ones(1, 1), strategy="fast")
    with pytest.raises(InputError, match="^Invalid strategy 'x'"):
        filter2d(torch.zeros(3, 3), torch.ones(1, 1), strategy="x")


@pytest.mark.parametrize("strategy", FAST)
def test_filter2d_same_every_strategy(strategy):
    X = rand(21, 19)
    K = randn(5, 5)
    Y = filter2d(X, K, mode="same", border="reflect", strategy=strategy)
    ref = filter2d(X.double(), K.double(), mode="same", border="reflect", strategy="conv2d")
    assert Y.shape == X.shape
    torch.testing.assert_close(Y.double(), ref, rtol=1e-5, atol=5e-5)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_gradcheck_every_strategy(strategy):
    X = torch.rand(6, 7, dtype=torch.float64, requires_grad=True)
    K = torch.rand(2, 3, dtype=torch.float64, requires_grad=True)
    # fast_mode: one random direction instead of the full Jacobian (the plain test_gradcheck does that)
    assert torch.autograd.gradcheck(lambda x, k: corr2d(x, k, strategy=strategy), (X, K), fast_mode=True)


# --- out of memory -----------------------------------------------------------------------------


def _fail_above(monkeypatch, max_rows: int) -> list:
    """Make the direct tile function raise torch's OOM on tiles taller than ``max_rows``."""
    seen = []
    real = direct.direct_tile

    def flaky_direct_tile(K):
        tile = real(K)

        def run(x, out):
            seen.append(out.shape[-2])
            if out.shape[-2] > max_rows:
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 1 TiB")
            tile(x, out)

        return run

    monkeypatch.setattr(direct, "direct_tile", flaky_direct_tile)
    return seen


def test_out_of_memory_retries_in_smaller_tiles(monkeypatch):
    X, K = rand(50, 40), randn(3, 3)
    expected = corr2d(X, K, strategy="direct")
    seen = _fail_above(monkeypatch, max_rows=10)
    Y = corr2d(X, K, strategy="direct")
    assert seen[0] == 48 and max(seen[-5:]) <= 10  # whole image first, then halved until it fit
    assert torch.equal(Y, expected)


def test_out_of_memory_at_one_row_is_a_convlearn_error(monkeypatch):
    _fail_above(monkeypatch, max_rows=0)
    with pytest.raises(OutOfMemoryError, match="ran out of cpu memory even one image row band at a time"):
        corr2d(rand(2, 9, 9), randn(3, 3), strategy="direct")


def test_other_errors_are_not_retried(monkeypatch):
    calls = []

    def broken(K):
        def run(x, out):
            calls.append(1)
            raise RuntimeError("something else")

        return run

    monkeypatch.setattr(direct, "direct_tile", broken)
    with pytest.raises(RuntimeError, match="something else"):
        corr2d(rand(9, 9), randn(3, 3), strategy="direct")
    assert calls == [1]
