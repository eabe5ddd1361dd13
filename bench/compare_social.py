"""Does the trust graph pay with an equal tuning budget? ``sr.compare`` on the judged splits (issue 15).

    PYTHONPATH=python python bench/compare_social.py --dataset epinions  --trials 40
    PYTHONPATH=python python bench/compare_social.py --dataset filmtrust --trials 40

Protocol (the issue's must-show): Epinions, one 80/20 ``train_test_split(seed=0)``; FilmTrust, 5-fold
``split.kfold(seed=0)``. Every rating model gets the same budget: ``sr.compare(train, test, n_trials, seed=0,
params={"factors": 10, "epochs": 150})`` tunes each on 10% of ``train`` (never ``test``), picks the best social and the best
non-social model by validation RMSE, and only then scores everything on ``test``, overall and per segment
(cold: < 5 training ratings; with_trustees; cold_with_trustees). For FilmTrust the per-fold results are
averaged (weighted by each segment's count) and the best models are chosen per fold.

Writes bench/results/compare_social_<dataset>.json and prints the per-model table and the social-vs-plain lines.
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


def load(name):
    if name == "epinions":
        return sr.datasets.load_tang(_common.data_folder("epinions"))
    return sr.datasets.load_filmtrust(_common.data_folder("filmtrust"), duplicates="mean")


def folds(name, ds):
    if name == "epinions":
        return [sr.split.train_test_split(ds, test_size=0.2, seed=0)]
    return list(sr.split.kfold(ds, k=5, seed=0))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", choices=["epinions", "filmtrust"], default="epinions")
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--factors", type=int, default=10)
    ap.add_argument("--max-epochs", type=int, default=150, help="the most epochs any trial trains (every model)")
    ap.add_argument("--models", nargs="+", default=None)
    a = ap.parse_args()
    ds = load(a.dataset)
    results = []
    start = time.perf_counter()
    for f, (train, test) in enumerate(folds(a.dataset, ds)):
        res = sr.compare(train, test, models=a.models, n_trials=a.trials, seed=0, params={"factors": a.factors,
                                                                                      "epochs": a.max_epochs})
        print(f"fold {f}\n{res}\n", flush=True)
        results.append(res)
    # per model and segment: count-weighted mean over folds
    models = [r["model"] for r in results[0].rows]
    table = {}
    for m in models:
        table[m] = {}
        for seg in SEGMENTS:
            parts = [(res.row(m)["test"][seg].get("rmse", math.nan), res.row(m)["test"][seg]["n"]) for res in results]
            n = sum(c for _, c in parts)
            # RMSE over the union of the folds' test ratings: sqrt of the count-weighted mean squared error
            table[m][seg] = {"rmse": math.sqrt(sum(v * v * c for v, c in parts if c) / n) if n else math.nan, "n": n}
    pairs = {seg: [] for seg in SEGMENTS}
    for res in results:
        for seg, d in res.segments().items():
            pairs[seg].append(d)
    summary = {}
    for seg, ds_ in pairs.items():
        n = sum(d["n"] for d in ds_)
        mse = lambda key: sum(d[key] ** 2 * d["n"] for d in ds_ if d["n"]) / n if n else math.nan  # noqa: E731
        summary[seg] = {"social": math.sqrt(mse("social")), "plain": math.sqrt(mse("plain")), "n": n}
        summary[seg]["difference"] = summary[seg]["social"] - summary[seg]["plain"]
    print(f"{'model':<10}" + "".join(f"{s:>20}" for s in SEGMENTS))
    for m in models:
        print(f"{m:<10}" + "".join(f"{table[m][s]['rmse']:>20.4f}" for s in SEGMENTS))
    print("best social vs best non-social (chosen on validation per fold):",
          [(r.best_social, r.best_plain) for r in results])
    for seg, d in summary.items():
        print(f"  {seg:<20} n={d['n']:<8} social {d['social']:.4f}  plain {d['plain']:.4f}  "
              f"difference {d['difference']:+.4f}")
    os.makedirs(_common.RESULTS, exist_ok=True)
    out = os.path.join(_common.RESULTS, f"compare_social_{a.dataset}.json")
    with open(out, "w") as fh:
        json.dump({"machine": _common.machine(), "command": f"bench/compare_social.py --dataset {a.dataset} "
                   f"--trials {a.trials} --factors {a.factors} --max-epochs {a.max_epochs}", "seconds": time.perf_counter() - start,
                   "per_model": table, "best": [(r.best_social, r.best_plain) for r in results],
                   "summary": summary,
                   "folds": [{"rows": r.rows, "best_social": r.best_social, "best_plain": r.best_plain}
                             for r in results]}, fh, indent=1, default=str)
    print("wrote", out)


if __name__ == "__main__":
    main()
