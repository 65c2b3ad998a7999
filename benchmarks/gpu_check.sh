#!/usr/bin/env bash
# One short GPU session (issue 25): the CUDA tests, the figures of benchmarks/gpu_results.py
# (copy, corr2d 3x3 and 31x31 at 8192², Canny at 12 MP, lstsq at 4096², engine crossovers),
# bench_corr2d.py on CUDA, and one torchrun rank on NCCL, each step with its own time limit.
#
#   bash benchmarks/gpu_check.sh            # results in $OUT, or benchmarks/gpu_out
#   PYTHON=/path/to/python bash benchmarks/gpu_check.sh
#   STEPS="tests results" bash benchmarks/gpu_check.sh   # a subset
#   RESULTS_ARGS="--skip crossover" bash benchmarks/gpu_check.sh   # without the crossover sweep
#
# Needs a Python with a CUDA build of torch, numpy, pytest, typer, rich, Pillow and SciPy
# (OpenCV optional). convlearn itself is used from this checkout. The step limits add up to
# under 8 minutes. gpu_results.py writes $OUT/gpu_results.json, which is copied to
# benchmarks/gpu_results.json; paste its figures into benchmarks/RESULTS.md, naming the card.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
OUT="${OUT:-benchmarks/gpu_out}"
STEPS="${STEPS:-tests results bench torchrun}"
mkdir -p "$OUT"
PYTHON="${PYTHON:-python3}"

step() {  # step NAME SECONDS COMMAND...: run with a time limit, keep its output
    local name=$1 limit=$2
    shift 2
    case " $STEPS " in *" $name "*) ;; *) return 0 ;; esac
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

# 1. Every test marked cuda (the fused kernel's first compile is part of this time).
step tests 100 "$PYTHON" -m pytest -q -m cuda -p no:cacheprovider tests
# 2. The issue's figures and the crossover sweep, as JSON.
step results 70 "$PYTHON" benchmarks/gpu_results.py --device cuda --json "$OUT/gpu_results.json" ${RESULTS_ARGS:-}
[ -f "$OUT/gpu_results.json" ] && cp "$OUT/gpu_results.json" benchmarks/gpu_results.json
# 3. The corr2d benchmark on CUDA, every strategy, ratio to copy speed.
step bench 45 "$PYTHON" benchmarks/bench_corr2d.py --device cuda --sizes 8192 --kernels 3x3,31x31 \
    --repeats 3 --strategies --no-scipy --no-cv2 --loop-max 0 --markdown --json "$OUT/bench_cuda.json"
# 4. One torchrun rank on NCCL: detect a folder on the GPU.
mkdir -p "$OUT/tr_in"
"$PYTHON" -m convlearn synth "$OUT/tr_in/a.png" -p shapes --height 512 --width 512 >/dev/null
cp "$OUT/tr_in/a.png" "$OUT/tr_in/b.png"
step torchrun 20 "$PYTHON" -m torch.distributed.run --standalone --nproc_per_node=1 -m convlearn detect \
    "$OUT/tr_in" -k sobel-x -o "$OUT/tr_out/" --device cuda

cat "$OUT/summary.txt"
