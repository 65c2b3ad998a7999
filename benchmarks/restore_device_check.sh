#!/usr/bin/env bash
# One short device session for restore (issue 21): the 12 MP figure of bench_restore.py on two pinned
# cores of a quiet machine (the sandbox is shared and loaded), then CUDA: the same image on the GPU,
# and a CUDA result against the CPU one on a 512x512 image.   bash benchmarks/restore_device_check.sh
# Not yet run: a helper's device session carries the lead's checkout, not the helper's branch; run it after the merge.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
PYTHON="${PYTHON:-python3}"
echo "== 12 MP on cores 0,1"
OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 timeout 150 taskset -c 0,1 "$PYTHON" -c "
import sys; sys.path.insert(0, 'benchmarks'); import bench_restore; print(bench_restore.large_row())"
echo "== CUDA"
timeout 90 "$PYTHON" - <<'PY'
import time, numpy as np, torch
from convlearn.kernels import parse_kernel
from convlearn.restore import restore_planes
from convlearn.corr import filter2d
print(torch.__version__, torch.cuda.get_device_name(0))
K = parse_kernel("gaussian:9,2")
g = torch.Generator().manual_seed(0)
x = torch.rand(512, 512, generator=g)
b = (filter2d(x, torch.as_tensor(K.weight, dtype=torch.float32), mode="same", border="reflect") * 255).round() / 255
cpu = restore_planes(b, K)
gpu = restore_planes(b.cuda(), K)
print("cpu", cpu.summary()); print("gpu", gpu.summary())
print("max |cuda - cpu|", float((gpu.planes.cpu() - cpu.planes).abs().max()))
big = (torch.rand(3000, 4000, device="cuda") * 255).round() / 255
big = filter2d(big, torch.as_tensor(K.weight, dtype=torch.float32, device="cuda"), mode="same", border="reflect")
big = (big * 255).round() / 255
for run in range(2):
    torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats(); t = time.perf_counter()
    r = restore_planes(big, K); torch.cuda.synchronize()
    print(f"12 MP on CUDA, run {run}: {time.perf_counter() - t:.2f} s, peak {torch.cuda.max_memory_allocated() / big.numel() / 4:.1f}x the float32 image, {r.summary()}")
PY
echo "== CLI on CUDA"
"$PYTHON" -m convlearn synth /tmp/s.png -p shapes --height 256 --width 256 -q
"$PYTHON" -m convlearn detect /tmp/s.png -k box:5 --mode same --border reflect -o /tmp/b.png -q
"$PYTHON" -m convlearn restore /tmp/b.png -k box:5 --device cuda -o /tmp/r.png; echo "exit $?"
