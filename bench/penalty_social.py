"""Does the penalty scaling let the social models pay? Equal tuning budget, model by model (issue 15).

    PYTHONPATH=python python bench/penalty_social.py --dataset epinions --trials 20
    PYTHONPATH=python python bench/penalty_social.py --dataset epinions --trials 20 --scaling sqrt_count --tag sqrt
    PYTHONPATH=python python bench/penalty_social.py --quick          # FilmTrust fold 0, 2 trials, 3 models
    PYTHONPATH=python python bench/penalty_social.py --dataset epinions --scaling sqrt_count --models \
        --include a.json b.json --tag all                              # earlier runs' rows, one summary

The protocol of ``bench/compare_social.py`` (``sr.compare``: every model tuned by ``sr.tune`` with the same
budget on 10% of the training part, factors 10, at most ``--max-epochs`` epochs with early stopping; the best
social and the best non-social model chosen by validation RMSE; only then the test part is read, overall and per
segment), run one model at a time so that each model's row is written as soon as it is done: a run stopped early
still leaves the rows it finished (``"complete": false`` in the JSON). Each model's default search space (which
searches ``regularization_scaling`` over "occurrence" / "sqrt_count" with λ ranges widened 30x,
``models.sgd.with_penalty_scaling``), or with ``--scaling`` that scaling fixed for every model.

Writes bench/results/penalty_social_<dataset>[_<tag>].json and prints the rows and the social-vs-plain lines.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import time

import _common  # socialrec on the path (the installed package, else the checkout) and the data folder
import socialrec as sr
from socialrec.evaluate import SEGMENTS

# the rating models, cheapest first within each group (a stopped run keeps the most rows)
MODELS = ["BiasedMF", "SVDpp", "SoReg", "RSTE", "SoRec", "SocialMF", "TrustMF", "TrustSVD"]


def load(name):
    if name == "epinions":
        ds = sr.datasets.load_tang(_common.data_folder("epinions"))
        return [sr.split.train_test_split(ds, test_size=0.2, seed=0)]
    ds = sr.datasets.load_filmtrust(_common.data_folder("filmtrust"), duplicates="mean")
    return list(sr.split.kfold(ds, k=5, seed=0))


def best_pairs(rows):
    """{fold: (best social row, best non-social row)}, each chosen by validation RMSE (never test)."""
    out = {}
    for f in sorted({r["fold"] for r in rows}):
        social = [r for r in rows if r["fold"] == f and r["social"]]
        plain = [r for r in rows if r["fold"] == f and not r["social"]]
        if social and plain:
            out[f] = (min(social, key=lambda r: r["validation"]), min(plain, key=lambda r: r["validation"]))
    return out


def summary(rows):
    """Best social and best non-social by validation (per fold), their test RMSE per segment (folds pooled:
    the square root of the count-weighted mean squared error)."""
    picks = list(best_pairs(rows).values())
    out = {"best": [(s["model"], p["model"]) for s, p in picks]}
    for seg in SEGMENTS:
        n = sum(s["test"][seg]["n"] for s, _ in picks)
        if not n:
            continue
        mse = lambda k: sum(pair[k]["test"][seg]["rmse"] ** 2 * pair[k]["test"][seg]["n"]  # noqa: E731
                            for pair in picks if pair[k]["test"][seg]["n"]) / n
        social, plain = math.sqrt(mse(0)), math.sqrt(mse(1))
        out[seg] = {"social": social, "plain": plain, "difference": social - plain, "n": n}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", choices=["epinions", "filmtrust"], default="epinions")
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--factors", type=int, default=10)
    ap.add_argument("--max-epochs", type=int, default=150)
    ap.add_argument("--models", nargs="*", default=MODELS,
                    help="the models to tune (none: only join the --include files' rows into one summary)")
    ap.add_argument("--scaling", choices=["sqrt_count", "count"], default=None,
                    help="fix regularization_scaling for every model (default: searched by each model's space)")
    ap.add_argument("--tag", default=None)
    ap.add_argument("--include", nargs="+", default=None,
                    help="result files of earlier runs (same protocol) whose rows join this one's summary")
    ap.add_argument("--quick", action="store_true", help="FilmTrust fold 0, 2 trials, 15 epochs, 3 models")
    a = ap.parse_args()
    if a.quick:
        a.dataset, a.trials, a.max_epochs, a.models = "filmtrust", 2, 15, ["BiasedMF", "SoReg", "RSTE"]
    splits = [] if not a.models else load(a.dataset)[:1] if a.quick else load(a.dataset)
    fixed = {"factors": a.factors, "epochs": a.max_epochs}
    if a.scaling:
        fixed["regularization_scaling"] = a.scaling
    os.makedirs(_common.RESULTS, exist_ok=True)
    name = f"penalty_social_{a.dataset}{'_quick' if a.quick else ''}{'_' + a.tag if a.tag else ''}.json"
    out = os.path.join(_common.RESULTS, name)
    command = (f"bench/penalty_social.py --dataset {a.dataset} --trials {a.trials} --factors {a.factors} "
               f"--max-epochs {a.max_epochs} --models {' '.join(a.models)}"
               + (f" --scaling {a.scaling}" if a.scaling else "") + (f" --tag {a.tag}" if a.tag else "")
               + (" --quick" if a.quick else "") + (f" --include {' '.join(a.include)}" if a.include else ""))
    rows, start = [], time.perf_counter()
    for path in a.include or []:
        with open(path) as fh:
            rows += [dict(r, included=True) for r in json.load(fh)["rows"] if not r.get("included")]

    def write(complete):
        with open(out, "w") as fh:
            json.dump({"machine": _common.machine(), "command": command, "complete": complete,
                       "seconds": time.perf_counter() - start, "rows": rows,
                       "summary": summary(rows)}, fh, indent=1, default=str)

    for f, (train, test) in enumerate(splits):
        for model in a.models:
            cls = getattr(sr, model)
            params = {k: v for k, v in fixed.items() if k in cls._defaults}
            t0 = time.perf_counter()
            res = sr.tune(cls, train, n_trials=a.trials, seed=0, params=params)
            segments = sr.evaluate(res.best_model, test, train=train, ranking=False)["segments"]
            rows.append({"fold": f, "model": model, "social": bool(getattr(cls, "uses_trust", False)),
                         "validation": res.best_value, "params": res.best_params,
                         "test": {seg: {"rmse": d["rmse"], "n": d["n"]} for seg, d in segments.items()},
                         "seconds": time.perf_counter() - t0})
            print(f"fold {f} {model:<9} validation {res.best_value:.4f} test "
                  + " ".join(f"{seg} {d['rmse']:.4f}" for seg, d in segments.items())
                  + f"  {res.best_params}  {rows[-1]['seconds']:.0f} s", flush=True)
            write(False)
    write(True)
    for seg, d in summary(rows).items():
        print(seg, d)
    print("wrote", out)


if __name__ == "__main__":
    main()
