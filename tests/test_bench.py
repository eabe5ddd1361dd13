"""The benchmark suite runs end to end (issue 6): bench/run.py in --quick mode on two benchmarks that need no
peer and no shared data, into a temporary folder. Checks the records (machine, command, targets with a
met/not-met verdict), the summary page and that bench/README.md is left alone. Speed is never asserted."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import socialrec as sr

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")


@pytest.mark.skipif(not os.path.isdir(BENCH), reason="bench/ is not in this checkout")
def test_quick_suite_writes_records_and_a_summary(tmp_path):
    env = dict(os.environ)
    source = os.path.join(ROOT, "python")
    if not os.path.abspath(sr.__file__).startswith(os.path.abspath(source)):
        env["SOCIALREC_BENCH_INSTALLED"] = "1"  # an installed socialrec (CI): do not import the source tree
    readme = os.path.join(BENCH, "README.md")
    before = open(readme).read()
    proc = subprocess.run([sys.executable, os.path.join(BENCH, "run.py"), "--quick", "--only",
                           "epoch_cost,reference_speed", "--out", str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("epoch_cost", "reference_speed"):
        record = json.loads((tmp_path / f"{name}.json").read_text())
        assert record["benchmark"] == name and record["quick"] is True and not record.get("error")
        assert record["machine"]["cores"] >= 1 and record["machine"]["socialrec"]["version"] == sr.__version__
        assert record["targets"], name
        for target in record["targets"]:
            assert target["met"] in (True, False) and target["ratio"] > 0, target
    summary = (tmp_path / "summary.md").read_text()
    assert "## Targets" in summary and "Epoch cost vs BiasedMF" in summary
    assert open(readme).read() == before  # only a run into bench/results rewrites the README's table
