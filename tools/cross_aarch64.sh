#!/usr/bin/env bash
# Proof that the C++ core is portable to aarch64: cross-compiles every translation unit of socialrec._core
# (kernels as the one "baseline" variant, bindings, dispatch) with Debian's g++-aarch64-linux-gnu and links
# them into an aarch64 shared object, against this machine's Python and pybind11 headers (the Python ABI
# headers are the same on both 64-bit Linux targets). Running it needs an aarch64 machine; this only builds.
#   apt-get install g++-aarch64-linux-gnu      # Debian/Ubuntu cross compiler (GCC 12 on Debian 12)
#   tools/cross_aarch64.sh [out_dir]           # default build-aarch64/; JOBS=2 by default
# Any x86 intrinsic outside guarded code, or a __builtin_cpu_supports call, fails to compile here.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build-aarch64}
cxx=${CXX_AARCH64:-aarch64-linux-gnu-g++}
py=${PYTHON:-python3}
command -v "$cxx" >/dev/null || { echo "cross_aarch64: $cxx not found (apt-get install g++-aarch64-linux-gnu)" >&2; exit 1; }
version=$("$py" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
py_inc=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
pb_inc=$("$py" -c 'import pybind11; print(pybind11.get_include())')
flags=(-std=c++17 -O2 -fPIC -fopenmp -fopenmp-simd -fvisibility=hidden -Wall -Icpp/include -Icpp/src
       -I"$py_inc" -I"$pb_inc")
mkdir -p "$out/obj"
version_defs=(-DSOCIALREC_VERSION="\"$version\"" -DSOCIALREC_COMPILER="\"GNU $($cxx -dumpfullversion) (aarch64 cross)\"")
compile() {  # compile SOURCE [DEFINES...] into $out/obj (kept when newer than every source; KEEP=0: always)
  local src=$1; shift
  local obj
  obj="$out/obj/$(echo "${src#cpp/src/}" | tr / _).o"
  if [ "${KEEP:-1}" = 1 ] && [ -f "$obj" ] && [ -z "$(find cpp -newer "$obj" -name '*.[ch]pp' | head -1)" ]; then
    return 0
  fi
  "$cxx" "${flags[@]}" "$@" -c "$src" -o "$obj"
}
start=$(date +%s)
running=0
for src in cpp/src/kernels.cpp cpp/src/kernels/*.cpp cpp/src/module.cpp cpp/src/simd_dispatch.cpp cpp/src/bind_*.cpp; do
  case $src in
    *kernels*) compile "$src" -DSOCIALREC_ISA=baseline & ;;   # the kernels: the one variant (NEON)
    *) compile "$src" -DSOCIALREC_HAVE_BASELINE=1 -DSOCIALREC_OPENMP=1 "${version_defs[@]}" & ;;
  esac
  running=$((running + 1))
  if [ "$running" -ge "${JOBS:-2}" ]; then wait -n; running=$((running - 1)); fi
done
while [ "$running" -gt 0 ]; do wait -n; running=$((running - 1)); done
suffix=$("$py" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))' | sed 's/x86_64/aarch64/')
"$cxx" -shared -fopenmp -o "$out/_core$suffix" "$out"/obj/*.o
echo "cross_aarch64: built $out/_core$suffix in $(( $(date +%s) - start )) s"
file "$out/_core$suffix"
