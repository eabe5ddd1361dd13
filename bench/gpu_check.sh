#!/usr/bin/env bash
# The whole GPU check in one command (what a session hands to the device tool):
#   build socialrec with the CUDA back-end (SOCIALREC_CUDA=ON, sm_90 only unless CUDAARCHS is set),
#   run tests/gpu (+ the device-free CUDA tests: interface, host step replays, fake device), run
#   bench/gpu_sgd.py (BiasedMF and every social/ranking model with CUDA kernels vs the CPU, k=32 and 128),
#   and write everything under $OUT (default ./gpu-check-out): machine.txt, build.log, build_info.json,
#   tests.log, junit.xml, bench.log, gpu_sgd.json, summary.txt; then bench/gpu_als.py (bench_als.log, gpu_als.json).
# Needs: python3 with numpy, scipy, cupy, pytest, hypothesis, pybind11, scikit-build-core, cmake, ninja, nvcc.
# No network is used (--no-build-isolation, --no-deps). Exit status: non-zero when the build or a test failed.
#   BENCH_ARGS="--quick" bash bench/gpu_check.sh      # smaller benchmark
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-check-out}
SITE=${SITE:-/tmp/socialrec-site}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 CUDAARCHS=${CUDAARCHS:-90} SOCIALREC_CUDA=ON
export CUDACXX=${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
status=0
say() { echo "$*" | tee -a "$OUT/summary.txt"; }

{ date -u; uname -a; nvidia-smi; "$CUDACXX" --version; python3 --version
  python3 -c "import numpy, scipy, cupy; print('numpy', numpy.__version__, 'scipy', scipy.__version__, 'cupy', cupy.__version__)"
} > "$OUT/machine.txt" 2>&1

start=$(date +%s)
rm -rf "$SITE"
if python3 -m pip install --no-build-isolation --no-deps --no-cache-dir --target "$SITE" -v . > "$OUT/build.log" 2>&1; then
  say "build: ok in $(( $(date +%s) - start )) s (CUDAARCHS=$CUDAARCHS)"
else
  say "build: FAILED after $(( $(date +%s) - start )) s; the end of build.log:"
  tail -40 "$OUT/build.log" | tee -a "$OUT/summary.txt"
  exit 1
fi
export PYTHONPATH="$SITE"
python3 -c "import json, socialrec; print(json.dumps(socialrec.build_info(), indent=1, default=str))" \
  > "$OUT/build_info.json" 2>&1 || status=1
python3 - <<'PY' 2>&1 | tee -a "$OUT/summary.txt" || status=1
import socialrec
info = socialrec.build_info()
print("cuda_built", info["cuda_built"], "devices", info["cuda_devices"], "status", info["cuda_status"], "cupy", info["cupy"])
assert info["cuda_built"] and info["cuda_devices"], "the CUDA back-end is not usable here"
PY

start=$(date +%s)
python3 -m pytest -q -p no:cacheprovider -rs tests/gpu tests/test_cuda_interface.py tests/test_cuda_steps.py \
  tests/test_cuda_fake_device.py tests/test_cuda_python_glue.py tests/test_cuda_host_math.py \
  --junitxml="$OUT/junit.xml" \
  2>&1 | tee "$OUT/tests.log"
rc=${PIPESTATUS[0]}
say "tests: exit $rc in $(( $(date +%s) - start )) s: $(tail -1 "$OUT/tests.log")"
[ "$rc" -eq 0 ] || status=1

start=$(date +%s)
(cd bench && SOCIALREC_BENCH_INSTALLED=1 python3 gpu_sgd.py ${BENCH_ARGS:-}) 2>&1 | tee "$OUT/bench.log"
rc=${PIPESTATUS[0]}
cp bench/results/gpu_sgd.json "$OUT/" 2>/dev/null
say "bench: exit $rc in $(( $(date +%s) - start )) s"
[ "$rc" -eq 0 ] || status=1

start=$(date +%s)
(cd bench && python3 gpu_als.py ${BENCH_ARGS:-}) 2>&1 | tee "$OUT/bench_als.log"
rc=${PIPESTATUS[0]}
cp bench/results/gpu_als.json "$OUT/" 2>/dev/null
say "bench_als: exit $rc in $(( $(date +%s) - start )) s"
[ "$rc" -eq 0 ] || status=1
exit $status
