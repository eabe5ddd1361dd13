#!/usr/bin/env bash
# The documentation and typing checks, as CI runs them (needs: pip install ".[docs]", which brings mypy too).
#
#   tools/check_docs.sh            # the Sphinx site (warnings are errors) and mypy on python/socialrec
#
# 1. python -m sphinx -W -b html docs docs/_build/html: every page, the API reference written from
#    docs/api_names.txt, bench/README.md included; -E rereads every source, so no stale page hides a warning.
# 2. python -m mypy: the strictness of pyproject.toml's [tool.mypy] (lenient: ignore_missing_imports,
#    check_untyped_defs = false; the annotated public API is checked).
# A checkout's compiled module is used when tools/dev_build.sh put it in python/socialrec (docs/conf.py).
set -euo pipefail
cd "$(dirname "$0")/.."


start=$(date +%s)
echo "== sphinx (-W): docs -> docs/_build/html"
python -m sphinx -E -W --keep-going -q -b html docs docs/_build/html
mid=$(date +%s)
echo "   ok, $((mid - start)) s"
echo "== mypy python/socialrec"
python -m mypy python/socialrec
end=$(date +%s)
echo "   ok, $((end - mid)) s; total $((end - start)) s"
