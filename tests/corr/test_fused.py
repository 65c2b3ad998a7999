"""The fused CUDA kernel's pieces, exercised on the CPU."""

import pytest
import torch
from corr_cases import rand, randn

from convlearn.corr import direct, fused


def test_compile_is_only_for_cuda(monkeypatch):
    assert not fused.compile_enabled(torch.device("cpu"))
    monkeypatch.setenv("CONVLEARN_COMPILE", "0")
    assert not fused.compile_enabled(torch.device("cuda"))


def test_failed_compile_falls_back_to_eager(monkeypatch):
    def broken_compile(fn, **kwargs):
        def run(*args):
            raise RuntimeError("no C compiler")

        return run

    monkeypatch.setattr(torch, "compile", broken_compile)
    monkeypatch.setattr(fused, "_compiled", {})
    monkeypatch.setitem(fused._compile_state, "broken", False)
    X, K = rand(1, 12, 12), randn(3, 3)
    with pytest.warns(RuntimeWarning, match="torch.compile failed"):
        Y = fused.fused_shift_add((3, 3))(X, K)
    assert fused._compile_state["broken"]
    torch.testing.assert_close(Y, direct.shift_add(X, K))
