#!/usr/bin/env bash
# One short GPU session for issue 4: the CUDA tests, the GPU benchmark and the
# peak memory at 16384², in under 10 minutes (the step limits add up to 9.5).
#
#   bash benchmarks/gpu_check.sh            # results in $OUT, or benchmarks/gpu_out
#   PYTHON=/path/to/python bash benchmarks/gpu_check.sh
#
# Needs a Python with a CUDA build of torch and numpy (pytest for the tests;
# Rich, OpenCV optional). convlearn itself is used from this checkout. Each
# step has its own time limit, so a slow one still leaves the others' output.
# Paste the printed tables into benchmarks/RESULTS.md, naming the card.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
OUT="${OUT:-benchmarks/gpu_out}"
mkdir -p "$OUT"

if [ -z "${PYTHON:-}" ]; then
    PYTHON=python3
    if [ -x .venv/bin/python ] && .venv/bin/python -c "import torch, sys; sys.exit(not torch.cuda.is_available())" 2>/dev/null; then
        PYTHON=.venv/bin/python
    fi
fi

step() {  # step NAME SECONDS COMMAND...: run with a time limit, keep its output
    local name=$1 limit=$2
    shift 2
    echo "== $name (limit ${limit}s)"
    local t0=$SECONDS
    timeout "$limit" "$@" 2>&1 | tee "$OUT/$name.txt"
    local rc=${PIPESTATUS[0]}
    echo "== $name: exit $rc after $((SECONDS - t0)) s" | tee -a "$OUT/summary.txt"
}

{
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
    "$PYTHON" -c "import torch, importlib.util as u; print('torch', torch.__version__, 'cuda', torch.version.cuda, \
'available', torch.cuda.is_available(), 'triton', u.find_spec('triton') is not None)"
} | tee "$OUT/machine.txt"

# 1. The CUDA tests (the fused kernel's first compile is part of this time).
step cuda_tests 200 "$PYTHON" -m pytest -q -m cuda --noconftest -p no:cacheprovider tests/corr/test_cuda.py

# 2. Speed: 2048² and 8192², every strategy, ratio to copy speed; cv2 on the CPU timed once as a reference.
step bench_cuda 270 "$PYTHON" benchmarks/bench_corr2d.py --device cuda --sizes 2048,8192 \
    --kernels 3x3,5x5,15x15,31x31 --repeats 10 --strategies --no-scipy --loop-max 0 --markdown \
    --json "$OUT/bench_cuda.json"

# 3. Peak GPU memory of one 16384² call per strategy, each in a fresh process.
step memory_cuda 100 "$PYTHON" benchmarks/bench_corr2d.py --device cuda --memory 16384 --json "$OUT/memory_cuda.json"

cat "$OUT/summary.txt"
