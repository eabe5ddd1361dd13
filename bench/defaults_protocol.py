"""How the rating models' defaults are chosen (issue 15 item 2; bench/README.md "Defaults protocol").

    PYTHONPATH=python python bench/defaults_protocol.py --phase tune      # tuned optimum per model and data set
    PYTHONPATH=python python bench/defaults_protocol.py --phase defaults  # the defaults against it

Protocol, the same on every data set (FilmTrust and Epinions; the test part is never read):
  1. the judged split ``train_test_split(data, 0.2, seed=0)``; only its training part is used;
  2. ``sr.tune(cls, train, n_trials, validation=0.1, seed=0, params={"factors": 10, "epochs": 150})`` finds the
     tuned optimum: a validation part of 10% of the training part, TPE over the class's ``search_space``, each
     trial's best epoch (patience 5);
  3. the defaults (``cls(factors=10, seed=0)``, nothing else set) are fitted on the same inner part and scored
     on the same validation part (their final epoch: the default training length is part of the defaults);
  4. gap = defaults' validation RMSE - tuned validation RMSE. A default is kept when its gap is at most .005 on
     both data sets; otherwise the candidates (the current defaults and each data set's tuned optimum, with
     its epochs) are scored on both data sets and the one with the smallest worst gap becomes the default.

Results: bench/results/defaults_protocol_<phase>.json (rows per model and data set) and a table.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import time

import _common  # socialrec on the path (the installed package, else the checkout) and the data folder
import socialrec as sr

FACTORS = 10
MAX_EPOCHS = 150


def load(name):
    if name == "epinions":
        return sr.datasets.load_tang(_common.data_folder("epinions"))
    return sr.datasets.load_filmtrust(_common.data_folder("filmtrust"), duplicates="mean")


def splits(name):
    """(train, inner, validation): the judged training part and the 10% validation part tune carves."""
    train, _ = sr.split.train_test_split(load(name), test_size=0.2, seed=0)
    inner, val = sr.split.train_test_split(train, test_size=0.1, seed=0)  # = tune(validation=0.1, seed=0)
    return train, inner, val


def best_common_epoch(curves, best):
    """(e, worst gap, {data set: gap}) for validation curves {data set: [RMSE per epoch]}: the epoch index e at
    which the worst gap max_D (curve_D[e] - best_D) is smallest, over the epochs every curve reached."""
    n = min(len(c) for c in curves.values())
    gaps = [max(c[e] - best[d] for d, c in curves.items()) for e in range(n)]
    e = min(range(n), key=gaps.__getitem__)
    return e, gaps[e], {d: c[e] - best[d] for d, c in curves.items()}


def score(cls, params, inner, val):
    """Validation RMSE of ``cls(**params)`` fitted on ``inner`` (its last epoch), its best epoch, seconds."""
    model = cls(**{"factors": FACTORS, "seed": 0, **params})
    start = time.perf_counter()
    model.fit(inner, validation=val)
    curve = [h["val_rmse"] for h in model.history]
    best = min(range(len(curve)), key=curve.__getitem__)
    return {"val_rmse": curve[-1], "best_epoch": best + 1, "best_val_rmse": curve[best],
            "epochs": len(curve), "seconds": time.perf_counter() - start}


def phase_tune(args, models):
    rows = []
    for name in args.datasets:
        train, inner, val = splits(name)
        for cls in models:
            start = time.perf_counter()
            fixed = {"factors": FACTORS, "epochs": MAX_EPOCHS}
            if args.scaling and "regularization_scaling" in cls._defaults:
                fixed["regularization_scaling"] = args.scaling  # the space's λ ranges move with it
            res = sr.tune(cls, train, n_trials=args.trials, validation=0.1, seed=0, refit=False, params=fixed)
            row = {"dataset": name, "model": cls.__name__, "tuned_val_rmse": res.best_value,
                   "tuned_params": res.best_params, "tune_seconds": time.perf_counter() - start,
                   "trials": len(res.trials)}
            d = score(cls, {}, inner, val)
            row.update({"default_val_rmse": d["val_rmse"], "default_best_epoch": d["best_epoch"],
                        "default_best_val_rmse": d["best_val_rmse"],
                        "gap": d["val_rmse"] - res.best_value})
            rows.append(row)
            print(json.dumps(row, default=str), flush=True)
    return rows


def read_optima(paths):
    """Tuned optima from more result files, as tune-phase rows: a tune phase's own output, or
    ``bench/penalty_social.py``'s (same split, validation part and ``sr.tune`` call; its data set is in its
    command). Rows whose JSON has no data set (penalty_social's FilmTrust folds are not the judged split) are
    refused rather than guessed."""
    rows = []
    for path in paths:
        with open(path) as f:
            doc = json.load(f)
        for r in doc["rows"]:
            if "tuned_val_rmse" in r:
                rows.append(dict(r, source=os.path.basename(path)))
                continue
            if "--dataset epinions" not in doc["command"]:
                raise ValueError(f"{path}: only penalty_social's Epinions rows are on the judged split")
            rows.append({"dataset": "epinions", "model": r["model"], "tuned_val_rmse": r["validation"],
                         "tuned_params": r["params"], "source": os.path.basename(path)})
    return rows


def scaled_defaults(cls, factor=30.0):
    """The defaults with ``regularization_scaling="sqrt_count"`` and every rating penalty (λ, λ_b) times
    ``factor``: a weighted rating carries about 1/30 of λ, the ratio the default search spaces use
    (``models.sgd.with_penalty_scaling``). None for a model without the option or already weighted."""
    if cls._defaults.get("regularization_scaling") != "occurrence":
        return None
    keys = [k for k in ("regularization", "bias_regularization") if k in cls._defaults]
    return {"regularization_scaling": "sqrt_count", **{k: cls._defaults[k] * factor for k in keys}}


def best_pairs_by_scaling(cls, tuned):
    """{regularization_scaling: (params on data set 1, params on data set 2)}: for each scaling tuned on two
    data sets, the best tuned setting of each (a model without the option has the one key None)."""
    best = {}
    for t in tuned:
        scaling = t["tuned_params"].get("regularization_scaling", cls._defaults.get("regularization_scaling"))
        key = (scaling, t["dataset"])
        if key not in best or t["tuned_val_rmse"] < best[key]["tuned_val_rmse"]:
            best[key] = t
    pairs = {}
    for scaling in {s for s, _ in best}:
        rows = [t for (s, _), t in best.items() if s == scaling]
        if len(rows) == 2:
            pairs[scaling] = (rows[0]["tuned_params"], rows[1]["tuned_params"])
    return pairs


def phase_defaults(args, models):
    """Scores each model's current defaults and the tuned candidates (from the tune phase's JSON and
    ``--optima``) on every data set; a data set's optimum is the best tuned value known for it; the candidate
    with the smallest worst gap is reported."""
    tuned = []
    for name in args.datasets:  # the tune phase's output, one file per data set (--tag _<dataset>)
        with open(os.path.join(_common.RESULTS, f"defaults_protocol_tune_{name}.json")) as f:
            source = f"defaults_protocol_tune_{name}.json"
            tuned += [dict(r, source=source, round1=True) for r in json.load(f)["rows"]]
    tuned += read_optima(args.optima or [])
    data = {name: splits(name) for name in args.datasets}
    extra = json.loads(args.candidates) if args.candidates else {}
    rows = []
    for cls in models:
        mine = [t for t in tuned if t["model"] == cls.__name__ and t["dataset"] in data]
        if not mine:
            continue
        best = {}  # data set -> its best tuned row (the optimum)
        for t in mine:
            if t["dataset"] not in best or t["tuned_val_rmse"] < best[t["dataset"]]["tuned_val_rmse"]:
                best[t["dataset"]] = t
        optimum = {d: t["tuned_val_rmse"] for d, t in best.items()}
        candidates = {"defaults": {}}
        for t in mine:
            if args.skip_scored and t.get("round1"):
                continue  # scored in round 1 (defaults_protocol_defaults_round1.json)
            params = {k: v for k, v in t["tuned_params"].items() if k != "factors"}
            if params not in candidates.values():  # the same row may come in several files
                candidates[f"tuned on {t['dataset']} ({t['source']})"] = params
        for scaling, (a, b) in best_pairs_by_scaling(cls, mine).items():
            # the geometric mean of the two data sets' optima with one scaling (epochs: the larger count)
            label = "geometric mean" + (f" ({scaling})" if scaling else "")
            candidates[label] = {k: (max(a[k], b[k]) if k == "epochs" else (a[k] * b[k]) ** 0.5)
                                 for k in a if k in b and k != "factors" and isinstance(a[k], (int, float))}
            if scaling:
                candidates[label]["regularization_scaling"] = scaling
        if args.scaled_defaults and scaled_defaults(cls) is not None:
            candidates["defaults, sqrt_count, penalties x30"] = scaled_defaults(cls)
        candidates.update(extra.get(cls.__name__, {}))
        if args.only_defaults:
            candidates = {"defaults": {}}
        for label, params in candidates.items():
            row = {"model": cls.__name__, "candidate": label, "params": params}
            worst = 0.0
            for name, (_, inner, val) in data.items():
                if name not in optimum:
                    continue
                s = score(cls, params, inner, val)
                gap = s["val_rmse"] - optimum[name]
                row[name] = {"val_rmse": s["val_rmse"], "gap": gap, "best_epoch": s["best_epoch"],
                             "optimum": optimum[name]}
                worst = max(worst, gap)
            row["worst_gap"] = worst
            rows.append(row)
            print(json.dumps(row, default=str), flush=True)
    return rows


def phase_stopping(args, models):
    """The training-length rule: each model's defaults fitted on the inner part (a) for their fixed ``epochs``,
    (b) with ``early_stopping=True`` (10% of the inner part held out, patience 5, at most ``MAX_EPOCHS``),
    (c) as (b), then refitted on the whole inner part for the best epoch count; all scored on the validation
    part (never the test part)."""
    rows = []
    for name in args.datasets:
        _, inner, val = splits(name)
        for cls in models:
            row = {"dataset": name, "model": cls.__name__}
            start = time.perf_counter()
            fixed = cls(factors=FACTORS, seed=0).fit(inner)
            row["fixed"] = {"val_rmse": sr.metrics.rmse(fixed, val), "epochs": len(fixed.history),
                            "seconds": time.perf_counter() - start}
            start = time.perf_counter()
            stopped = cls(factors=FACTORS, seed=0, epochs=MAX_EPOCHS).fit(inner, early_stopping=True)
            row["early_stopping"] = {"val_rmse": sr.metrics.rmse(stopped, val), "epochs": stopped.best_epoch_ + 1,
                                     "seconds": time.perf_counter() - start}
            start = time.perf_counter()
            refit = cls(factors=FACTORS, seed=0, epochs=stopped.best_epoch_ + 1).fit(inner)
            row["early_stopping_refit"] = {"val_rmse": sr.metrics.rmse(refit, val), "epochs": len(refit.history),
                                           "seconds": row["early_stopping"]["seconds"] + time.perf_counter() - start}
            rows.append(row)
            print(json.dumps(row, default=str), flush=True)
    return rows


def phase_joint(args, models):
    """One setting for both data sets: Optuna (TPE, seed 0) over the class's search space, each trial fitted on
    every data set's inner part with the validation curve recorded; its value is the smallest, over epoch counts
    e, of the worst gap max_D (val_D(e) - best_D), best_D the best validation RMSE known on D (tuned or any
    candidate of the defaults phase). The best round-1 candidate is the first trial, so the search can only
    improve on it. The chosen epochs is that e."""
    optuna = sr.tuning._optuna()
    with open(os.path.join(_common.RESULTS, f"defaults_protocol_defaults{args.tag_in}.json")) as f:
        cands = json.load(f)["rows"]
    tuned = {}
    for name in args.datasets:
        with open(os.path.join(_common.RESULTS, f"defaults_protocol_tune_{name}.json")) as f:
            for t in json.load(f)["rows"]:
                tuned[(t["model"], name)] = t["tuned_val_rmse"]
    data = {name: splits(name)[1:] for name in args.datasets}
    rows = []
    for cls in models:
        mine = [c for c in cands if c["model"] == cls.__name__]
        best = {d: min([tuned[(cls.__name__, d)]] + [c[d]["val_rmse"] for c in mine]) for d in args.datasets}
        first = min(mine, key=lambda c: c["worst_gap"])["params"] if mine else {}
        space = sr.tuning.resolve_search_space(cls)

        def objective(trial):
            params = {**sr.tuning._suggest(trial, space)}
            curves = {}
            for d in args.datasets:  # the small data set first: its curve bounds the stop on the large one
                inner, val = data[d]
                model = cls(factors=FACTORS, seed=0, epochs=args.max_epochs, **params)
                seen = {"best": math.inf, "since": 0}

                def stop(m, record, d=d):
                    curves.setdefault(d, []).append(record["val_rmse"])
                    e = len(curves[d]) - 1
                    gap = max(c[min(e, len(c) - 1)] - best[k] for k, c in curves.items())
                    if gap < seen["best"]:
                        seen["best"], seen["since"] = gap, 0
                    else:
                        seen["since"] += 1
                    return seen["since"] >= 8 and d != args.datasets[0]

                try:
                    model.fit(inner, validation=val, callback=stop)
                except sr.DivergenceError:
                    return math.inf
            e, worst, gaps = best_common_epoch(curves, best)
            trial.set_user_attr("epochs", e + 1)
            trial.set_user_attr("gaps", gaps)
            return worst

        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
        if first:
            study.enqueue_trial({k: v for k, v in first.items() if k in space})
        start = time.perf_counter()
        study.optimize(objective, n_trials=args.trials)
        t = study.best_trial
        row = {"model": cls.__name__, "worst_gap": t.value, "gaps": t.user_attrs["gaps"],
               "params": {**t.params, "epochs": t.user_attrs["epochs"]}, "best": best,
               "seconds": time.perf_counter() - start, "trials": args.trials}
        rows.append(row)
        print(json.dumps(row, default=str), flush=True)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--phase", choices=["tune", "defaults", "stopping", "joint"], default="tune")
    ap.add_argument("--datasets", nargs="+", default=["filmtrust", "epinions"])
    ap.add_argument("--models", nargs="+", default=None, help="rating model names (default: every one)")
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--candidates", default=None,
                    help='more candidates, JSON: {"SoRec": {"label": {"regularization": 0.02, ...}}}')
    ap.add_argument("--max-epochs", type=int, default=80, help="joint phase: the most epochs a trial trains")
    ap.add_argument("--tag-in", default="_round1", help="joint phase: the defaults phase's output to start from")
    ap.add_argument("--only-defaults", action="store_true", help="defaults phase: score the current defaults only")
    ap.add_argument("--optima", nargs="+", default=None,
                    help="defaults phase: more tuned results (a tune phase's or penalty_social's Epinions JSON); "
                         "their optima join the tune files' and their settings become candidates")
    ap.add_argument("--scaling", choices=["occurrence", "sqrt_count", "count"], default=None,
                    help="tune phase: fix regularization_scaling (default: the search space searches it)")
    ap.add_argument("--skip-scored", action="store_true",
                    help="defaults phase: do not re-score the tune files' optima (round 1 scored them)")
    ap.add_argument("--scaled-defaults", action="store_true",
                    help='defaults phase: also score the defaults with regularization_scaling="sqrt_count" and '
                         "λ, λ_b x30")
    ap.add_argument("--tag", default="", help="suffix of the output file name")
    args = ap.parse_args()
    models = [m.cls for m in sr.models.registry("rating") if args.models is None or m.name in args.models]
    rows = {"tune": phase_tune, "defaults": phase_defaults, "stopping": phase_stopping,
            "joint": phase_joint}[args.phase](args, models)
    os.makedirs(_common.RESULTS, exist_ok=True)
    out = os.path.join(_common.RESULTS, f"defaults_protocol_{args.phase}{args.tag}.json")
    with open(out, "w") as f:
        json.dump({"machine": _common.machine(), "command": "bench/defaults_protocol.py " + " ".join(
            f"--{k} {v}" for k, v in vars(args).items() if v is not None), "rows": rows}, f, indent=1, default=str)
    print("wrote", out)


if __name__ == "__main__":
    main()
