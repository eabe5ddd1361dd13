#!/usr/bin/env bash
# Runs the test suite against a _core built with AddressSanitizer + UndefinedBehaviorSanitizer.
#
#   tools/sanitize.sh                 # build into build-asan/ and run the whole suite
#   tools/sanitize.sh tests/test_models.py -k BiasedMF     # extra arguments go to pytest
#   tools/sanitize.sh --build-only    # only build (and check the instrumentation), e.g. in the background
#   tools/sanitize.sh --no-build tests/test_fuzz.py        # only run the tests against an earlier build
#
# The sanitized build lives apart from the normal one: build-asan/ holds the objects and build-asan/pkg/ a
# copy of python/socialrec with the sanitized _core, so python/socialrec keeps its own module.
# CPython itself is not instrumented, so libasan is preloaded (it must come first in the process) and leak
# detection is off (the interpreter keeps its arenas at exit). allocator_may_return_null lets the
# out-of-memory tests see numpy's MemoryError instead of an ASan abort. The AVX2 kernels run and only they are
# compiled (SOCIALREC_SIMD=avx2, override it from the environment): valgrind cannot run AVX-512 code, and this
# keeps the run on the variant every x86-64 machine executes and the build half as long.
# Exit status: pytest's (non-zero on any failure or sanitizer report); the summary line says clean or not.
set -euo pipefail
cd "$(dirname "$0")/.."
step=all
case "${1:-}" in
  --build-only) step=build; shift ;;
  --no-build) step=test; shift ;;
esac
build=${SOCIALREC_ASAN_BUILD_DIR:-build-asan}
py=${PYTHON:-python3}

export SOCIALREC_SIMD=${SOCIALREC_SIMD:-avx2}
# Only the variant that runs is compiled (SOCIALREC_ASAN_VARIANTS="avx2;avx512" builds both, e.g. to run the
# AVX-512 kernels under ASan with SOCIALREC_SIMD=avx512); on non-x86 CPUs the one portable variant.
case "$(uname -m)" in x86_64|amd64) variants=${SOCIALREC_ASAN_VARIANTS:-$SOCIALREC_SIMD} ;; *) variants="" ;; esac
if [ "$step" != test ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOCIALREC_SANITIZE=ON \
    -DSOCIALREC_ONLY_VARIANTS="$variants" -DSOCIALREC_CUDA=OFF -DPython_EXECUTABLE="$(command -v "$py")" \
    -Dpybind11_DIR="$("$py" -m pybind11 --cmakedir)" >/dev/null
  cmake --build "$build" -j "${JOBS:-2}"

  # The flags must reach every object, the per-ISA kernel libraries included: each object has to call ASan.
  uninstrumented=0
  while IFS= read -r obj; do
    if ! nm -u "$obj" | grep '__asan_init' >/dev/null; then  # not grep -q: nm's SIGPIPE would fail pipefail
      echo "sanitize: not instrumented: $obj" >&2
      uninstrumented=1
    fi
  done < <(find "$build/CMakeFiles" -name '*.o')
  [ "$uninstrumented" = 0 ] || { echo "sanitize: FAILED (objects built without -fsanitize)"; exit 1; }
  find "$build/CMakeFiles" -path '*kernels_*' -name '*.o' | grep . >/dev/null \
    || { echo "sanitize: FAILED (no kernel objects found to check)"; exit 1; }
fi
[ "$step" != build ] || { echo "sanitize: built $build (instrumented)"; exit 0; }
ls "$build"/_core*.so >/dev/null 2>&1 || { echo "sanitize: FAILED (no sanitized _core in $build: build it first)"; exit 1; }

rm -rf "$build/pkg"
mkdir -p "$build/pkg"
cp -r python/socialrec "$build/pkg/"
rm -f "$build"/pkg/socialrec/_core*.so "$build"/pkg/socialrec/_cuda*.so
find "$build" -maxdepth 1 -name '_core*.so' -exec cp {} "$build/pkg/socialrec/" \;

log="$build/sanitizer"
rm -f "$log".*
export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:log_path=$PWD/$log"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$PWD/$log"
export SOCIALREC_SANITIZED=1
status=0
# libstdc++ is preloaded too: CPython does not link it, and ASan's __cxa_throw interceptor finds no real
# function when libstdc++ arrives later with _core (a C++ throw then dies in a CHECK, not in our code).
preload="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so)"
LD_PRELOAD="$preload" PYTHONPATH="$build/pkg" \
  "$py" -m pytest -q -p no:cacheprovider "${@:-tests}" || status=$?

# Sanitizer logs: errors (ASan "ERROR:", UBSan "runtime error:") are findings; "failed to allocate" warnings
# are the expected out-of-memory tests (allocator_may_return_null), reported as a count only.
reports=$(grep -l -E 'ERROR: |runtime error:|SUMMARY: ' "$log".* 2>/dev/null || true)
warned=$(cat "$log".* 2>/dev/null | grep -c 'failed to allocate' || true)
[ "${warned:-0}" = 0 ] || echo "sanitize: $warned refused allocation(s) (expected: the MemoryError tests)"
if [ -n "$reports" ]; then
  echo "sanitize: FINDINGS (pytest exit $status); reports:"
  for f in $reports; do echo "--- $f"; head -60 "$f"; done
  exit 1
fi
if [ "$status" != 0 ]; then
  echo "sanitize: tests FAILED under the sanitizers (pytest exit $status), no sanitizer report"
  exit "$status"
fi
echo "sanitize: clean (ASan + UBSan, SOCIALREC_SIMD=$SOCIALREC_SIMD)"
