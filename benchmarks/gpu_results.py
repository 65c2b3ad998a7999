"""The GPU figures of issue 25, measured in one process and written as JSON.

    python benchmarks/gpu_results.py --json benchmarks/gpu_results.json [--device cuda]

Every time is the median of ``--repeats`` runs after warm-up, timed with CUDA
events on a GPU (``time.perf_counter`` elsewhere), so the figures are ratios
to a device copy of the same image measured in the same run:

- ``copy_ms_8192``: ``y.copy_(x)`` of an 8192² float32 image;
- ``corr3x3_ms_8192`` / ``corr31_ms_8192``: ``corr2d`` with ``strategy="auto"``,
  and every engine beside it (``engines``);
- ``rel_err_3x3``: the largest error of auto's 3x3 against float64 ``F.conv2d``,
  relative to the largest output;
- ``canny_ms_12mp``: ``canny`` of a 4000x3000 photo-like image on the device
  (and whether its edges equal the CPU's);
- ``lstsq_ms_4096``: ``learn_kernel`` with lstsq, a 3x3 kernel, a 4096² pair;
- ``crossover``: each engine's time over kernel sizes and image sizes, for the
  constants in ``convlearn/corr/engine.py``;
- ``restore_ms_12mp``: ``convlearn.restore`` of a 12 MP image with a 9x9
  Gaussian, where that module exists.

``--device cpu --small`` runs the same script at small sizes to check it here.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F


def timer(device: torch.device, fn: Callable[[], object], repeats: int, warmup: int = 2) -> float:
    """Median milliseconds of ``fn()`` over ``repeats`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end))
        else:
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def photo_like(H: int, W: int, device: torch.device, seed: int = 0) -> torch.Tensor:
    """A smooth image with edges and texture in [0, 1]: blurred noise plus discs and bars."""
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(1, 1, H // 8 + 1, W // 8 + 1, generator=g)
    img = F.interpolate(base, size=(H, W), mode="bilinear", align_corners=False)[0, 0]
    yy, xx = torch.meshgrid(torch.arange(H, dtype=torch.float32), torch.arange(W, dtype=torch.float32), indexing="ij")
    for k in range(12):
        cy, cx, r = (torch.rand(3, generator=g) * torch.tensor([H, W, min(H, W) / 6])).tolist()
        img = torch.where((yy - cy) ** 2 + (xx - cx) ** 2 < r * r, 0.2 + 0.06 * k, img)
    img = img + 0.02 * torch.randn(H, W, generator=g)
    return img.clamp(0, 1).to(device)


def rel_err(Y: torch.Tensor, X: torch.Tensor, K: torch.Tensor) -> float:
    ref = F.conv2d(X.double()[None, None], K.double()[None, None])[0, 0]
    return float((Y.double() - ref).abs().max() / ref.abs().max())


def engines_at(device, X, K, repeats, names) -> dict[str, float]:
    from convlearn import corr2d

    out = {}
    for name in names:
        try:
            out[name] = round(timer(device, lambda n=name: corr2d(X, K, strategy=n), repeats), 4)
        except Exception as e:  # report, keep measuring the others
            out[name] = f"failed: {type(e).__name__}: {str(e)[:120]}"
    return out


def measure_corr(device, big: int, repeats: int) -> dict:
    from convlearn import corr2d
    from convlearn.corr import choose_strategy

    g = torch.Generator().manual_seed(1)
    X = torch.rand(big, big, generator=g).to(device)
    Y = torch.empty_like(X)
    res: dict = {"size": big}
    res["copy_ms"] = round(timer(device, lambda: Y.copy_(X), repeats), 4)
    for k in (3, 31):
        K = torch.randn(k, k, generator=g).to(device)
        names = ["auto", "direct", "conv2d", "fft"] + (["separable"] if k == 3 else [])
        if k == 31 and device.type == "cuda":
            names.remove("direct")  # 961 eager passes: minutes, and never chosen
        res[f"corr{k}"] = engines_at(device, X, K, repeats, names)
        res[f"auto_choice_{k}"] = choose_strategy(X, K)
        res[f"rel_err_{k}"] = rel_err(corr2d(X, K), X, K)
        for name in ("direct", "conv2d", "fft"):
            if isinstance(res[f"corr{k}"].get(name), float):
                res[f"rel_err_{k}_{name}"] = rel_err(corr2d(X, K, strategy=name), X, K)
    return res


def measure_crossover(device, sizes, ks, repeats) -> list[dict]:
    rows = []
    g = torch.Generator().manual_seed(2)
    for n in sizes:
        X = torch.rand(n, n, generator=g).to(device)
        for k in ks:
            K = torch.randn(k, k, generator=g).to(device)
            names = ["direct", "conv2d", "fft"] if k * k <= 121 or device.type != "cuda" else ["conv2d", "fft"]
            rows.append({"size": n, "k": k, **engines_at(device, X, K, repeats, names)})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def measure_canny(device, H, W, repeats) -> dict:
    from convlearn import canny

    X = photo_like(H, W, device)
    t = timer(device, lambda: canny(X, 0.1, 0.3), repeats)
    edges = canny(X, 0.1, 0.3).cpu()
    same = None
    if device.type != "cpu":
        cpu = canny(X.cpu(), 0.1, 0.3)
        same = int((edges != cpu).sum())
    return {"ms": round(t, 3), "pixels": H * W, "edge_pixels": int(edges.sum()), "pixels_differing_from_cpu": same}


def measure_lstsq(device, n, repeats) -> dict:
    from convlearn import LearnConfig, Pair, corr2d, learn_kernel

    X = photo_like(n, n, device, seed=3)
    g = torch.Generator().manual_seed(4)
    K = torch.randn(3, 3, generator=g).to(device)
    T = corr2d(X, K)
    cfg = LearnConfig(solver="lstsq", kernel_size=(3, 3), device=str(device))

    def run():
        return learn_kernel([Pair(X, T)], cfg)

    t = timer(device, run, repeats, warmup=1)
    err = float((run().weight.to(device).double() - K.double()).abs().max())
    return {"ms": round(t, 3), "size": n, "max_weight_error": err}


def measure_restore(device, H, W, repeats) -> dict | None:
    try:
        import convlearn.restore as restore
    except ImportError:
        return None
    fn = getattr(restore, "restore_planes", None)
    if fn is None:
        return None
    from convlearn import parse_kernel

    X = photo_like(H, W, device, seed=5)[None]
    k = parse_kernel("gaussian:9,2")
    t = timer(device, lambda: fn(X, k), repeats, warmup=1)
    return {"ms": round(t, 2), "pixels": H * W}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--json", default="benchmarks/gpu_results.json")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--small", action="store_true", help="small sizes, to check the script on a CPU")
    ap.add_argument(
        "--skip", default="", help="comma-separated parts to skip: corr,small,crossover,canny,lstsq,restore"
    )
    a = ap.parse_args()
    from convlearn.runtime import resolve_device

    device = resolve_device(a.device)
    skip = set(filter(None, a.skip.split(",")))
    big, canny_hw, lstsq_n = (8192, (3000, 4000), 4096) if not a.small else (256, (300, 400), 256)
    info = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
    }
    results: dict = {**info}

    def save():
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)

    if "corr" not in skip:
        c = measure_corr(device, big, a.repeats)
        results.update(
            copy_ms_8192=c["copy_ms"],
            corr3x3_ms_8192=c["corr3"]["auto"],
            corr31_ms_8192=c["corr31"]["auto"],
            rel_err_3x3=c["rel_err_3"],
            corr_detail=c,
        )
        print(json.dumps(c, indent=1), flush=True)
        save()
    if "small" not in skip:  # the Triton tile engine's range: auto against cuDNN and a copy
        n = 2048 if not a.small else 128
        X = torch.rand(n, n, generator=torch.Generator().manual_seed(6)).to(device)
        K = torch.randn(3, 3, generator=torch.Generator().manual_seed(7)).to(device)
        Y = torch.empty_like(X)
        sm = {"size": n, "copy_ms": round(timer(device, lambda: Y.copy_(X), a.repeats), 4)}
        sm.update(engines_at(device, X, K, a.repeats, ["auto", "conv2d"]))
        from convlearn.corr import choose_strategy

        sm["auto_choice"] = choose_strategy(X, K)
        results["corr3x3_2048"] = sm
        print("small", sm, flush=True)
        save()
    if "canny" not in skip:
        results["canny_ms_12mp"] = (cr := measure_canny(device, *canny_hw, a.repeats))["ms"]
        results["canny_detail"] = cr
        print("canny", cr, flush=True)
        save()
    if "lstsq" not in skip:
        results["lstsq_ms_4096"] = (lr := measure_lstsq(device, lstsq_n, max(3, a.repeats // 4)))["ms"]
        results["lstsq_detail"] = lr
        print("lstsq", lr, flush=True)
        save()
    if "restore" not in skip:
        rr = measure_restore(device, *canny_hw, 3)
        if rr is not None:
            results["restore_ms_12mp"] = rr["ms"]
            print("restore", rr, flush=True)
            save()
    if "crossover" not in skip:
        sizes = (512, 2048, 8192) if not a.small else (64, 128)
        ks = (3, 5, 7, 9, 11, 15) if not a.small else (3, 7)
        results["crossover"] = measure_crossover(device, sizes, ks, max(5, a.repeats // 2))
        save()
    ratio = {
        k: round(results[k] / results["copy_ms_8192"], 2)
        for k in ("corr3x3_ms_8192", "corr31_ms_8192")
        if isinstance(results.get(k), float) and "copy_ms_8192" in results
    }
    results["ratio_to_copy"] = ratio
    save()
    print(json.dumps({k: v for k, v in results.items() if not isinstance(v, (dict, list))}, indent=1))
    print("ratio to copy:", ratio, "(goals: 3x3 <= 1.67, 31x31 <= 15)")


if __name__ == "__main__":
    main()
