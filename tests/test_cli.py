"""The socialrec command line (run in-process through cli.main, and once as `python -m socialrec`)."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import socialrec as sr
from socialrec import cli


def _write_files(tmp_path):
    ds = sr.datasets.synthetic(n_users=80, n_items=50, seed=0)
    u, i, v = ds.user_item_arrays()
    ratings = tmp_path / "ratings.txt"
    ratings.write_text("".join(f"u{a} i{b} {c}\n" for a, b, c in zip(u, i, v)))
    s, d, _ = ds.trust_arrays()
    trust = tmp_path / "trust.txt"
    trust.write_text("".join(f"u{a} u{b}\n" for a, b in zip(s, d)))
    return ratings, trust


def test_demo_runs_and_prints_a_table(capsys):
    assert cli.main(["demo", "--users", "300", "--items", "150", "--models", "BiasedMF"]) == 0
    out = capsys.readouterr().out
    assert "rmse" in out and "BiasedMF" in out and "top-5 recommendations" in out


def test_fit_then_recommend_with_raw_ids(tmp_path, capsys):
    ratings, trust = _write_files(tmp_path)
    model_path = tmp_path / "m.npz"
    assert cli.main(["fit", "--ratings", str(ratings), "--trust", str(trust), "--param", "factors=6",
                     "--param", "epochs=4", "-q", "-o", str(model_path)]) == 0
    model = sr.load(model_path)
    assert model.factors == 6 and model.epochs == 4
    capsys.readouterr()
    assert cli.main(["recommend", str(model_path), "u1", "u2", "-n", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"u1", "u2"} and all(len(v) == 3 for v in out.values())
    assert all(r["item"].startswith("i") for v in out.values() for r in v)


def test_evaluate_cross_validates(tmp_path, capsys):
    ratings, trust = _write_files(tmp_path)
    assert cli.main(["evaluate", "--ratings", str(ratings), "--folds", "3", "--param", "epochs=3", "-q",
                     "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["rmse"]["folds"]) == 3 and np.isfinite(result["rmse"]["mean"])


def test_bad_arguments_give_clear_errors(tmp_path, capsys):
    with pytest.raises(SystemExit, match="unknown model"):
        cli.main(["fit", "--dataset", "synthetic", "--model", "NoSuchModel", "-o", str(tmp_path / "x.npz")])
    with pytest.raises(SystemExit, match="NAME=VALUE"):
        cli.main(["fit", "--dataset", "synthetic", "--param", "factors", "-o", str(tmp_path / "x.npz")])
    assert cli.main(["fit", "--dataset", "synthetic", "--param", "factors=-1", "-q",
                     "-o", str(tmp_path / "x.npz")]) == 2
    assert "factors" in capsys.readouterr().err
    assert cli.main(["fit", "--ratings", str(tmp_path / "missing.txt"), "-o", str(tmp_path / "x.npz")]) == 2


def test_divergence_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    ratings, trust = _write_files(tmp_path)
    for command in (["fit", "--ratings", str(ratings), "--trust", str(trust), "-o", str(tmp_path / "x.npz")],
                    ["evaluate", "--ratings", str(ratings), "--folds", "2"]):
        assert cli.main(command + ["--param", "learning_rate=1000", "-q"]) == 2
        err = capsys.readouterr().err
        assert "error: training diverged at epoch" in err and "smaller learning_rate" in err
    assert not (tmp_path / "x.npz").exists()


def test_info_and_module_entry_point():
    proc = subprocess.run([sys.executable, "-m", "socialrec", "info"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["version"] == sr.__version__ and "BiasedMF" in info["models"]


def test_demo_names_the_device_it_trains_on():
    base = {"simd": "avx2", "max_threads": 2, "cuda_built": True, "cuda_devices": [], "cupy": None,
            "cuda_status": "no driver"}
    assert cli._device_line({**base, "cuda_built": False}).endswith("this build has no CUDA back-end")
    assert cli._device_line(base).endswith("not usable here: no driver")
    assert "CuPy is not installed" in cli._device_line({**base, "cuda_devices": ["NVIDIA H200"]})
    assert cli._device_line({**base, "cuda_devices": ["NVIDIA H200"], "cupy": "13.6.0"}).startswith(
        "device: CUDA (NVIDIA H200)")


def test_demo_prints_the_device_instead_of_a_warning(capsys, monkeypatch):
    import warnings

    from socialrec import _backend

    monkeypatch.setattr(_backend, "_WARNED", set())  # the once-per-process warning has not fired yet
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a CUDA-without-device warning would fail here
        assert cli.main(["demo", "--users", "300", "--items", "150", "--models", "BiasedMF,SoRec"]) == 0
    assert "device: " in capsys.readouterr().out
