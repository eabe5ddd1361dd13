"""The worked examples of ``examples/`` run, on the shared data, and print what their docs page says.

Each example runs in a child process with the socialrec this test imports; it is skipped (with the reason)
when its data set is absent. The checks are on the printed figures, with ranges wide enough for any seed
but narrow enough that a broken example (a wrong split, an unfitted model, a lost id map) fails.
"""
from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

import socialrec as sr

REPO = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
# the examples' data: $SOCIALREC_DATA, else ../shared/data next to the repository (as tests/conftest.py)
DATA = pathlib.Path(os.environ.get("SOCIALREC_DATA", REPO.parent / "shared" / "data"))


def run_example(name, dataset):
    """stdout of ``examples/<name>``; skips when ``dataset`` is not in the data folder."""
    if not (DATA / dataset).is_dir():
        pytest.skip(f"real data set {dataset!r} not available: {DATA / dataset} does not exist")
    package_parent = str(pathlib.Path(sr.__file__).resolve().parents[1])
    env = dict(os.environ, SOCIALREC_DATA=str(DATA),
               PYTHONPATH=os.pathsep.join([package_parent, os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, env=env,
                          cwd=EXAMPLES.parent, timeout=600)
    assert done.returncode == 0, done.stderr
    assert not done.stdout.startswith("skipped:"), done.stdout
    return done.stdout


def value(text, label):
    """The number printed after ``label:``."""
    match = re.search(re.escape(label) + r":\s*([-+]?[0-9.]+)", text)
    assert match, f"{label!r} not in the output:\n{text}"
    return float(match.group(1))


def test_quickstart_filmtrust():
    out = run_example("quickstart_filmtrust.py", "filmtrust")
    assert value(out, "ratings") == 35494 and value(out, "trust edges") == 1853
    assert 0.75 < value(out, "TrustSVD rmse") < value(out, "BiasedMF rmse") < 0.85
    assert re.search(r"top-5 for user 1: \[(\d+, ){4}\d+\]", out), out
    assert "reloaded model gives the same top-5: True" in out


def test_own_data_pandas():
    pytest.importorskip("pandas", reason="needs pandas: socialrec[pandas]")
    out = run_example("own_data_pandas.py", "filmtrust")
    assert value(out, "ratings") == 35494  # FilmTrust's three repeated pairs merged by duplicates="mean"
    assert 0.75 < value(out, "SocialMF rmse") < 0.85
    assert 0.5 <= value(out, "prediction for (u2, film-1)") <= 4.0
    assert re.search(r"top-3 for u2: \['film-\d+', 'film-\d+', 'film-\d+'\]", out), out


def test_social_segments():
    out = run_example("social_segments.py", "filmtrust")
    rows = dict(re.findall(r"^(BiasedMF|SVDpp|TrustSVD|RSTE)\s+([0-9.]+)", out, re.M))
    assert sorted(rows) == ["BiasedMF", "RSTE", "SVDpp", "TrustSVD"]
    assert all(0.75 < float(v) < 0.85 for v in rows.values())
    assert "test ratings: all 7099," in out   # 20% of 35,494 ratings
    assert value(out, "best social - best plain (all)") < 0   # FilmTrust: TrustSVD ahead (bench/README.md)


def test_fold_in_new_users():
    out = run_example("fold_in_new_users.py", "filmtrust")
    assert value(out, "held-out users") == 150 and value(out, "ratings to predict") > 1000
    assert 0.75 < value(out, "fold-in rmse") < 0.9 and 0.75 < value(out, "refit rmse") < 0.9
    assert value(out, "fold-in / refit") < 1.05   # bench/README.md: within a few percent of a refit


def test_lastfm_ranking():
    out = run_example("lastfm_ranking.py", "lastfm")
    als, social = value(out, "ALS ndcg@10"), value(out, "SocialALS ndcg@10")
    assert 0.2 < als < social < 0.35      # bench/README.md: .2582 and .2595
    assert re.search(r"top-5 artists for user 2: \[(\d+, ){4}\d+\]", out), out
