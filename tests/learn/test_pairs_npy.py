"""float32 .npy pairs are read in float32 (exact) and give the same normal equations as in float64."""

import numpy as np
import torch

from convlearn.learn.normal import normal_equations
from convlearn.learn.pairs import Pair, read_pair


def test_a_float32_pair_stays_float32_and_sums_the_same(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((40, 50)).astype(np.float32)
    y = (x[:-2, :-2] - 2 * x[1:-1, 2:] + 0.5 * x[2:, 1:-1]).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    pair = read_pair(tmp_path / "x.npy", tmp_path / "y.npy")
    assert pair.input.dtype == torch.float32 and pair.target.dtype == torch.float32
    wide = Pair(pair.input.double(), pair.target.double(), "x", "y", None)
    a, b = normal_equations([pair], (3, 3)), normal_equations([wide], (3, 3))
    assert torch.equal(a.gram, b.gram) and torch.equal(a.rhs, b.rhs) and a.yy == b.yy


def test_an_integer_pair_is_read_in_float64(tmp_path):
    x = np.arange(30, dtype=np.uint8).reshape(5, 6)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", x[1:-1, 1:-1])
    pair = read_pair(tmp_path / "x.npy", tmp_path / "y.npy")
    assert pair.input.dtype == torch.float64
