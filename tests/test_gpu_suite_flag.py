"""``SOCIALREC_REQUIRE_GPU=1`` makes tests/gpu FAIL where CUDA cannot run, instead of skipping it (issue 25,
item 1), and the GPU suite's header reports the driver, runtime and CuPy versions first. Run without a GPU:
a subprocess pytest of one real GPU test module with ``CUDA_VISIBLE_DEVICES=""`` (no device, even on a GPU
machine)."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODULE = ROOT / "tests" / "gpu" / "test_cuda_topk.py"


def _run(tmp_path, **env):
    environ = {k: v for k, v in os.environ.items() if k != "SOCIALREC_REQUIRE_GPU"}
    import socialrec  # the package this run tests (a checkout's python/ or an install), not the tree's sources

    package_parent = str(pathlib.Path(socialrec.__file__).resolve().parents[1])
    environ.update(PYTHONPATH=os.pathsep.join([package_parent, environ.get("PYTHONPATH", "")]),
                   CUDA_VISIBLE_DEVICES="", **env)
    # -rs -rf: the skip / failure reasons in the summary; cwd tmp_path: nothing written in the tree
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rsf", str(MODULE)],
                          cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("gpu_flag")


def test_without_the_flag_a_missing_device_skips(tmp):
    run = _run(tmp)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    summary = run.stdout.strip().splitlines()[-1]
    assert "skipped" in summary and "failed" not in summary, summary
    for line in ("NVIDIA driver:", "socialrec CUDA runtime:", "CuPy:", "CUDA devices:"):
        assert line in run.stdout, f"{line!r} missing from the header:\n{run.stdout[:2000]}"
    assert run.stdout.index("NVIDIA driver:") < run.stdout.index("collected")  # reported first


def test_with_the_flag_a_missing_device_fails(tmp):
    run = _run(tmp, SOCIALREC_REQUIRE_GPU="1")
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    assert "SOCIALREC_REQUIRE_GPU=1 but the GPU tests cannot run" in run.stdout
    summary = run.stdout.strip().splitlines()[-1]
    assert ("failed" in summary or "error" in summary) and "skipped" not in summary and "passed" not in summary, summary
    assert "SOCIALREC_REQUIRE_GPU: 1" in run.stdout
