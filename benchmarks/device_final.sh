#!/usr/bin/env bash
# The last device session of this round: GPU checks (benchmarks/gpu_check.sh: CUDA tests, the issue-25
# figures, one NCCL rank), restore on CUDA, and -- at the same time, on two cores pinned apart from the
# GPU work -- the CPU goals that need a quiet 2-core machine (the sandbox never is): Canny against OpenCV
# on a 12 MP photo, corr2d against cv2.filter2D, and restore's 12 MP figure. Results land in $OUT.
#   OUT=/tmp/out bash benchmarks/device_final.sh
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
OUT="${OUT:-benchmarks/gpu_out}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$OUT"
quiet() {  # the CPU measurements, on cores 0 and 1 only
    export OMP_NUM_THREADS=2 MKL_NUM_THREADS=2
    "$PYTHON" -c "
import cv2, numpy as np; from PIL import Image; from skimage import data
g = Image.fromarray(data.astronaut()).resize((4000, 3000), Image.LANCZOS).convert('L')
g.save('/tmp/photo12.jpg', quality=92); x = np.asarray(g)
Image.fromarray(x).save('/tmp/in12.png'); Image.fromarray(cv2.GaussianBlur(x, (5, 5), 1.2)).save('/tmp/t12.png')
c = x[1000:1512, 1500:2012]; Image.fromarray(c).save('/tmp/in512.png')
Image.fromarray(cv2.GaussianBlur(c, (5, 5), 1.2)).save('/tmp/t512.png')"
    echo "== canny 12 MP (2 pinned cores)"; timeout 60 "$PYTHON" benchmarks/canny_vs_opencv.py --speed /tmp/photo12.jpg --repeats 5
    for n in 512 12; do
        echo "== learn, no options, $n pair (2 pinned cores): wall seconds, then python -c 'import torch'"
        for r in 1 2 3; do /usr/bin/time -f "%e s" timeout 40 "$PYTHON" -m convlearn learn -i /tmp/in$n.png -t /tmp/t$n.png \
            -o /tmp/k$n-$r.json -q 2>&1 | tail -1; done
        "$PYTHON" -c "import json, sys; d = json.load(open(sys.argv[1])); print({k: d.get(k) for k in ('kernel_size', 'closest', 'linear', 'noise')})" /tmp/k$n-1.json
    done
    /usr/bin/time -f "import torch %e s" "$PYTHON" -c "import torch"
    echo "== restore 12 MP 9x9 (2 pinned cores)"
    timeout 80 "$PYTHON" -c "import sys; sys.path.insert(0, 'benchmarks'); import bench_restore; print(bench_restore.large_row())"
    echo "== corr2d vs cv2.filter2D (2 pinned cores)"
    timeout 60 "$PYTHON" benchmarks/bench_corr2d.py --device cpu --sizes 512,4096 --kernels 3x3,5x5 --repeats 7 \
        --threads 2 --no-scipy --loop-max 0 --markdown
}
quiet > "$OUT/quiet2core.txt" 2>&1 &
QUIET=$!
STEPS="tests results torchrun" RESULTS_ARGS="--skip crossover" OUT="$OUT" taskset -c 2-15 bash benchmarks/gpu_check.sh
echo "== restore on CUDA"
timeout 40 taskset -c 2-15 "$PYTHON" - <<'PY' 2>&1 | tee "$OUT/restore_cuda.txt"
import time, torch
from convlearn.kernels import parse_kernel
from convlearn.restore import restore_planes
from convlearn.corr import filter2d
K = parse_kernel("gaussian:9,2")
w = torch.as_tensor(K.weight, dtype=torch.float32)
g = torch.Generator().manual_seed(0)
x = torch.rand(512, 512, generator=g)
b = (filter2d(x, w, mode="same", border="reflect") * 255).round() / 255
cpu, gpu = restore_planes(b, K), restore_planes(b.cuda(), K)
print("512² max |cuda - cpu|", float((gpu.planes.cpu() - cpu.planes).abs().max()))
big = (torch.rand(3000, 4000, device="cuda") * 255).round() / 255
big = (filter2d(big, w.cuda(), mode="same", border="reflect") * 255).round() / 255
for run in range(2):
    torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats(); t = time.perf_counter()
    r = restore_planes(big, K); torch.cuda.synchronize()
    print(f"12 MP on CUDA, run {run}: {(time.perf_counter() - t) * 1e3:.0f} ms, "
          f"peak {torch.cuda.max_memory_allocated() / big.numel() / 4:.1f}x the float32 image, {r.summary()}")
PY
sleep 15; kill "$QUIET" 2>/dev/null; wait "$QUIET" 2>/dev/null
cat "$OUT/quiet2core.txt"
