"""Canny's edges frozen: digests of the edge maps that the code gave before round three's speed work.

The digests were computed with the implementation of commit 8e9ea4a (padding
copies, one ``ndimage.label`` call, a float edge map) on the images below; a
faster CPU path must give the same edges bit for bit, so the digests must not
move. The whole-image path (smooth, Sobel, non-maximum suppression and the
parallel hysteresis, the one other devices run) is compared too.
"""

import hashlib

import numpy as np
import pytest
import torch

from convlearn.edges import canny, gradient_magnitude, non_max_suppression, smooth, sobel_gradients


def _photo_like(seed: int = 7, shape=(211, 317)) -> np.ndarray:
    """8-bit levels of blurred noise at three scales plus a few hard-edged shapes: a photo's mix."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    img = np.zeros(shape)
    for s, w in ((12.0, 0.6), (3.0, 0.3), (0.7, 0.1)):
        img += w * ndimage.gaussian_filter(rng.standard_normal(shape), s)
    img = (img - img.min()) / (img.max() - img.min())
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    img[(yy - 80) ** 2 + (xx - 120) ** 2 < 40**2] = 0.9
    img[150:190, 200:290] = 0.15
    return np.round(img * 255) / 255


def _noise(seed: int = 3, shape=(157, 203)) -> np.ndarray:
    return np.random.default_rng(seed).random(shape)


IMAGES = {
    "photo": _photo_like,
    "noise": _noise,
    "photo-large": lambda: _photo_like(11, (733, 1201)),  # several bands and label chunks
    "noise-large": lambda: _noise(5, (601, 977)),
}

#: (image, dtype, sigma, low, high) -> sha256[:16] of the packed edge map, from commit 8e9ea4a.
FROZEN = {
    ("photo", "float32", 0.0, 0.1, 0.3): "2704ac747ae82eb6",  # 23429 edge pixels
    ("photo", "float32", 1.0, 0.05, 0.15): "b70995b4d190c39a",  # 20090 edge pixels
    ("photo", "float32", 2.5, 0.02, 0.06): "fe4fd9f35004f07f",  # 10416 edge pixels
    ("photo", "float32", 1.4, 0.0, 0.0): "21d09abbe798b1cf",  # 17142 edge pixels
    ("photo", "float64", 0.0, 0.1, 0.3): "7550d5a8981f1d87",  # 23424 edge pixels
    ("photo", "float64", 1.0, 0.05, 0.15): "b70995b4d190c39a",  # 20090 edge pixels
    ("photo", "float64", 2.5, 0.02, 0.06): "fe4fd9f35004f07f",  # 10416 edge pixels
    ("photo", "float64", 1.4, 0.0, 0.0): "21d09abbe798b1cf",  # 17142 edge pixels
    ("noise", "float32", 0.0, 0.1, 0.3): "e6879e5a1be8c322",  # 11904 edge pixels
    ("noise", "float32", 1.0, 0.05, 0.15): "9cdcfc210bda92ff",  # 12562 edge pixels
    ("noise", "float32", 2.5, 0.02, 0.06): "f92e434f99e02364",  # 6990 edge pixels
    ("noise", "float32", 1.4, 0.0, 0.0): "dd2dd40d260ceda8",  # 11091 edge pixels
    ("noise", "float64", 0.0, 0.1, 0.3): "e6879e5a1be8c322",  # 11904 edge pixels
    ("noise", "float64", 1.0, 0.05, 0.15): "9cdcfc210bda92ff",  # 12562 edge pixels
    ("noise", "float64", 2.5, 0.02, 0.06): "f92e434f99e02364",  # 6990 edge pixels
    ("noise", "float64", 1.4, 0.0, 0.0): "dd2dd40d260ceda8",  # 11091 edge pixels
    ("photo-large", "float32", 1.0, 0.03, 0.1): "50a02724e29785d3",  # 303895 edge pixels
    ("noise-large", "float32", 1.0, 0.03, 0.1): "937c112a67de4d7e",  # 231827 edge pixels
}


def _digest(edges: torch.Tensor) -> str:
    bits = np.packbits(edges.detach().cpu().numpy().astype(bool).reshape(-1))
    return hashlib.sha256(bits.tobytes() + repr(tuple(edges.shape)).encode()).hexdigest()[:16]


CASES = [
    (name, dtype, sigma, low, high)
    for name in ("photo", "noise")
    for dtype in ("float32", "float64")
    for sigma, low, high in ((0.0, 0.1, 0.3), (1.0, 0.05, 0.15), (2.5, 0.02, 0.06), (1.4, 0.0, 0.0))
] + [(name, "float32", 1.0, 0.03, 0.1) for name in ("photo-large", "noise-large")]


def _edges(name, dtype, sigma, low, high) -> torch.Tensor:
    X = torch.from_numpy(IMAGES[name]()).to(getattr(torch, dtype))
    return canny(X, low, high, sigma)


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(map(str, c)))
def test_canny_edges_are_the_frozen_ones(case):
    assert _digest(_edges(*case)) == FROZEN[case]


@pytest.mark.parametrize("case", CASES[::3], ids=lambda c: "-".join(map(str, c)))
def test_canny_cpu_path_equals_the_whole_image_path(case):
    name, dtype, sigma, low, high = case
    X = torch.from_numpy(IMAGES[name]()).to(getattr(torch, dtype))
    gx, gy = sobel_gradients(smooth(X, sigma))
    mag = gradient_magnitude(gx, gy)
    weak = non_max_suppression(mag, gx, gy) & (mag > low)
    from convlearn.edges.canny import _hysteresis_parallel

    ref = _hysteresis_parallel(weak[None], (weak & (mag > high))[None])[0]
    got = canny(X, low, high, sigma)
    assert got.sum() > 0 or low > 0.5
    np.testing.assert_array_equal(got.numpy().astype(bool), ref.numpy())


@pytest.mark.parametrize("rows", [1, 2, 7, 64])
@pytest.mark.parametrize("case", [CASES[1], CASES[9], CASES[-2], CASES[-1]], ids=lambda c: c[0])
def test_canny_edges_stay_frozen_with_many_label_chunks(monkeypatch, case, rows):
    from convlearn.edges import labels

    def chunks(N, H, W, workers):  # every seam rule used: chunks of a few rows, even one
        return [(n, r0, min(H, r0 + rows)) for n in range(N) for r0 in range(0, H, rows)]

    monkeypatch.setattr(labels, "_chunks", chunks)
    assert _digest(_edges(*case)) == FROZEN[case]


def test_kept_components_of_a_stack_equal_a_3d_label():
    from scipy import ndimage

    from convlearn.edges import labels

    rng = np.random.default_rng(1)
    cand = rng.random((3, 301, 257)) < 0.55  # near percolation: long components across every seam
    seeds = cand & (rng.random(cand.shape) < 0.002)
    structure = np.zeros((3, 3, 3), bool)
    structure[1] = True
    lab, _ = ndimage.label(cand, structure=structure)
    lit = np.zeros(lab.max() + 1, bool)
    lit[lab[seeds]] = True
    lit[0] = False
    want = lit[lab]
    old = labels.CHUNK_ELEMENTS
    try:
        labels.CHUNK_ELEMENTS = 1000
        got = labels.kept_components(cand, seeds, bool)
    finally:
        labels.CHUNK_ELEMENTS = old
    assert 0 < want.sum() < cand.sum()
    np.testing.assert_array_equal(got, want)
