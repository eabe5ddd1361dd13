"""The socialrec command line (run in-process through cli.main, and once as `python -m socialrec`)."""
from __future__ import annotations

import argparse
import json
import os
import signal
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


def test_evaluate_names_the_folds_option_in_its_errors(tmp_path, capsys):
    # the fold count was reported as "k", which is the name of evaluate's ranking cut-off option
    ratings, _ = _write_files(tmp_path)
    assert cli.main(["evaluate", "--ratings", str(ratings), "--folds", "1", "-q"]) == 2
    err = capsys.readouterr().err
    assert "folds must be an integer >= 2, got 1" in err and "k must" not in err
    with pytest.raises(ValueError, match=r"^folds=3 need at least 3 ratings, the data has 2$"):
        sr.cross_validate(sr.BiasedMF, sr.Dataset.from_arrays([0, 1], [0, 0], [1, 2]), folds=3, k=2)


def _usage_error(argv, capsys):
    """The stderr of a command line that argparse refuses (exit status 2, as for every usage error)."""
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    return capsys.readouterr().err


def test_bad_arguments_give_clear_errors(tmp_path, capsys):
    err = _usage_error(["fit", "--dataset", "synthetic", "--model", "NoSuchModel", "-o", str(tmp_path / "x.npz")],
                       capsys)
    assert "unknown model 'NoSuchModel'; available: BiasedMF" in err
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
    usable = {**base, "cuda_devices": ["NVIDIA H200"], "cupy": "13.6.0"}
    assert cli._device_line({**usable, "cuda_verified": True}).startswith("device: CUDA (NVIDIA H200)")
    unverified = cli._device_line({**usable, "cuda_verified": False})  # "auto" stays on the CPU (issue 16)
    assert unverified.startswith("device: CPU") and "not yet verified" in unverified


def test_demo_prints_the_device_instead_of_a_warning(capsys, monkeypatch):
    import warnings

    from socialrec import _backend

    monkeypatch.setattr(_backend, "_WARNED", set())  # the once-per-process warning has not fired yet
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a CUDA-without-device warning would fail here
        assert cli.main(["demo", "--users", "300", "--items", "150", "--models", "BiasedMF,SoRec"]) == 0
    assert "device: " in capsys.readouterr().out


def _fit_raw(tmp_path, lines, name):
    ratings = tmp_path / f"{name}.txt"
    ratings.write_text("".join(f"{u} {i} 1\n" for u, i in lines))
    model_path = tmp_path / f"{name}.npz"
    assert cli.main(["fit", "--ratings", str(ratings), "--model", "BPR", "--param", "epochs=2", "-q",
                     "-o", str(model_path)]) == 0
    return model_path


def test_recommend_finds_string_ids_that_look_like_numbers(tmp_path, capsys):
    # ids are strings here ("u9" makes the column textual): "007", "1e3" and "true" are ids as typed
    lines = [("007", "a"), ("007", "b"), ("8", "a"), ("u9", "c"), ("8", "c"), ("u9", "b"), ("1e3", "a"),
             ("true", "b")]
    model_path = _fit_raw(tmp_path, lines, "strings")
    model = sr.load(model_path)
    capsys.readouterr()
    assert cli.main(["recommend", str(model_path), "007", "1e3", "true", "8", "-n", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["007", "1e3", "true", "8"]
    for user, recs in out.items():
        want, scores = model.recommend([user], n=2)
        assert [r["item"] for r in recs] == [i for i, s in zip(want[0], scores[0]) if s != -np.inf]


def test_recommend_never_rounds_an_id_to_another_user(tmp_path, capsys):
    model_path = _fit_raw(tmp_path, [(1, 10), (1, 11), (2, 10), (3, 12), (2, 12)], "ints")
    capsys.readouterr()
    for arg in ("2.5", "true", "none", "1.9"):  # not ids of this integer-id model: no user 2, 1 or 1
        assert cli.main(["recommend", str(model_path), arg, "-n", "2"]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and f"unknown user id {arg!r}" in captured.err
    assert cli.main(["recommend", str(model_path), "2.0", "3", "-n", "1", "--json"]) == 0  # the number 2
    assert set(json.loads(capsys.readouterr().out)) == {"2", "3"}


def test_demo_rejects_unknown_models_and_evaluates_ranking_models_by_ranking(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["demo", "--users", "300", "--items", "150", "--models", "BiasedMF,NoSuchModel"])
    captured = capsys.readouterr()
    assert info.value.code == 2 and "unknown model 'NoSuchModel'" in captured.err
    assert captured.out == ""  # checked before anything is trained
    assert cli.main(["demo", "--users", "300", "--items", "150", "--models", "BiasedMF,BPR"]) == 0
    out = capsys.readouterr().out
    table = out.split("\n\n")[1].splitlines()
    assert table[0].split() == ["model", "rmse", "mae", "cold", "rmse", "ndcg@10", "recall@10", "fit", "s"]
    bpr = next(row.split() for row in table if row.startswith("BPR "))
    assert bpr[1:4] == ["-", "-", "-"]  # BPR scores, it does not predict ratings
    assert float(bpr[4]) > 0 and float(bpr[5]) > 0
    assert cli.main(["demo", "--users", "300", "--items", "150", "--models", "ALS"]) == 0
    assert "top-5 recommendations of ALS (unseen items, score)" in capsys.readouterr().out


def test_every_option_has_a_help_text():
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in subparsers.choices.items():
        for action in sub._actions:
            if not isinstance(action, argparse._HelpAction):
                assert action.help, f"socialrec {name} {'/'.join(action.option_strings) or action.dest}"


def test_fit_merges_repeated_ratings_with_duplicates_option(tmp_path, capsys):
    # FilmTrust's own ratings.txt repeats 3 (user, item) pairs: README's `socialrec fit --ratings ratings.txt
    # --trust trust.txt` needs a way to merge them, and the error must name the option, not a Python argument
    ratings = tmp_path / "ratings.txt"
    ratings.write_text("1 1 2\n1 2 4\n2 1 3\n2 2 1\n1 1 3\n")
    out = tmp_path / "m.npz"
    assert cli.main(["fit", "--ratings", str(ratings), "--param", "epochs=2", "-q", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "duplicate (user, item) pair (1, 1)" in err and "--duplicates last" in err
    assert "duplicates='" not in err
    assert cli.main(["fit", "--ratings", str(ratings), "--duplicates", "last", "--param", "epochs=2", "-q",
                     "-o", str(out)]) == 0
    assert sr.load(out).seen_indices_.tolist() == [0, 1, 0, 1]
    assert cli.main(["evaluate", "--ratings", str(ratings), "--duplicates", "mean", "--folds", "2",
                     "--param", "epochs=2", "-q", "--json"]) == 0


def test_evaluate_relevant_threshold_reaches_the_ranking_metrics(tmp_path, capsys):
    """A ranking model on 1-5 ratings: --relevant 4 counts only 4 and 5 stars (fewer relevant items: the
    evaluated users and their metrics change)."""
    ratings, _ = _write_files(tmp_path)
    runs = {}
    for extra in ([], ["--relevant", "4"]):
        assert cli.main(["evaluate", "--ratings", str(ratings), "--model", "BPR", "--folds", "2", "--param",
                         "epochs=2", "-q", "--json", *extra]) == 0
        runs[bool(extra)] = json.loads(capsys.readouterr().out)
    want = [sr.cross_validate(sr.BPR, sr.datasets.load_files(str(ratings)), folds=2, epochs=2, relevant=r)["ndcg"]["mean"]
            for r in (None, 4.0)]
    assert [runs[False]["ndcg"]["mean"], runs[True]["ndcg"]["mean"]] == pytest.approx(want)
    assert want[0] != pytest.approx(want[1])


# ---------------------------------------------------------------------------------------------------------
# issue 16: explicit columns, usage errors before the data loads, a closed pipe


def _six_columns(tmp_path):
    """Trap 1 of issue 16: a movie-ratings CSV whose third column is a genre id, not the rating."""
    ratings = tmp_path / "movie-ratings.txt"
    ratings.write_text("userID,movieID,genreID,reviewID,rating,date\n"
                       "1,5274,17,100,4,2011-01-02\n1,5275,3,101,5,2011-01-03\n2,5274,17,102,2,2011-02-01\n"
                       "2,5276,9,103,3,2011-02-02\n3,5275,3,104,1,2011-03-01\n")
    trust = tmp_path / "trusts.txt"
    trust.write_text("1 2\n2 3\n3 1\n")
    return ratings, trust


def test_a_file_of_many_columns_needs_columns(tmp_path, capsys):
    ratings, trust = _six_columns(tmp_path)
    out = tmp_path / "m.npz"
    base = ["fit", "--ratings", str(ratings), "--trust", str(trust), "--duplicates", "mean", "--model",
            "TrustSVD", "--param", "epochs=2", "-q", "-o", str(out)]
    assert cli.main(base) == 2 and not out.exists()
    err = capsys.readouterr().err
    assert "has 6 columns" in err and "--columns U,I,R" in err and "columns=" not in err
    assert "  4: 'rating' | '4' | '5'" in err and "  2: 'genreID' | '17' | '3'" in err  # names and samples
    assert cli.main(base + ["--columns", "0,1,4"]) == 0
    assert sr.load(out).rating_scale_ == (1.0, 5.0)  # the rating column, not the genre ids (3 .. 17)
    assert cli.main(base + ["--columns", "0,1,4", "--no-header"]) == 2  # the header is then a rating
    assert "rating 'rating' is not a number" in capsys.readouterr().err
    err = _usage_error(base + ["--columns", "0,x"], capsys)
    assert "argument --columns: expected 2 or 3 comma-separated 0-based positions" in err


def test_separator_names_and_trust_columns(tmp_path, capsys):
    ratings, trust, out = tmp_path / "r.tsv", tmp_path / "t.tsv", tmp_path / "m.npz"
    ratings.write_text("a\tx\t3\na\ty\t4\nb\tx\t5\n")
    trust.write_text("2019\ta\tb\t0.5\textra\n2020\tb\ta\t1.0\textra\n")
    base = ["fit", "--ratings", str(ratings), "--trust", str(trust), "--param", "epochs=1", "-q", "-o", str(out)]
    assert cli.main(base + ["--sep", "tab"]) == 2
    assert "t.tsv has 5 columns" in capsys.readouterr().err
    assert cli.main(base + ["--sep", "tab", "--trust-columns", "1,2,3"]) == 0
    assert sr.load(out).user_ids_.tolist() == ["a", "b"]
    for path in (ratings, trust):  # "space": runs of blanks
        path.write_text(path.read_text().replace("\t", "  "))
    assert cli.main(base + ["--sep", "space", "--trust-columns", "1,2,3"]) == 0


def test_unknown_model_is_refused_before_the_data_loads(tmp_path, capsys):
    missing = str(tmp_path / "missing.txt")  # loading it would fail: the model name is checked first
    for argv in (["fit", "--ratings", missing, "--model", "TrustSVDX", "-o", str(tmp_path / "m.npz")],
                 ["evaluate", "--ratings", missing, "--model", "TrustSVDX"],
                 ["tune", "--ratings", missing, "--model", "TrustSVDX"],
                 ["compare", "--ratings", missing, "--models", "BiasedMF,TrustSVDX"]):
        err = _usage_error(argv, capsys)
        assert "unknown model 'TrustSVDX'; available: BiasedMF" in err and "missing.txt" not in err


def test_a_closed_pipe_ends_quietly(tmp_path):
    # `socialrec info | head`: the reader closes its end; no traceback, no "error: [Errno 32] Broken pipe"
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([sys.executable, "-m", "socialrec", "info"], stdout=write, stderr=subprocess.PIPE,
                              text=True, timeout=60)
    finally:
        os.close(write)
    assert proc.stderr == "" and proc.returncode == 128 + signal.SIGPIPE
