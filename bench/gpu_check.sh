#!/usr/bin/env bash
# The GPU check, in stages that each fit one device command (< 600 s) of a short GPU window (issue 25, item 9).
#   bash bench/gpu_check.sh smoke   # < 5 min: versions first, build once (or use a carried build), exact device tests
#   bash bench/gpu_check.sh suite   # the rest of tests/gpu (statistical: RMSE / NDCG against the CPU) + device-free CUDA tests
#   bash bench/gpu_check.sh bench   # bench/gpu_sgd.py model by model, then bench/gpu_als.py (BENCH_ARGS="--quick" to shrink)
#   bash bench/gpu_check.sh sanitize  # compute-sanitizer memcheck, then racecheck, on tiny fits (GPU only, < 600 s)
#   bash bench/gpu_check.sh all     # smoke, suite and bench in turn (a machine with time to spare)
# Every stage writes under $OUT (default ./gpu-check-out) as it goes -- summary.txt gets one line per step, logs
# are tee'd line by line, benchmark JSON is copied after each model -- so a timeout loses nothing already measured.
# Each step runs under `timeout` within STAGE_SECONDS (default 560) so the command itself ends before 600 s.
#
# The build (smoke stage, reused by the later ones while the machine stays warm): the carried modules
# python/socialrec/_core*.so and _cuda*.so when they import here (built elsewhere for the same Python), else
# SOCIALREC_WHEEL=<wheel> installed into $SITE, else tools/dev_build.sh with SOCIALREC_CUDA=ON, sm_$CUDAARCHS
# only (default 90) and the avx2 CPU variant only, into build-dev/ (ignored, so kept between warm calls).
# The CUDA runtime is linked statically (cuda/CMakeLists.txt): the toolkit on the machine decides the driver
# floor (CUDA 13: driver >= 580; CUDA 12.x: >= 525); machine.txt and the test header print both.
# Tests run with SOCIALREC_REQUIRE_GPU=1: a missing or unusable device FAILS them (never a green run that
# tested nothing). Needs python3 with numpy, scipy, cupy, pytest, hypothesis, pybind11, cmake, ninja, nvcc.
# No network is used. Exit status: non-zero when the build, a test or a benchmark failed or timed out.
set -uo pipefail
cd "$(dirname "$0")/.."
STAGE=${1:-smoke}
OUT=${OUT:-$PWD/gpu-check-out}
SITE=${SITE:-$PWD/build-gpu-site}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 CUDAARCHS=${CUDAARCHS:-90} SOCIALREC_REQUIRE_GPU=1
export CUDACXX=${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
DEADLINE=$(( $(date +%s) + ${STAGE_SECONDS:-560} ))
status=0
say() { echo "$*" | tee -a "$OUT/summary.txt"; }
left() { local s=$(( DEADLINE - $(date +%s) )); [ "$s" -gt 5 ] && echo "$s" || echo 5; }

use_build() {  # PYTHONPATH for the modules built or carried; 0 when one imports with CUDA
  if [ -f "$SITE/socialrec/__init__.py" ]; then export PYTHONPATH="$SITE"; else export PYTHONPATH="$PWD/python"; fi
  python3 -c "import socialrec._cuda" 2>/dev/null
}

versions() {  # driver, toolkit, CuPy and socialrec's CUDA runtime: printed first, kept in machine.txt
  { date -u; uname -a; nvidia-smi || echo "nvidia-smi: not usable"; "$CUDACXX" --version | tail -2; python3 --version
    python3 - <<'PY'
import numpy, scipy
print("numpy", numpy.__version__, "scipy", scipy.__version__)
try:
    import cupy
    rt = cupy.cuda.runtime
    print("cupy", cupy.__version__, "driver", rt.driverGetVersion(), "cupy runtime", rt.runtimeGetVersion())
except Exception as e:  # noqa: BLE001 - the reason is the report
    print("cupy: not usable:", type(e).__name__, e)
PY
  } 2>&1 | tee "$OUT/machine.txt"
}

build() {
  local start=$(date +%s)
  if use_build; then say "build: carried / existing modules import ($PYTHONPATH)"; return 0; fi
  if [ -n "${SOCIALREC_WHEEL:-}" ]; then
    rm -rf "$SITE"
    python3 -m pip install --no-deps --no-index --target "$SITE" "$SOCIALREC_WHEEL" > "$OUT/build.log" 2>&1
  else
    SOCIALREC_CUDA=ON JOBS=${JOBS:-$(nproc)} timeout "$(left)" tools/dev_build.sh \
      -DCMAKE_CUDA_ARCHITECTURES="$CUDAARCHS" -DSOCIALREC_ONLY_VARIANTS=avx2 > "$OUT/build.log" 2>&1
  fi
  if use_build; then
    say "build: ok in $(( $(date +%s) - start )) s (CUDAARCHS=$CUDAARCHS, $PYTHONPATH)"
  else
    say "build: FAILED after $(( $(date +%s) - start )) s; the end of build.log:"
    tail -40 "$OUT/build.log" | tee -a "$OUT/summary.txt"
    exit 1
  fi
  python3 -c "import json, socialrec; print(json.dumps(socialrec.build_info(), indent=1, default=str))" \
    > "$OUT/build_info.json" 2>&1 || status=1
}

tests() {  # tests: name, then pytest arguments
  local name=$1; shift
  local start=$(date +%s)
  timeout "$(left)" python3 -m pytest -p no:cacheprovider -rsf "$@" --junitxml="$OUT/junit_$name.xml" \
    2>&1 | tee "$OUT/tests_$name.log"
  local rc=${PIPESTATUS[0]}
  say "tests $name: exit $rc in $(( $(date +%s) - start )) s: $(tail -1 "$OUT/tests_$name.log")"
  [ "$rc" -eq 0 ] || status=1
}

# The exact device tests (equal to the CPU on the same inputs or parameters, or to a host replay): the smoke set.
SMOKE=(tests/gpu/test_cuda_topk.py tests/gpu/test_cuda_metrics.py tests/gpu/test_cuda_device_input.py
       tests/gpu/test_cuda_als.py::test_one_epoch_matches_the_cpu
       tests/gpu/test_cuda_biased_mf.py::test_parameters_are_cupy_and_start_where_the_cpu_starts
       tests/gpu/test_cuda_biased_mf.py::test_predict_matches_the_same_parameters_on_the_cpu
       tests/gpu/test_cuda_biased_mf.py::test_cuda_error_translation
       tests/gpu/test_cuda_social.py::test_parameters_start_where_the_cpu_starts
       tests/gpu/test_cuda_exact_steps.py)

# The sanitizer's tiny fits (issue 25, item 3): one-warp epochs of a record pass (BiasedMF), a logistic pair with
# its link pass (SoRec), the mean pull (SocialMF), the grouped passes (SVD++, TrustSVD's link, RSTE), the sampled
# pass, the device pool check, top-N and one ALS epoch. memcheck: out-of-bounds and misaligned accesses, leaks;
# racecheck: shared-memory hazards (top-N's sort, ALS's block solves, the loss reduction).
SANITIZE=("tests/gpu/test_cuda_exact_steps.py::test_one_warp_epochs_equal_the_host_replay[8-float32-BiasedMF]"
          "tests/gpu/test_cuda_exact_steps.py::test_one_warp_epochs_equal_the_host_replay[8-float16-SoRec]"
          "tests/gpu/test_cuda_exact_steps.py::test_one_warp_epochs_equal_the_host_replay[64-float32-SocialMF]"
          "tests/gpu/test_cuda_exact_steps.py::test_one_warp_epochs_equal_the_host_replay[8-float32-TrustSVD]"
          "tests/gpu/test_cuda_exact_steps.py::test_one_warp_epochs_equal_the_host_replay[64-float16-RSTE]"
          tests/gpu/test_cuda_exact_steps.py::test_one_sample_ranking_epochs_equal_the_host_replay
          tests/gpu/test_cuda_exact_steps.py::test_a_saturated_pool_user_is_refused_on_the_device
          tests/gpu/test_cuda_topk.py
          tests/gpu/test_cuda_als.py::test_one_epoch_matches_the_cpu)

smoke() {
  versions
  build
  tests smoke "${SMOKE[@]}"
}

suite() {
  use_build || { say "suite: no CUDA build here (run the smoke stage first on this machine)"; exit 1; }
  local deselect=()
  for t in "${SMOKE[@]}"; do deselect+=(--deselect "$t"); done
  tests suite tests/gpu "${deselect[@]}" tests/test_cuda_interface.py tests/test_cuda_steps.py \
    tests/test_cuda_fake_device.py tests/test_cuda_python_glue.py tests/test_cuda_host_math.py tests/test_cuda_als_interface.py tests/test_cuda_faults.py \
    tests/test_cuda_host_schedules.py
}

bench() {
  use_build || { say "bench: no CUDA build here (run the smoke stage first on this machine)"; exit 1; }
  local models=${BENCH_MODELS:-BiasedMF,SoRec,SocialMF,TrustMF,SoReg-SR2,SoReg-SR1,SVDpp,TrustSVD,RSTE,BPR,SBPR}
  for m in ${models//,/ }; do  # one model per run: its JSON is under $OUT before the next starts
    local start=$(date +%s)
    (cd bench && SOCIALREC_BENCH_INSTALLED=1 timeout "$(left)" python3 gpu_sgd.py --models "$m" ${BENCH_ARGS:-}) \
      2>&1 | tee -a "$OUT/bench_sgd.log"
    local rc=${PIPESTATUS[0]}
    cp bench/results/gpu_sgd.json "$OUT/gpu_sgd_$m.json" 2>/dev/null
    say "bench gpu_sgd $m: exit $rc in $(( $(date +%s) - start )) s"
    [ "$rc" -eq 0 ] || status=1
  done
  local start=$(date +%s)
  (cd bench && SOCIALREC_BENCH_INSTALLED=1 timeout "$(left)" python3 gpu_als.py ${BENCH_ARGS:-}) \
    2>&1 | tee "$OUT/bench_als.log"
  local rc=${PIPESTATUS[0]}
  cp bench/results/gpu_als.json "$OUT/" 2>/dev/null
  say "bench gpu_als: exit $rc in $(( $(date +%s) - start )) s"
  [ "$rc" -eq 0 ] || status=1
}

sanitize() {  # compute-sanitizer (from the toolkit) around pytest; a reported error fails the step
  use_build || { say "sanitize: no CUDA build here (run the smoke stage first on this machine)"; exit 1; }
  local cs=${COMPUTE_SANITIZER:-$(command -v compute-sanitizer || echo "$(dirname "$CUDACXX")/compute-sanitizer")}
  for tool in memcheck racecheck; do
    local start=$(date +%s)
    timeout "$(left)" "$cs" --tool "$tool" --error-exitcode 99 --target-processes all \
      $([ "$tool" = memcheck ] && echo --leak-check full) \
      python3 -m pytest -p no:cacheprovider -q -x "${SANITIZE[@]}" 2>&1 | tee "$OUT/sanitize_$tool.log"
    local rc=${PIPESTATUS[0]}
    say "sanitize $tool: exit $rc in $(( $(date +%s) - start )) s: $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' \
      "$OUT/sanitize_$tool.log" | tail -1)"
    [ "$rc" -eq 0 ] || status=1
  done
}

case "$STAGE" in
  smoke) smoke ;;
  sanitize) sanitize ;;
  suite) suite ;;
  bench) bench ;;
  all) STAGE_SECONDS=${STAGE_SECONDS:-1680}; DEADLINE=$(( $(date +%s) + STAGE_SECONDS )); smoke; suite; bench ;;
  *) echo "usage: bash bench/gpu_check.sh smoke|suite|bench|sanitize|all" >&2; exit 2 ;;
esac
exit $status
