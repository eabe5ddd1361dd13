"""FilmTrust 5-fold CV of SoRec and SocialMF with their default parameters (issue 3: SoRec <= .836,
SocialMF <= .849; Guo, Zhang, Yorke-Smith AAAI 2015 Table 2: .831 and .844), next to BiasedMF, PMF-style
logistic baselines (lambda = 0), the papers' form without the rating offset, and the cold-start view (test
users with < 5 training ratings: RMSE over their test ratings pooled over the folds, and the mean over the
folds of ``sr.metrics.rmse(model, test, users=cold, ids="index")``).

    PYTHONPATH=python python bench/accuracy_sorec_socialmf.py [--data FOLDER (default: $SOCIALREC_DATA/filmtrust or ../shared/data/filmtrust)]

Protocol: ``sr.cross_validate(cls, ds, folds=5, seed=0)`` (``split.kfold``), d = 10, defaults. Prints a table
and JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import SHARED_DATA, machine  # noqa: E402

import socialrec as sr  # noqa: E402

RUNS = [("SoRec", sr.SoRec, {}, 0.836), ("SocialMF", sr.SocialMF, {}, 0.849),
        # the papers' form g(U_u . V_i) without the offset (SocialMF with its earlier default lambda_T)
        ("SoRec (offset=False)", sr.SoRec, {"offset": False}, None),
        ("SocialMF (offset=False, lambda_T = .3)", sr.SocialMF, {"offset": False, "social_regularization": 0.3},
         None),
        ("SoRec (lambda_C = 0)", sr.SoRec, {"social_regularization": 0.0}, None),
        ("SocialMF (lambda_T = 0)", sr.SocialMF, {"social_regularization": 0.0}, None),
        ("BiasedMF", sr.BiasedMF, {}, None)]


def cold_start_rmse(cls, params, ds, folds=5, seed=0):
    """RMSE over the test ratings of users with < 5 training ratings, pooled over the folds; their number;
    the mean over the folds of each fold's cold-start RMSE."""
    errors, per_fold = [], []
    for train, test in sr.split.kfold(ds, k=folds, seed=seed):
        cold = sr.split.cold_start_users(train, max_ratings=5)
        model = cls(**params).fit(train)
        errors.append(sr.metrics.errors(model, test, users=cold, ids="index"))
        per_fold.append(sr.metrics.rmse(model, test, users=cold, ids="index"))
    e = np.concatenate(errors)
    return float(np.sqrt(np.mean(e * e))), int(e.size), float(np.mean(per_fold))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(SHARED_DATA, "filmtrust"))
    args = ap.parse_args()
    ds = sr.datasets.load_filmtrust(args.data)
    rows = []
    for name, cls, params, target in RUNS:
        cv = sr.cross_validate(cls, ds, folds=5, seed=0, **params)
        cold, n_cold, cold_folds = cold_start_rmse(cls, params, ds)
        rows.append({"model": name, "params": params, "rmse": cv["rmse"]["mean"], "rmse_std": cv["rmse"]["std"],
                     "mae": cv["mae"]["mean"], "rmse_folds": cv["rmse"]["folds"], "cold_rmse": cold,
                     "cold_rmse_fold_mean": cold_folds, "cold_ratings": n_cold, "target": target,
                     "met": None if target is None else cv["rmse"]["mean"] <= target,
                     "fit_seconds": cv["fit_seconds"]["mean"]})
    print(f"FilmTrust {ds}, 5-fold CV (seed 0), defaults")
    print(f"{'model':38} {'RMSE':>14} {'MAE':>7} {'cold RMSE':>10} {'fold mean':>10} {'target':>7} {'fit s':>6}")
    for r in rows:
        target = "" if r["target"] is None else f"{r['target']:.3f}" + (" ok" if r["met"] else " MISS")
        print(f"{r['model']:38} {r['rmse']:.4f} ± {r['rmse_std']:.4f} {r['mae']:7.4f} {r['cold_rmse']:10.4f} {r['cold_rmse_fold_mean']:10.4f}"
              f" {target:>7} {r['fit_seconds']:6.2f}")
    print(json.dumps({"bench": "accuracy_sorec_socialmf", "machine": machine(), "results": rows}, indent=1))


if __name__ == "__main__":
    main()
