"""The built-in kernels: each one's weights against OpenCV, SciPy or scikit-image, and its exact semantics.

Every built-in is checked for what it computes (the notebook's loop for valid,
SciPy's correlate for every border of same), then for its weights against the
library its row names.
"""

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch
from conftest import corr2d_loop

from convlearn.corr import BORDERS, filter2d
from convlearn.kernels import KERNELS, gaussian_kernel, gradient_pair, log_kernel, opencv_sigma, parse_kernel

#: Each fixed name, and the parameterised ones at a few sizes (even ones too).
EVERY_SPEC = [n for n, info in KERNELS.items() if not info.usage] + [
    "box",
    "box:4",
    "box:5",
    "gaussian",
    "gaussian:5",
    "gaussian:4,0.8",
    "gaussian:7,1.5",
    "log",
    "log:7,1.4",
    "log:6",
    "3x3+0+2: 1 2 3 4 5 6 7 8 9",
    "2x3+1+0: 1 -1 2 -2 3 -3",
]


#: convlearn's borders by SciPy's names for them.
SCIPY_MODE = {"zero": "constant", "reflect": "mirror", "replicate": "nearest", "circular": "wrap"}


def _image(seed: int, shape=(13, 17)) -> np.ndarray:
    return np.random.default_rng(seed).random(shape)


def test_table_has_required_names():
    # Every name the README documents, plus scikit-image's Farid pair.
    names = "edge edge-t sobel-x sobel-y scharr-x scharr-y prewitt-x prewitt-y roberts-x roberts-y"
    names += " laplacian laplacian8 sharpen emboss box gaussian log farid-x farid-y"
    assert set(names.split()) <= set(KERNELS)
    assert all(info.convention for info in KERNELS.values())


# What each kernel computes.


@pytest.mark.parametrize("spec", EVERY_SPEC)
def test_every_kernel_valid_is_the_notebook_loop(spec):
    K = parse_kernel(spec)
    X = torch.from_numpy(_image(1))
    Y = filter2d(X, torch.from_numpy(K.weight), mode="valid", anchor=K.anchor)
    assert Y.shape == (13 - K.shape[0] + 1, 17 - K.shape[1] + 1)
    torch.testing.assert_close(Y, corr2d_loop(X, torch.from_numpy(K.weight)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("spec", EVERY_SPEC)
def test_every_kernel_same_matches_scipy_correlate(spec, border):
    K = parse_kernel(spec)
    X = _image(2)
    (ay, ax), (h, w) = K.origin, K.shape
    ref = ndi.correlate(X, K.weight, mode=SCIPY_MODE[border], cval=0.0, origin=(ay - h // 2, ax - w // 2))
    Y = filter2d(torch.from_numpy(X), torch.from_numpy(K.weight), mode="same", border=border, anchor=K.anchor)
    assert Y.shape == X.shape
    np.testing.assert_allclose(Y.numpy(), ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("spec", [n for n, info in KERNELS.items() if not info.usage])
def test_impulse_gives_the_kernel_rotated(spec):
    # Correlation slides the kernel over an impulse, so it comes out rotated 180°
    # (a convolution would return it as written).
    K = parse_kernel(spec)
    h, w = K.shape
    X = np.zeros((9, 9))
    X[4, 4] = 1
    Y = filter2d(torch.from_numpy(X), torch.from_numpy(K.weight), mode="same").numpy()
    ay, ax = K.origin
    window = Y[4 - (h - 1 - ay) : 4 + ay + 1, 4 - (w - 1 - ax) : 4 + ax + 1]
    np.testing.assert_allclose(window, K.weight[::-1, ::-1], rtol=1e-12, atol=1e-15)
    assert np.isclose(np.abs(Y).sum(), np.abs(K.weight).sum(), rtol=1e-12)  # nothing else lit


def test_hand_computed_kernels():
    delta = np.zeros((3, 3))
    delta[1, 1] = 1
    np.testing.assert_array_equal(parse_kernel("laplacian8").weight, np.ones((3, 3)) - 9 * delta)
    np.testing.assert_array_equal(parse_kernel("sharpen").weight, delta - parse_kernel("laplacian").weight)
    # emboss = the image plus a diagonal slope: antisymmetric about the centre.
    slope = parse_kernel("emboss").weight - delta
    np.testing.assert_array_equal(slope, -slope[::-1, ::-1])
    # Gradient kernels see a ramp X[i, j] = j (brighter to the right) as positive.
    ramp = torch.arange(7.0).repeat(7, 1)
    for name in ["sobel-x", "scharr-x", "prewitt-x", "farid-x"]:
        Y = filter2d(ramp.double(), torch.from_numpy(parse_kernel(name).weight), mode="valid")
        assert (Y > 0).all(), name
    Y = filter2d(ramp, torch.from_numpy(parse_kernel("edge").weight), mode="valid")
    assert torch.equal(Y, -torch.ones_like(Y))  # the notebook's [[1, -1]]: X[j] - X[j+1]


# Weights against the libraries.


@pytest.mark.parametrize(("name", "dx", "dy"), [("sobel-x", 1, 0), ("sobel-y", 0, 1)])
def test_sobel_matches_opencv(cv2, name, dx, dy):
    rng = np.random.default_rng(3)
    X = rng.random((20, 24), dtype=np.float32)
    ref = cv2.Sobel(X, cv2.CV_32F, dx, dy, ksize=3, borderType=cv2.BORDER_REFLECT_101)
    Y = filter2d(torch.from_numpy(X), torch.from_numpy(parse_kernel(name).weight), mode="same", border="reflect")
    np.testing.assert_allclose(Y.numpy(), ref, atol=1e-5)


def test_laplacian_matches_opencv(cv2):
    rng = np.random.default_rng(4)
    X = rng.random((20, 24), dtype=np.float32)
    ref = cv2.Laplacian(X, cv2.CV_32F, ksize=1, borderType=cv2.BORDER_REFLECT_101)
    Y = filter2d(torch.from_numpy(X), torch.from_numpy(parse_kernel("laplacian").weight), mode="same", border="reflect")
    np.testing.assert_allclose(Y.numpy(), ref, atol=1e-5)


@pytest.mark.parametrize(("name", "dx", "dy"), [("scharr-x", 1, 0), ("scharr-y", 0, 1)])
def test_scharr_matches_opencv(cv2, name, dx, dy):
    X = _image(3).astype(np.float32)
    ref = cv2.Scharr(X, cv2.CV_32F, dx, dy, borderType=cv2.BORDER_REFLECT_101)
    Y = filter2d(torch.from_numpy(X), torch.from_numpy(parse_kernel(name).weight), mode="same", border="reflect")
    np.testing.assert_allclose(Y.numpy(), ref, atol=1e-4)


@pytest.mark.parametrize(("border", "cv_border"), [("zero", "BORDER_CONSTANT"), ("replicate", "BORDER_REPLICATE")])
@pytest.mark.parametrize(("name", "dx", "dy"), [("sobel-x", 1, 0), ("sobel-y", 0, 1)])
def test_sobel_matches_opencv_other_borders(cv2, name, dx, dy, border, cv_border):
    X = _image(4).astype(np.float32)
    ref = cv2.Sobel(X, cv2.CV_32F, dx, dy, ksize=3, borderType=getattr(cv2, cv_border))
    Y = filter2d(torch.from_numpy(X), torch.from_numpy(parse_kernel(name).weight), mode="same", border=border)
    np.testing.assert_allclose(Y.numpy(), ref, atol=1e-5)


@pytest.mark.parametrize("n", [3, 4, 5])
def test_box_matches_opencv_blur(cv2, n):
    X = _image(5).astype(np.float32)
    ref = cv2.blur(X, (n, n), borderType=cv2.BORDER_REFLECT_101)
    Y = filter2d(torch.from_numpy(X), torch.from_numpy(parse_kernel(f"box:{n}").weight), mode="same", border="reflect")
    np.testing.assert_allclose(Y.numpy(), ref, atol=1e-6)


# Odd sizes: the ones cv2.GaussianBlur accepts (OpenCV 5's getGaussianKernel does
# not centre even sizes at (n - 1) / 2; convlearn does, see gaussian_1d).
@pytest.mark.parametrize(("size", "sigma"), [(1, 0), (3, 0), (5, 0), (7, 0), (11, 0), (5, 1.2), (3, 0.8), (9, 2.0)])
def test_gaussian_is_opencvs_kernel(cv2, size, sigma):
    g = cv2.getGaussianKernel(size, sigma, ktype=cv2.CV_64F)
    np.testing.assert_allclose(gaussian_kernel(size, sigma), g @ g.T, rtol=1e-12, atol=1e-15)
    spec = f"gaussian:{size},{sigma}" if sigma else f"gaussian:{size}"
    np.testing.assert_allclose(parse_kernel(spec).weight, g @ g.T, rtol=1e-12, atol=1e-15)


def test_gaussian_blur_matches_opencv(cv2):
    X = _image(6).astype(np.float32)
    ref = cv2.GaussianBlur(X, (5, 5), 1.2, borderType=cv2.BORDER_REFLECT_101)
    K = torch.from_numpy(parse_kernel("gaussian:5,1.2").weight)
    np.testing.assert_allclose(filter2d(torch.from_numpy(X), K, mode="same", border="reflect").numpy(), ref, atol=1e-6)


@pytest.mark.parametrize(("size", "sigma"), [(5, 1.0), (7, 1.4), (9, 0.0), (3, 0.5)])
def test_log_is_scipys_gaussian_laplace_made_zero_sum(size, sigma):
    impulse = np.zeros((size, size))
    impulse[size // 2, size // 2] = 1
    s = opencv_sigma(size, sigma)
    ref = ndi.gaussian_laplace(impulse, s, mode="constant", radius=size // 2)  # the kernel, rotated (symmetric)
    np.testing.assert_allclose(log_kernel(size, sigma), ref - ref.mean(), atol=1e-12)
    assert abs(log_kernel(size, sigma).sum()) < 1e-12 and log_kernel(size, sigma)[size // 2, size // 2] < 0


@pytest.mark.parametrize(("name", "axis"), [("prewitt-x", 1), ("prewitt-y", 0)])
def test_prewitt_matches_scipy(name, axis):
    X = _image(7)
    ref = ndi.prewitt(X, axis=axis, mode="mirror")
    Y = filter2d(torch.from_numpy(X), torch.from_numpy(parse_kernel(name).weight), mode="same", border="reflect")
    np.testing.assert_allclose(Y.numpy(), ref, atol=1e-12)


@pytest.mark.parametrize(
    ("name", "skimage_weights"), [("roberts-x", [[1, 0], [0, -1]]), ("roberts-y", [[0, 1], [-1, 0]])]
)
def test_roberts_is_scikit_images_convolution(name, skimage_weights):
    # skimage.filters.roberts_pos_diag / _neg_diag: ndi.convolve with these weights.
    X = _image(8)
    ref = ndi.convolve(X, np.array(skimage_weights, dtype=float))
    Y = filter2d(torch.from_numpy(X), torch.from_numpy(parse_kernel(name).weight), mode="valid")
    # skimage puts each 2x2 window's result on its top-left pixel, like --mode valid.
    np.testing.assert_allclose(Y.numpy(), ref[:-1, :-1], atol=1e-12)


def test_farid_is_scikit_images_convolution():
    # skimage.filters.farid_h convolves with d1.T * p, farid_v with its transpose
    # (Farid & Simoncelli 2004, Table 1, as scikit-image writes the values).
    p = np.array([[0.0376593171958126, 0.249153396177344, 0.426374573253687, 0.249153396177344, 0.0376593171958126]])
    d1 = np.array([[0.109603762960254, 0.276690988455557, 0, -0.276690988455557, -0.109603762960254]])
    X = _image(9)
    for name, weights in [("farid-y", d1.T * p), ("farid-x", (d1.T * p).T)]:
        ref = ndi.convolve(X, weights, mode="mirror")
        Y = filter2d(torch.from_numpy(X), torch.from_numpy(parse_kernel(name).weight), mode="same", border="reflect")
        np.testing.assert_allclose(Y.numpy(), ref, atol=1e-12)


# Gradient pairs.


@pytest.mark.parametrize(
    ("spec", "pair"),
    [
        ("sobel-x", ("sobel-x", "sobel-y")),
        ("sobel-y", ("sobel-x", "sobel-y")),
        ("edge", ("edge", "edge-t")),
        ("edge-t", ("edge", "edge-t")),
        ("farid-y", ("farid-x", "farid-y")),
        ("1,0,-1", ("inline", "inline.T")),
        ("gaussian:5", ("gaussian:5", "gaussian:5.T")),
    ],
)
def test_gradient_pair(spec, pair):
    gx, gy = gradient_pair(parse_kernel(spec))
    assert (gx.name, gy.name) == pair
    if gy.name.endswith(".T"):
        np.testing.assert_array_equal(gy.weight, gx.weight.T)
    else:
        np.testing.assert_array_equal(gy.weight, parse_kernel(pair[1]).weight)
