"""The names users of OpenCV, scikit-image, Pillow and ImageMagick type, as those tools mean them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy import ndimage

from convlearn.detect import DetectConfig, detect_image
from convlearn.errors import InputError, KernelSpecError
from convlearn.kernels import export_kernel, gaussian_size, parse_kernel

RNG = np.random.default_rng(23)
IMAGE8 = RNG.integers(0, 256, (48, 40), dtype=np.uint8)


# sigma -> round(6 sigma + 1) | 1, by hand: 6 sigma + 1 = 4, 5.8, 7, 10, 13, 16, 20.8.
@pytest.mark.parametrize(("sigma", "n"), [(0.5, 5), (0.8, 7), (1.0, 7), (1.5, 11), (2.0, 13), (2.5, 17), (3.3, 21)])
def test_a_sigma_only_gaussian_has_the_size_opencv_takes_on_8_bit_images(sigma, n):
    assert gaussian_size(sigma) == n
    # cv2.GaussianBlur with ksize (0, 0) chooses the size itself; its pixels are those of (n, n). On 8-bit
    # pixels a size 2 smaller or larger may give the same (their tails stay under half a level), so the rule
    # itself is read from OpenCV's source (see gaussian_size) and worked by hand above.
    assert np.array_equal(cv2.GaussianBlur(IMAGE8, (0, 0), sigma), cv2.GaussianBlur(IMAGE8, (n, n), sigma))
    for spec in (f"gaussian:s{sigma}", f"gaussian:0,{sigma}", f"GAUSSIAN:S{sigma}"):
        assert parse_kernel(spec).shape == (n, n)
    ours = cv2.filter2D(IMAGE8.astype(np.float64), -1, parse_kernel(f"gaussian:s{sigma}").weight)
    exact = cv2.GaussianBlur(IMAGE8.astype(np.float64), (n, n), sigma)
    np.testing.assert_allclose(ours, exact, atol=1e-9)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("gaussian:0", "size 0 takes its size from sigma: give one, as in gaussian:0,1.5 or gaussian:s1.5"),
        ("gaussian:s1000", "sigma 1000 makes a 6001x6001 kernel; the largest side allowed is 1025"),
    ],
)
def test_a_sigma_only_gaussian_refuses_what_has_no_size(spec, message):
    with pytest.raises(KernelSpecError, match=message):
        parse_kernel(spec)


@pytest.mark.parametrize(
    ("name", "smooth", "scale"), [("sobel", [1, 2, 1], 4), ("scharr", [3, 10, 3], 16), ("prewitt", [1, 1, 1], 3)]
)
def test_sobel_scharr_prewitt_are_the_gradient_magnitude_as_scikit_image_means_it(name, smooth, scale):
    image = RNG.random((24, 20))
    out = detect_image(image, parse_kernel(name), DetectConfig(mode="same", border="replicate")).values.numpy()
    # scikit-image's filters.sobel: kernels smooth/scale across [1, 0, -1], sqrt of the mean square of the two axes;
    # computed here with SciPy as scikit-image does (it is not a test dependency). Its border: nearest = replicate.
    edge, k = np.array([1, 0, -1]), np.array(smooth) / scale
    axes = [
        ndimage.convolve(image, np.outer(edge, k), mode="nearest"),
        ndimage.convolve(image, np.outer(k, edge), mode="nearest"),
    ]
    skimage = np.sqrt((axes[0] ** 2 + axes[1] ** 2) / 2)
    np.testing.assert_allclose(out / (scale * np.sqrt(2)), skimage, atol=1e-6)


def test_a_magnitude_name_is_not_one_kernel_to_export():
    with pytest.raises(InputError, match="export sobel-x and sobel-y and combine their results with numpy.hypot"):
        export_kernel(parse_kernel("sobel"), "opencv")


def test_box_is_a_side_and_says_how_to_write_a_radius():
    from convlearn.kernels import KERNELS

    assert parse_kernel("box:5").shape == (5, 5)
    assert "Pillow's BoxBlur(r) and ImageMagick's radius r are box:2r+1" in KERNELS["box"].convention
