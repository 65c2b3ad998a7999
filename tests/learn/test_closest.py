"""The closest built-in kernel (convlearn.learn.closest)."""

import numpy as np
import pytest

from convlearn.kernels import gaussian_kernel, log_kernel, parse_kernel
from convlearn.learn.closest import CLOSE, closest_builtin


def test_a_fixed_kernel_is_named_exactly():
    assert closest_builtin(parse_kernel("sobel-y").weight) == {"spec": "sobel-y", "max_abs_diff": 0.0}
    assert closest_builtin(np.array([[1.0, -1.0]])) == {"spec": "edge", "max_abs_diff": 0.0}


def test_a_scaled_fixed_kernel_gives_its_scale():
    found = closest_builtin(parse_kernel("laplacian").weight * -0.5 + 1e-4)
    assert found["spec"] == "laplacian" and found["scale"] == -0.5
    assert found["max_abs_diff"] == pytest.approx(1e-4, abs=1e-9)


def test_opencvs_default_gaussian_is_the_plain_spec():
    found = closest_builtin(gaussian_kernel(5, 0.0) + 2e-4)
    assert found["spec"] == "gaussian:5" and found["max_abs_diff"] == pytest.approx(2e-4, abs=1e-12)


@pytest.mark.parametrize(("family", "make", "sigma"), [("gaussian", gaussian_kernel, 1.7), ("log", log_kernel, 1.3)])
def test_a_family_gets_its_sigma_fitted(family, make, sigma):
    found = closest_builtin(make(7, sigma))
    assert found["spec"] == f"{family}:7,{sigma:g}" and found["max_abs_diff"] < 1e-12
    assert np.abs(parse_kernel(found["spec"]).weight - make(7, sigma)).max() == found["max_abs_diff"]


def test_box():
    assert closest_builtin(np.full((3, 3), 1 / 9))["spec"] == "box:3"


def test_nothing_close_is_none():
    rng = np.random.default_rng(0)
    assert closest_builtin(rng.standard_normal((4, 4))) is None
    assert closest_builtin(np.zeros((3, 3))) is None
    far = parse_kernel("sharpen").weight.copy()
    far[0, 0] += 1.01 * CLOSE * 5  # just past "close" relative to its peak, 5
    assert closest_builtin(far) is None


def test_a_narrow_log_is_found_though_its_dip_is_far_from_the_wide_ones():
    # The squared difference over sigma has more than one dip here: a bounded search
    # over the whole range alone settles in the wrong one (near sigma 0.62).
    assert closest_builtin(0.7 * log_kernel(7, 0.3)) == {"spec": "log:7,0.3", "max_abs_diff": 0.0, "scale": 0.7}


@pytest.mark.parametrize("sigma", [0.3, 0.5])
def test_a_3x3_log_is_named_by_the_sigma_that_rounds_exactly(sigma):
    # A 3x3 LoG has one shape parameter, so two sigmas give the same shape up to scale;
    # the one whose three-digit rounding fits is reported.
    assert closest_builtin(0.7 * log_kernel(3, sigma)) == {
        "spec": f"log:3,{sigma:g}",
        "max_abs_diff": 0.0,
        "scale": 0.7,
    }
