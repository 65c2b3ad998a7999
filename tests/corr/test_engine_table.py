"""The engine table: every record's engine, run and differentiated as the dispatch does, against float64 F.conv2d."""

import pytest
import torch
import torch.nn.functional as F

from convlearn.corr import ENGINES, STRATEGIES, Engine
from convlearn.corr.engine import _choose, compute, differentiable
from convlearn.errors import InputError


def _reference(Xb: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """corr2d of (N, H, W) by F.conv2d (a correlation: no kernel flip), in float64."""
    return F.conv2d(Xb.double()[:, None], K.double()[None, None])[:, 0]


def _inputs(h: int, w: int, dtype=torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(h * 100 + w)
    return torch.rand(3, 23, 29, generator=g, dtype=dtype), torch.randn(h, w, generator=g, dtype=dtype)


def test_the_table_holds_every_strategy_but_auto():
    assert list(ENGINES) and set(ENGINES) == set(STRATEGIES) - {"auto"}
    assert all(isinstance(e, Engine) and e.name == name for name, e in ENGINES.items())


@pytest.mark.parametrize("name", list(ENGINES))
@pytest.mark.parametrize("shape", [(1, 1), (1, 4), (3, 3), (5, 2), (9, 9)])
def test_each_engine_matches_float64_conv2d(name, shape):
    engine = ENGINES[name]
    Xb, K = _inputs(*shape)
    Y = engine.run(Xb, K, engine.tiling(Xb, K))
    assert Y.shape == (3, 23 - shape[0] + 1, 29 - shape[1] + 1) and Y.dtype == torch.float64
    torch.testing.assert_close(Y, _reference(Xb, K), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", list(ENGINES))
def test_each_engine_differentiates_as_conv2d(name):
    Xb, K = _inputs(4, 3)
    Xb.requires_grad_(True)
    K.requires_grad_(True)
    g = torch.randn(3, 20, 27, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    gx, gk = torch.autograd.grad((ENGINES[name].differentiable(Xb, K) * g).sum(), (Xb, K))
    rx, rk = torch.autograd.grad((_reference(Xb, K) * g).sum(), (Xb, K))
    torch.testing.assert_close(gx, rx, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(gk, rk, rtol=1e-10, atol=1e-10)


def test_an_engine_with_small_tiles_fills_the_output_the_same():
    """The dispatch shrinks the tiling on out of memory; each engine must give the same sum at any tile size."""
    Xb, K = _inputs(5, 5)
    for engine in ENGINES.values():
        tiling = engine.tiling(Xb, K)
        while (smaller := tiling.smaller()) is not None:
            tiling = smaller
        torch.testing.assert_close(engine.run(Xb, K, tiling), _reference(Xb, K), rtol=1e-10, atol=1e-10)


def test_the_cpu_never_chooses_an_engine_kept_for_other_devices():
    Xb, K = _inputs(3, 3)
    assert ENGINES["conv2d"].devices == ("cuda",)
    assert _choose(Xb, K) != "conv2d"


def test_an_inexact_engine_gives_way_to_an_exact_one_on_inf():
    Xb, K = _inputs(15, 15)  # large: the FFT is the cheapest
    assert _choose(Xb, K) == "fft" and not ENGINES["fft"].exact
    Xb[0, 3, 4] = float("inf")
    assert _choose(Xb, K) == "direct"


def test_an_engine_refuses_a_dtype_it_does_not_compute_in():
    Xb, K = _inputs(3, 3, dtype=torch.float16)
    with pytest.raises(InputError, match=r"^Strategy 'fft' needs a float32 or float64 image, got torch.float16$"):
        compute(Xb, K, "fft")
    with pytest.raises(InputError, match="needs a float32 or float64 image"):
        differentiable(Xb, K, "fft")
    assert _choose(Xb, K) == "direct"  # auto leaves the FFT out for float16
