"""Tiles: the output is the same tiled or not, every pixel once, the budget, the huge-page output."""

import pytest
import torch
from corr_cases import FAST, assert_matches_reference, rand, randn

from convlearn.corr import corr2d, threads, tiling
from convlearn.corr.tiling import Tiling


@pytest.mark.parametrize("strategy", FAST)
def test_tiles_give_the_untiled_result(strategy, monkeypatch):
    X = rand(2, 70, 41)
    K = randn(5, 4)
    whole = corr2d(X, K, strategy=strategy)
    # 200 input elements a tile: bands of a few rows, one image at a time.
    monkeypatch.setitem(tiling.TILE_ELEMENTS, "cpu", 200)
    tiled = corr2d(X, K, strategy=strategy)
    if strategy == "fft":  # other strip lengths round differently
        assert_matches_reference(tiled[1], X[1], K, strategy)
    else:  # the same sum in the same order, tile or not
        assert torch.equal(tiled, whole)


def test_tiling_covers_every_pixel_once():
    seen = torch.zeros(5, 37, 23, dtype=torch.int64)
    for imgs, r0, r1, c0, c1 in tiling.tiles(5, 37, 23, Tiling(images=2, rows=8, cols=10)):
        seen[imgs, r0:r1, c0:c1] += 1
    assert torch.equal(seen, torch.ones(5, 37, 23, dtype=torch.int64))


def test_tiling_for_budget(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.setitem(tiling.TILE_ELEMENTS, "cpu", 1 << 18)
    monkeypatch.setattr(threads, "workers", lambda: 2)
    # Work small enough for the calling thread is not cut for the workers: one tile within the budget.
    assert tiling.tiling_for(300, 28, 28, (3, 3), cpu) == Tiling(300, 26, 26)
    assert tiling.tiling_for(1, 400, 400, (3, 3), cpu) == Tiling(1, 398, 398)
    monkeypatch.setattr(threads, "INLINE_TAPS", 0)  # from here on, work shared among the workers
    # Bands of full rows that fit the budget.
    assert tiling.tiling_for(1, 4096, 4096, (3, 3), cpu) == Tiling(1, (1 << 18) // 4096 - 2, 4094)
    # Many small images go together, in one tile per worker.
    assert tiling.tiling_for(300, 28, 28, (3, 3), cpu) == Tiling(150, 26, 26)
    # An image that fits one tile is still cut in two for two workers...
    assert tiling.tiling_for(1, 400, 400, (3, 3), cpu) == Tiling(1, 200 - 2, 398)
    # ...unless the halves would be too small to be worth it.
    assert tiling.tiling_for(1, 100, 100, (3, 3), cpu) == Tiling(1, 98, 98)
    # A tall kernel on a wide image: at least 4 (h - 1) rows, and blocks of columns to stay near the budget.
    wide = tiling.tiling_for(1, 4096, 16384, (31, 31), cpu)
    assert wide.rows == 120 and (wide.rows + 30) * (wide.cols + 30) <= 1 << 18
    # The FFT's strips: the rows it asks for, columns of a fast length.
    fft = tiling.tiling_for(1, 4096, 16384, (31, 31), cpu, rows=210, fast_cols=True)
    assert fft.rows == 210 and fft.cols + 30 == 4096  # 4x the budget, a power of two
    assert tiling.tiling_for(4, 100, 100, (5, 5), cpu, rows=20) == Tiling(4, 20, 96)


def test_wide_images_in_blocks_give_the_banded_result(monkeypatch):
    X = rand(1, 40, 300)
    K = randn(3, 5)
    bands = corr2d(X, K, strategy="direct")
    monkeypatch.setitem(tiling.TILE_ELEMENTS, "cpu", 700)  # forces blocks of columns
    assert tiling.tiling_for(1, 40, 300, (3, 5), torch.device("cpu")).cols < 296
    assert torch.equal(corr2d(X, K, strategy="direct"), bands)
    assert_matches_reference(corr2d(X[0], K, strategy="fft"), X[0], K, "fft")
    assert_matches_reference(corr2d(X[0], K, strategy="separable"), X[0], K, "separable")


def test_large_output_is_numpy_backed_and_writable():
    big = tiling.empty_output((1, 1100, 1000), torch.zeros(1))
    small = tiling.empty_output((1, 10, 10), torch.zeros(1))
    assert big.shape == (1, 1100, 1000) and big.dtype == torch.float32
    big.fill_(2.0)
    assert float(big.sum()) == 2.0 * 1100 * 1000
    assert small.dtype == torch.float32
