#!/usr/bin/env bash
# Developer build: compiles _core (and _cuda when enabled) into build-dev/ and copies the modules next to
# the Python sources, so that `PYTHONPATH=python python -m pytest` runs against the fresh build.
# Usage: tools/dev_build.sh [extra cmake -D options]     (SOCIALREC_CUDA=OFF by default here: faster)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SOCIALREC_BUILD_DIR:-build-dev}
py=${PYTHON:-python3}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE="$(command -v "$py")" \
  -Dpybind11_DIR="$("$py" -m pybind11 --cmakedir)" -DSOCIALREC_CUDA="${SOCIALREC_CUDA:-OFF}" "$@" >/dev/null
cmake --build "$build" -j "${JOBS:-2}"
find "$build" -maxdepth 2 -name '_core*.so' -exec cp {} python/socialrec/ \;
find "$build" -maxdepth 3 -name '_cuda*.so' -exec cp {} python/socialrec/ \; || true
