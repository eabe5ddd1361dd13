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


def _bench_python(code, tmp_path, **env):
    """Run ``code`` in a fresh interpreter with bench/ importable, from a folder outside the checkout."""
    full = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SOCIALREC_BENCH_INSTALLED")}
    full.update(env)
    return subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {BENCH!r}); {code}"],
                          capture_output=True, text=True, env=full, cwd=tmp_path, timeout=120)


@pytest.mark.skipif(not os.path.isdir(BENCH), reason="bench/ is not in this checkout")
def test_bench_prefers_an_installed_socialrec(tmp_path):
    # issue 16: bench/_common.py put the checkout's python/ first even after pip install ".[bench]", so an
    # installed socialrec lost to a source tree without _core (ImportError: cannot import name '_core')
    site = tmp_path / "site" / "socialrec"
    site.mkdir(parents=True)
    (site / "__init__.py").write_text("__version__ = 'installed'\n")
    proc = _bench_python("import _common, socialrec; print(_common.USES_CHECKOUT, socialrec.__version__)", tmp_path,
                         PYTHONPATH=str(tmp_path / "site"))
    assert proc.returncode == 0 and proc.stdout.split() == ["False", "installed"], proc.stderr
    # nothing installed: the checkout's python/ is the fallback
    proc = _bench_python("import _common; print(_common.USES_CHECKOUT, _common.CHECKOUT_PYTHON in sys.path)",
                         tmp_path, PYTHONNOUSERSITE="1")
    if "socialrec" not in proc.stderr and proc.stdout.split() == ["False", "False"]:
        pytest.skip("a socialrec is installed in this interpreter: the fallback cannot be seen here")
    assert proc.stdout.split() == ["True", "True"], proc.stderr


@pytest.mark.skipif(not os.path.isdir(BENCH), reason="bench/ is not in this checkout")
def test_bench_data_comes_from_socialrec_data_or_next_to_the_repository(tmp_path):
    proc = _bench_python("import _common; print(_common.SHARED_DATA); _common.data_folder('filmtrust')", tmp_path,
                         SOCIALREC_DATA=str(tmp_path / "nowhere"), PYTHONPATH=os.path.join(ROOT, "python"))
    assert proc.stdout.strip() == str(tmp_path / "nowhere")
    assert f"MissingData: the filmtrust data set is not at {tmp_path / 'nowhere' / 'filmtrust'}; set " \
           "SOCIALREC_DATA" in proc.stderr
    proc = _bench_python("import _common; print(_common.SHARED_DATA)", tmp_path,
                         PYTHONPATH=os.path.join(ROOT, "python"))
    assert proc.stdout.strip() == os.path.normpath(os.path.join(ROOT, "..", "shared", "data"))
    for name in os.listdir(BENCH):  # no absolute path of one machine in any script
        if name.endswith((".py", ".sh")):
            assert "/work/" not in open(os.path.join(BENCH, name)).read(), name
    # a benchmark without its data is skipped (exit status 3) with the reason, and run.py goes on
    proc = subprocess.run([sys.executable, os.path.join(BENCH, "run.py"), "--quick", "--only", "accuracy_filmtrust",
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "SOCIALREC_DATA": str(tmp_path / "nowhere")})  # socialrec as this
    # test run finds it: the installed package (CI), or the checkout with its dev build (PYTHONPATH=python)
    assert proc.returncode == 0 and "skipped, its data is missing" in proc.stdout, proc.stdout + proc.stderr
    assert "the filmtrust data set is not at" in (tmp_path / "out" / "accuracy_filmtrust.log").read_text()
