"""corr2d and filter2d: the notebook's values, shapes, borders, errors, autograd."""

import numpy as np
import pytest
import torch
from conftest import TOL, conv2d_reference, corr2d_loop
from corr_cases import rand, randn
from hypothesis import given, settings
from hypothesis import strategies as st

from convlearn.corr import BORDERS, corr2d, filter2d
from convlearn.errors import InputError

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


@pytest.mark.parametrize("border", ["zero", "reflect", "replicate"])
@pytest.mark.parametrize("shape", [(1, 2), (2, 1), (3, 3), (4, 4), (5, 3)])
def test_same_matches_opencv(border, shape, cv2):
    cv_border = {"zero": cv2.BORDER_CONSTANT, "reflect": cv2.BORDER_REFLECT_101, "replicate": cv2.BORDER_REPLICATE}
    rng = np.random.default_rng(0)
    X = rng.random((17, 23), dtype=np.float32)
    K = rng.standard_normal(shape).astype(np.float32)
    ref = cv2.filter2D(X, -1, K, borderType=cv_border[border])
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


def test_empty_batch():
    assert corr2d(torch.zeros(0, 5, 6), torch.ones(2, 2)).shape == (0, 4, 5)


def test_grad_through_the_kernel_only():
    # convlearn.learn's case: a trained kernel, a plain image.
    X = rand(10, 12)
    K = torch.zeros(3, 3, requires_grad=True)
    loss = corr2d(X, K).sum()
    loss.backward()
    expected = torch.stack([X[a : a + 8, b : b + 10].sum((0, 1)) for a in range(3) for b in range(3)]).reshape(3, 3)
    torch.testing.assert_close(K.grad, expected)


def test_no_grad_takes_the_fast_path():
    X = rand(30, 30)
    K = randn(3, 3).requires_grad_()
    with torch.no_grad():
        Y = corr2d(X, K)
    assert not Y.requires_grad
    torch.testing.assert_close(Y, corr2d(X, K.detach()))
