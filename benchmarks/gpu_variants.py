"""Variants of the CUDA direct sum and FFT, timed against a device copy in one run (issue 25's tuning).

    python benchmarks/gpu_variants.py [--device cuda] [--small]

Prints one JSON line per measurement: the Triton 2-D tile kernel at several tile
shapes and warp counts, torch.compile's fused shift-add with dynamic and static
shapes, cuDNN, the FFT strips of corr2d against one whole-image FFT, and the
time auto spends choosing an engine.
"""

# ruff: noqa: B023  (every lambda below is timed and dropped before its loop variables change)
from __future__ import annotations

import argparse
import json

import torch

from benchmarks.gpu_results import rel_err, timer


def fft_whole(x: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid correlation by one FFT of the whole plane (circular; the valid part has no wrap)."""
    H, W = x.shape[-2:]
    h, w = K.shape
    Kp = torch.zeros(H, W, dtype=x.dtype, device=x.device)
    Kp[:h, :w] = K
    Y = torch.fft.irfft2(torch.fft.rfft2(x) * torch.conj(torch.fft.rfft2(Kp)), s=(H, W))
    return Y[..., : H - h + 1, : W - w + 1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--small", action="store_true")
    a = ap.parse_args()
    from convlearn.corr import choose_strategy, corr2d
    from convlearn.corr.direct import shift_add
    from convlearn.runtime import resolve_device

    dev = resolve_device(a.device)
    n = 8192 if not a.small else 256
    g = torch.Generator().manual_seed(0)
    X = torch.rand(1, n, n, generator=g).to(dev)
    Y = torch.empty_like(X)
    copy = timer(dev, lambda: Y.copy_(X), 20)
    print(json.dumps({"what": "copy", "n": n, "ms": copy}), flush=True)

    def show(what, fn, ref_x, K, **kw):
        try:
            ms = timer(dev, fn, 20)
            err = rel_err(fn()[0], ref_x[0], K)
            print(
                json.dumps({"what": what, "ms": round(ms, 4), "x_copy": round(ms / copy, 2), "rel_err": err, **kw}),
                flush=True,
            )
        except Exception as e:
            print(json.dumps({"what": what, "failed": f"{type(e).__name__}: {str(e)[:200]}", **kw}), flush=True)

    if dev.type == "cuda":
        from convlearn.corr.tiles2d import corr2d_tiles

        for k in (3, 5, 7):
            K = torch.randn(k, k, generator=g).to(dev)
            for block in ((16, 128), (32, 128), (8, 256), (32, 64), (16, 256), (64, 64)):
                for warps in (4, 8):
                    show(
                        "tiles2d",
                        lambda b=block, wp=warps: corr2d_tiles(X, K, b, wp),
                        X,
                        K,
                        k=k,
                        block=block,
                        warps=warps,
                    )
            dyn = torch.compile(shift_add, dynamic=True, fullgraph=True)
            sta = torch.compile(shift_add, dynamic=False, fullgraph=True)
            show("compile_dynamic", lambda: dyn(X, K), X, K, k=k)
            show("compile_static", lambda: sta(X, K), X, K, k=k)
            show("corr2d_direct", lambda: corr2d(X, K, strategy="direct"), X, K, k=k)
            show("corr2d_conv2d", lambda: corr2d(X, K, strategy="conv2d"), X, K, k=k)
            t = timer(dev, lambda: choose_strategy(X, K), 20)
            print(json.dumps({"what": "choose_strategy", "k": k, "ms": t}), flush=True)
        for m in (512, 2048):
            Xs = X[:, :m, :m].contiguous()
            K = torch.randn(3, 3, generator=g).to(dev)
            show("tiles2d_small", lambda: corr2d_tiles(Xs, K), Xs, K, n=m)
            show("conv2d_small", lambda: corr2d(Xs, K, strategy="conv2d"), Xs, K, n=m)
            show("direct_small", lambda: corr2d(Xs, K, strategy="direct"), Xs, K, n=m)
    for k in (9, 15, 31):
        K = torch.randn(k, k, generator=g).to(dev)
        show("fft_whole", lambda: fft_whole(X, K), X, K, k=k)
        show("corr2d_fft", lambda: corr2d(X, K, strategy="fft"), X, K, k=k)
        if dev.type == "cuda":
            show("tiles2d_big_k", lambda: corr2d_tiles(X, K), X, K, k=k)
        t = timer(dev, lambda: choose_strategy(X, K), 20)
        print(json.dumps({"what": "choose_strategy", "k": k, "ms": t}), flush=True)


if __name__ == "__main__":
    main()
