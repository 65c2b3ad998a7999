"""The kernel behind a JPEG target, fitted to its quantisation bins."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter
from scipy.ndimage import correlate
from wild_data import photo

from convlearn.learn.jpegfit import refine
from convlearn.learn.noise import noise_model
from convlearn.learn.select import decide

SHARPEN = np.full((3, 3), -2 / 16)
SHARPEN[1, 1] = 32 / 16


def test_bins_bring_a_sharpen_back_closer_than_pixels(tmp_path):
    """Least squares on the decoded pixels learns a weaker sharpen; the bins fit comes back near Pillow's."""
    x = photo(256, seed=3)
    truth = np.asarray(Image.fromarray(x).filter(ImageFilter.SHARPEN), dtype=np.float64)
    path = tmp_path / "t.jpg"
    Image.fromarray(truth.astype(np.uint8)).save(path, quality=85)
    with Image.open(path) as im:
        table = np.asarray(im.quantization[0], dtype=np.float64)
        y = np.asarray(im, dtype=np.float64)
    xf = x.astype(np.float64)
    d = decide(xf, y, noise_model(path), bias=False)
    assert d.kernel.shape == (3, 3)
    k, bias, blocks, miss = refine(xf, y, table, d.kernel, None, np.ones(y.shape, bool))
    assert bias is None and blocks > 100 and miss < 0.2
    inner = (slice(8, -8), slice(8, -8))

    def off(kernel):
        return np.abs(np.clip(np.round(correlate(xf, kernel, mode="reflect")), 0, 255) - truth)[inner]

    assert np.percentile(off(k), 99.9) < np.percentile(off(d.kernel), 99.9)
    assert np.abs(k - SHARPEN).max() < np.abs(d.kernel - SHARPEN).max()


def test_too_few_blocks_gives_the_start_back():
    x = np.zeros((12, 12))
    k0 = np.ones((3, 3)) / 9
    k, _, blocks, miss = refine(x, x, np.ones(64), k0, None, np.ones(x.shape, bool))
    assert blocks == 0 and k is k0 and np.isnan(miss)
