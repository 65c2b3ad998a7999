import threading

import numpy as np
import pytest
import torch
from conftest import TOL, conv2d_reference, corr2d_loop
from hypothesis import given, settings
from hypothesis import strategies as st

from convlearn.corr import BORDERS, STRATEGIES, choose_strategy, corr2d, filter2d, strategies
from convlearn.corr.fft import fast_size, fft_error_bound
from convlearn.errors import InputError, OutOfMemoryError

try:
    import cv2
except ImportError:  # the test extra is not installed
    cv2 = None

STRIPES = torch.tensor([[1.0, 1, 0, 0, 0, 0, 1, 1]] * 6)


def test_notebook_small_example():
    X = torch.arange(0.0, 9.0).reshape((3, 3))
    K = torch.arange(0.0, 4.0).reshape((2, 2))
    assert torch.equal(corr2d(X, K), torch.tensor([[19.0, 25.0], [37.0, 43.0]]))


def test_notebook_edges():
    Y = corr2d(STRIPES, torch.tensor([[1.0, -1.0]]))
    expected = torch.tensor([[0.0, 1, 0, 0, 0, -1, 0]] * 6)
    assert torch.equal(Y, expected)


def test_notebook_vertical_change_not_detected():
    Y = corr2d(STRIPES, torch.tensor([[1.0, -1.0]]).T)
    assert torch.equal(Y, torch.zeros(5, 8))


def test_impulse_tells_correlation_from_convolution():
    X = torch.zeros(5, 5)
    X[2, 2] = 1
    K = torch.arange(1.0, 10.0).reshape(3, 3)
    # Correlation moves the kernel over the impulse, so it comes out rotated 180°.
    assert torch.equal(corr2d(X, K), torch.flip(K, (0, 1)))


@settings(max_examples=60, deadline=None)
@given(
    H=st.integers(1, 12),
    W=st.integers(1, 12),
    h=st.integers(1, 5),
    w=st.integers(1, 5),
    seed=st.integers(0, 2**31 - 1),
)
def test_matches_notebook_loop(H, W, h, w, seed):
    if h > H or w > W:
        return
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(H, W, generator=g, dtype=torch.float64)
    K = torch.randn(h, w, generator=g, dtype=torch.float64)
    torch.testing.assert_close(corr2d(X, K), corr2d_loop(X, K), **TOL[torch.float64])


@pytest.mark.parametrize("shape", [(1, 2), (3, 3), (5, 5), (2, 7), (15, 15)])
def test_matches_conv2d_float64(shape):
    g = torch.Generator().manual_seed(1)
    X = torch.rand(40, 50, generator=g)
    K = torch.randn(*shape, generator=g)
    Y = corr2d(X, K)
    assert Y.dtype == torch.float32
    assert Y.shape == (40 - shape[0] + 1, 50 - shape[1] + 1)
    torch.testing.assert_close(Y.double(), conv2d_reference(X, K), **TOL[torch.float32])


def test_batch_shapes():
    X = torch.rand(3, 10, 12)
    K = torch.randn(3, 3)
    Y = corr2d(X, K)
    assert Y.shape == (3, 8, 10)
    for i in range(3):
        torch.testing.assert_close(Y[i], corr2d(X[i], K))
    assert corr2d(X[:, None], K).shape == (3, 1, 8, 10)


def test_non_contiguous_input():
    X = torch.rand(20, 30).T  # (30, 20), non-contiguous
    K = torch.randn(3, 2)
    assert not X.is_contiguous()
    torch.testing.assert_close(corr2d(X, K).double(), conv2d_reference(X.contiguous(), K), **TOL[torch.float32])


def test_keeps_dtype_and_casts_kernel():
    X = torch.rand(6, 6, dtype=torch.float64)
    assert corr2d(X, torch.ones(2, 2, dtype=torch.float32)).dtype == torch.float64


def test_gradcheck():
    X = torch.rand(6, 7, dtype=torch.float64, requires_grad=True)
    K = torch.rand(2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(corr2d, (X, K))


def test_kernel_larger_than_image():
    with pytest.raises(InputError, match=r"Kernel 4x1 is larger than the image 3x3"):
        corr2d(torch.zeros(3, 3), torch.zeros(4, 1))


def test_bad_shapes():
    with pytest.raises(InputError, match="non-empty 2-D kernel"):
        corr2d(torch.zeros(3, 3), torch.zeros(3))
    with pytest.raises(InputError, match=r"image of shape"):
        corr2d(torch.zeros(3), torch.zeros(1, 1))


def test_invalid_mode_and_border_messages():
    with pytest.raises(InputError, match="^Invalid mode 'full'. Expected one of: valid, same$"):
        filter2d(torch.zeros(3, 3), torch.ones(1, 1), mode="full")
    with pytest.raises(InputError, match="^Invalid border 'x'. Expected one of: zero, reflect, replicate, circular$"):
        filter2d(torch.zeros(3, 3), torch.ones(1, 1), mode="same", border="x")


CV_BORDER = (
    {"zero": cv2.BORDER_CONSTANT, "reflect": cv2.BORDER_REFLECT_101, "replicate": cv2.BORDER_REPLICATE}
    if cv2 is not None
    else {}
)


@pytest.mark.skipif(cv2 is None, reason="needs opencv-python-headless (the test extra)")
@pytest.mark.parametrize("border", list(CV_BORDER) or ["zero"])
@pytest.mark.parametrize("shape", [(1, 2), (2, 1), (3, 3), (4, 4), (5, 3)])
def test_same_matches_opencv(border, shape):
    rng = np.random.default_rng(0)
    X = rng.random((17, 23), dtype=np.float32)
    K = rng.standard_normal(shape).astype(np.float32)
    ref = cv2.filter2D(X, -1, K, borderType=CV_BORDER[border])
    Y = filter2d(torch.from_numpy(X), torch.from_numpy(K), mode="same", border=border)
    assert Y.shape == X.shape
    np.testing.assert_allclose(Y.numpy(), ref, rtol=1e-5, atol=1e-5)


def test_circular_matches_numpy_wrap():
    rng = np.random.default_rng(0)
    X = rng.random((9, 11))
    K = rng.standard_normal((3, 3))
    padded = np.pad(X, 1, mode="wrap")
    ref = corr2d_loop(torch.from_numpy(padded), torch.from_numpy(K))
    Y = filter2d(torch.from_numpy(X), torch.from_numpy(K), mode="same", border="circular")
    torch.testing.assert_close(Y, ref)


def test_all_borders_listed():
    assert BORDERS == ("zero", "reflect", "replicate", "circular")


# --- strategies: each one against the float64 references ------------------------------------

FAST = [s for s in STRATEGIES if s != "auto"]


def _rand(*shape, seed=0, dtype=torch.float32):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _randn(*shape, seed=1, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def assert_matches_reference(Y: torch.Tensor, X: torch.Tensor, K: torch.Tensor, strategy: str) -> None:
    """fp32 rounding for the spatial strategies; the documented bound for the FFT."""
    ref = conv2d_reference(X, K)
    if strategy == "fft":
        bound = fft_error_bound(X, K, fast_size(X.shape[-2]) * fast_size(X.shape[-1]))
        assert (Y.double() - ref).abs().max().item() <= bound
    else:
        torch.testing.assert_close(Y.double(), ref, **TOL[torch.float32])


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("shape", [(1, 2), (2, 1), (3, 3), (5, 5), (2, 7), (15, 15), (31, 31)])
def test_every_strategy_matches_conv2d_float64(strategy, shape):
    X = _rand(45, 52)
    K = _randn(*shape)
    Y = corr2d(X, K, strategy=strategy)
    assert Y.dtype == torch.float32 and Y.shape == (45 - shape[0] + 1, 52 - shape[1] + 1)
    assert_matches_reference(Y, X, K, strategy)


@pytest.mark.parametrize("strategy", FAST)
def test_every_strategy_float64_matches_notebook_loop(strategy):
    X = _rand(13, 17, dtype=torch.float64)
    K = _randn(4, 3, dtype=torch.float64)
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
    X = _rand(3, 20, 24)
    K = _randn(4, 5)
    Y = corr2d(X, K, strategy=strategy)
    assert Y.shape == (3, 17, 20)
    for i in range(3):
        assert_matches_reference(Y[i], X[i], K, strategy)
    Y4 = corr2d(X[:, None], K, strategy=strategy)
    assert Y4.shape == (3, 1, 17, 20)
    torch.testing.assert_close(Y4[:, 0], Y, rtol=0, atol=1e-6)


@pytest.mark.parametrize("strategy", FAST)
def test_every_strategy_non_contiguous(strategy):
    X = _rand(30, 26).T  # (26, 30), column-major
    K = _randn(3, 4)
    assert not X.is_contiguous()
    assert_matches_reference(corr2d(X, K, strategy=strategy), X.contiguous(), K, strategy)


@pytest.mark.parametrize("strategy", FAST)
def test_tiles_give_the_untiled_result(strategy, monkeypatch):
    X = _rand(2, 70, 41)
    K = _randn(5, 4)
    whole = corr2d(X, K, strategy=strategy)
    # 200 input elements a tile: bands of a few rows, one image at a time.
    monkeypatch.setitem(strategies.TILE_ELEMENTS, "cpu", 200)
    tiled = corr2d(X, K, strategy=strategy)
    if strategy == "fft":  # other strip lengths round differently
        assert_matches_reference(tiled[1], X[1], K, strategy)
    else:  # the same sum in the same order, tile or not
        assert torch.equal(tiled, whole)


def test_tiling_covers_every_pixel_once():
    seen = torch.zeros(5, 37, 23, dtype=torch.int64)
    for imgs, r0, r1, c0, c1 in strategies.tiles(5, 37, 23, strategies.Tiling(images=2, rows=8, cols=10)):
        seen[imgs, r0:r1, c0:c1] += 1
    assert torch.equal(seen, torch.ones(5, 37, 23, dtype=torch.int64))


def test_tiling_for_budget(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.setitem(strategies.TILE_ELEMENTS, "cpu", 1 << 18)
    monkeypatch.setattr(strategies, "workers", lambda: 2)
    Tiling = strategies.Tiling
    # Bands of full rows that fit the budget.
    assert strategies.tiling_for(1, 4096, 4096, (3, 3), cpu) == Tiling(1, (1 << 18) // 4096 - 2, 4094)
    # Many small images go together, in one tile per worker.
    assert strategies.tiling_for(300, 28, 28, (3, 3), cpu) == Tiling(150, 26, 26)
    # An image that fits one tile is still cut in two for two workers...
    assert strategies.tiling_for(1, 400, 400, (3, 3), cpu) == Tiling(1, 200 - 2, 398)
    # ...unless the halves would be too small to be worth it.
    assert strategies.tiling_for(1, 100, 100, (3, 3), cpu) == Tiling(1, 98, 98)
    # A tall kernel on a wide image: at least 4 (h - 1) rows, and blocks of columns to stay near the budget.
    wide = strategies.tiling_for(1, 4096, 16384, (31, 31), cpu)
    assert wide.rows == 120 and (wide.rows + 30) * (wide.cols + 30) <= 1 << 18
    # The FFT's strips: the rows it asks for, columns of a fast length.
    fft = strategies.tiling_for(1, 4096, 16384, (31, 31), cpu, rows=210, fast_cols=True)
    assert fft.rows == 210 and fft.cols + 30 == 4096  # 4x the budget, a power of two
    assert strategies.tiling_for(4, 100, 100, (5, 5), cpu, rows=20) == Tiling(4, 20, 96)


def test_wide_images_in_blocks_give_the_banded_result(monkeypatch):
    X = _rand(1, 40, 300)
    K = _randn(3, 5)
    bands = corr2d(X, K, strategy="direct")
    monkeypatch.setitem(strategies.TILE_ELEMENTS, "cpu", 700)  # forces blocks of columns
    assert strategies.tiling_for(1, 40, 300, (3, 5), torch.device("cpu")).cols < 296
    assert torch.equal(corr2d(X, K, strategy="direct"), bands)
    assert_matches_reference(corr2d(X[0], K, strategy="fft"), X[0], K, "fft")
    assert_matches_reference(corr2d(X[0], K, strategy="separable"), X[0], K, "separable")


def test_workers_leave_thread_counts_as_they_were():
    before = torch.get_num_threads()
    X = _rand(600, 600)
    corr2d(X, _randn(3, 3))
    assert torch.get_num_threads() == before
    seen = []
    t = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    t.start()
    t.join()
    assert seen == [before]  # a new thread still gets the process's count


def test_worker_pool_is_made_again_after_a_fork(monkeypatch):
    if strategies.workers() < 2:
        pytest.skip("torch runs on one thread here: no pool")
    first = strategies.worker_pool()
    assert strategies.worker_pool() is first
    monkeypatch.setattr(strategies.os, "getpid", lambda: -1)  # as in a forked child
    assert strategies.worker_pool() is not first


def test_share_raises_the_first_error_and_stops():
    if strategies.workers() < 2:
        pytest.skip("torch runs on one thread here: no pool")
    done = []

    def job(i):
        if i == 3:
            raise ValueError("tile 3 failed")
        done.append(i)

    with pytest.raises(ValueError, match="tile 3 failed"):
        strategies.share(strategies.worker_pool(), [(i,) for i in range(200)], job)
    assert len(done) < 199


def test_large_output_is_numpy_backed_and_writable():
    big = strategies.empty_output((1, 1100, 1000), torch.zeros(1))
    small = strategies.empty_output((1, 10, 10), torch.zeros(1))
    assert big.shape == (1, 1100, 1000) and big.dtype == torch.float32
    big.fill_(2.0)
    assert float(big.sum()) == 2.0 * 1100 * 1000
    assert small.dtype == torch.float32


# --- separable ---------------------------------------------------------------------------------

SOBEL_X = torch.tensor([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])


def test_sobel_factors_are_exact_integers():
    u, v = strategies.rank1_factors(SOBEL_X)
    assert u.tolist() == [1.0, 2.0, 1.0] and v.tolist() == [1.0, 0.0, -1.0]
    assert torch.equal(torch.outer(u, v), SOBEL_X.double())


def test_separable_sobel_on_integers_is_exact():
    X = torch.randint(0, 256, (40, 50)).float()
    assert choose_strategy(X, SOBEL_X) == "separable"
    assert torch.equal(corr2d(X, SOBEL_X), corr2d(X, SOBEL_X, strategy="direct"))


@pytest.mark.parametrize(
    ("K", "rank"),
    [
        (torch.ones(5, 5) / 25, 1),  # box
        (torch.outer(torch.tensor([1.0, 4, 6, 4, 1]), torch.tensor([1.0, 4, 6, 4, 1])) / 256, 1),  # Gaussian
        (SOBEL_X, 1),
        (torch.eye(4), 4),
        (torch.zeros(3, 3), 0),
    ],
)
def test_kernel_rank(K, rank):
    assert strategies.kernel_rank(K) == rank


def test_separable_factors_sum_to_the_kernel():
    K = _randn(6, 4, dtype=torch.float64)
    terms = strategies.separable_factors(K)
    assert len(terms) == 4
    torch.testing.assert_close(sum(torch.outer(u, v) for u, v in terms), K, rtol=1e-12, atol=1e-12)


def test_separable_with_a_low_rank_kernel():
    u1, v1, u2, v2 = _randn(9, seed=2), _randn(9, seed=3), _randn(9, seed=4), _randn(9, seed=5)
    K = torch.outer(u1, v1) + torch.outer(u2, v2)  # rank 2: 2 * 18 taps instead of 81
    X = _rand(60, 60)
    assert choose_strategy(X, K) == "separable"
    assert_matches_reference(corr2d(X, K), X, K, "separable")


# --- the FFT -----------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 5000))
def test_fast_size_is_the_next_5_smooth_number(n):
    m = fast_size(n)
    assert m >= n and _smooth(m)
    assert not any(_smooth(k) for k in range(n, m))


def _smooth(k: int) -> bool:
    """Whether k has no prime factor but 2, 3 and 5."""
    for p in (2, 3, 5):
        while k % p == 0:
            k //= p
    return k == 1


@pytest.mark.parametrize(
    "case",
    ["uniform", "offset", "spikes", "signed"],
)
@pytest.mark.parametrize("shape", [(11, 11), (31, 31), (3, 17)])
def test_fft_error_within_documented_bound(case, shape):
    g = torch.Generator().manual_seed(7)
    X = torch.rand(96, 130, generator=g)
    if case == "offset":  # a large mean: most of the energy in one frequency
        X = X + 1000
    elif case == "spikes":  # nearly all zero: small outputs next to huge ones
        X = (X > 0.995).float() * 1e4
    elif case == "signed":
        X = X - 0.5
    K = torch.randn(*shape, generator=g)
    assert_matches_reference(corr2d(X, K, strategy="fft"), X, K, "fft")


def test_fft_bound_is_not_vacuous():
    X, K = _rand(64, 64), _randn(15, 15)
    # It is tighter than the direct sum's worst case for a large kernel...
    direct_worst = 15 * 15 * 2.0**-24 * float(K.abs().sum()) * float(X.abs().max())
    assert fft_error_bound(X, K, 64 * 64) < direct_worst
    # ...and far below the size of the result itself.
    assert fft_error_bound(X, K, 64 * 64) < 1e-4 * float(conv2d_reference(X, K).abs().max())


def test_auto_avoids_fft_on_non_finite_images():
    X = _rand(40, 40)
    K = _randn(13, 13)
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
    X = _rand(12, 12)
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
    K = torch.ones(shape) if kind == "box" else _randn(*shape)
    assert choose_strategy(_rand(64, 64), K) == expected


def test_choose_strategy_half_precision_is_direct():
    assert choose_strategy(_rand(40, 40).half(), _randn(15, 15)) == "direct"
    with pytest.raises(InputError, match="^Strategy 'fft' needs a float32 or float64 image, got torch.float16$"):
        corr2d(_rand(20, 20).half(), torch.ones(3, 3), strategy="fft")


def test_invalid_strategy_message():
    with pytest.raises(
        InputError, match="^Invalid strategy 'fast'. Expected one of: auto, direct, separable, fft, conv2d$"
    ):
        corr2d(torch.zeros(3, 3), torch.ones(1, 1), strategy="fast")
    with pytest.raises(InputError, match="^Invalid strategy 'x'"):
        filter2d(torch.zeros(3, 3), torch.ones(1, 1), strategy="x")


@pytest.mark.parametrize("strategy", FAST)
def test_filter2d_same_every_strategy(strategy):
    X = _rand(21, 19)
    K = _randn(5, 5)
    Y = filter2d(X, K, mode="same", border="reflect", strategy=strategy)
    ref = filter2d(X.double(), K.double(), mode="same", border="reflect", strategy="conv2d")
    assert Y.shape == X.shape
    torch.testing.assert_close(Y.double(), ref, rtol=1e-5, atol=5e-5)


def test_empty_batch():
    assert corr2d(torch.zeros(0, 5, 6), torch.ones(2, 2)).shape == (0, 4, 5)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_gradcheck_every_strategy(strategy):
    X = torch.rand(6, 7, dtype=torch.float64, requires_grad=True)
    K = torch.rand(2, 3, dtype=torch.float64, requires_grad=True)
    # fast_mode: one random direction instead of the full Jacobian (the plain test_gradcheck does that)
    assert torch.autograd.gradcheck(lambda x, k: corr2d(x, k, strategy=strategy), (X, K), fast_mode=True)


def test_grad_through_the_kernel_only():
    # convlearn.learn's case: a trained kernel, a plain image.
    X = _rand(10, 12)
    K = torch.zeros(3, 3, requires_grad=True)
    loss = corr2d(X, K).sum()
    loss.backward()
    expected = torch.stack([X[a : a + 8, b : b + 10].sum((0, 1)) for a in range(3) for b in range(3)]).reshape(3, 3)
    torch.testing.assert_close(K.grad, expected)


def test_no_grad_takes_the_fast_path():
    X = _rand(30, 30)
    K = _randn(3, 3).requires_grad_()
    with torch.no_grad():
        Y = corr2d(X, K)
    assert not Y.requires_grad
    torch.testing.assert_close(Y, corr2d(X, K.detach()))


# --- out of memory -----------------------------------------------------------------------------


def _fail_above(monkeypatch, max_rows: int) -> list:
    """Make the direct tile function raise torch's OOM on tiles taller than ``max_rows``."""
    seen = []
    real = strategies.direct_tile

    def flaky_direct_tile(K):
        tile = real(K)

        def run(x, out):
            seen.append(out.shape[-2])
            if out.shape[-2] > max_rows:
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 1 TiB")
            tile(x, out)

        return run

    monkeypatch.setattr(strategies, "direct_tile", flaky_direct_tile)
    return seen


def test_out_of_memory_retries_in_smaller_tiles(monkeypatch):
    X, K = _rand(50, 40), _randn(3, 3)
    expected = corr2d(X, K, strategy="direct")
    seen = _fail_above(monkeypatch, max_rows=10)
    Y = corr2d(X, K, strategy="direct")
    assert seen[0] == 48 and max(seen[-5:]) <= 10  # whole image first, then halved until it fit
    assert torch.equal(Y, expected)


def test_out_of_memory_at_one_row_is_a_convlearn_error(monkeypatch):
    _fail_above(monkeypatch, max_rows=0)
    with pytest.raises(OutOfMemoryError, match="ran out of cpu memory even one image row band at a time"):
        corr2d(_rand(2, 9, 9), _randn(3, 3), strategy="direct")


def test_other_errors_are_not_retried(monkeypatch):
    calls = []

    def broken(K):
        def run(x, out):
            calls.append(1)
            raise RuntimeError("something else")

        return run

    monkeypatch.setattr(strategies, "direct_tile", broken)
    with pytest.raises(RuntimeError, match="something else"):
        corr2d(_rand(9, 9), _randn(3, 3), strategy="direct")
    assert calls == [1]


# --- the CUDA kernel's pieces, exercised on the CPU ---------------------------------------------


def test_shift_add_body_matches_direct():
    X = _rand(2, 30, 31)
    K = _randn(4, 3)
    torch.testing.assert_close(strategies.shift_add(X, K), corr2d(X, K, strategy="direct"), rtol=1e-6, atol=1e-6)


def test_compile_is_only_for_cuda(monkeypatch):
    assert not strategies.compile_enabled(torch.device("cpu"))
    monkeypatch.setenv("CONVLEARN_COMPILE", "0")
    assert not strategies.compile_enabled(torch.device("cuda"))


def test_failed_compile_falls_back_to_eager(monkeypatch):
    def broken_compile(fn, **kwargs):
        def run(*args):
            raise RuntimeError("no C compiler")

        return run

    monkeypatch.setattr(torch, "compile", broken_compile)
    monkeypatch.setattr(strategies, "_compiled", {})
    monkeypatch.setitem(strategies._compile_state, "broken", False)
    X, K = _rand(1, 12, 12), _randn(3, 3)
    with pytest.warns(RuntimeWarning, match="torch.compile failed"):
        Y = strategies.fused_shift_add((3, 3))(X, K)
    assert strategies._compile_state["broken"]
    torch.testing.assert_close(Y, strategies.shift_add(X, K))


def test_conv2d_strategy_leaves_cudnn_flags_alone():
    before = (torch.backends.cudnn.benchmark, torch.backends.cudnn.allow_tf32)
    for _ in range(3):  # many tiles on several worker threads at once
        corr2d(_rand(700, 700), _randn(3, 3), strategy="conv2d")
    assert (torch.backends.cudnn.benchmark, torch.backends.cudnn.allow_tf32) == before
