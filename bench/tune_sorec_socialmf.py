"""Grid search of SoRec's and SocialMF's defaults on a FilmTrust validation split (never the CV test folds).

    PYTHONPATH=python python bench/tune_sorec_socialmf.py [--data DIR] [--offset 1] [--grid coarse|fine]

Validation split: the training part of fold 0 of ``split.kfold(ds, 5, seed=0)``, divided again by
``split.train_test_split(test_size=0.2, seed=1)``. Each setting is fitted once for ``--max-epochs`` epochs
with ``validation=``, so the per-epoch validation RMSE gives every epoch count of the grid from one fit.
Prints the best settings by validation RMSE (and their cold-start validation RMSE: validation users with
< 5 ratings in the fitting part) and JSON.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _common import SHARED_DATA, machine  # noqa: E402

import socialrec as sr  # noqa: E402

GRIDS = {
    "SoRec": {"learning_rate": [0.05, 0.1, 0.2], "regularization": [0.002, 0.005, 0.01, 0.02],
              "social_regularization": [0.5, 1.0, 2.0]},
    "SocialMF": {"learning_rate": [0.05, 0.1, 0.2], "regularization": [0.002, 0.005, 0.01, 0.02],
                 "social_regularization": [0.1, 0.3, 1.0]},
}
# the second round, around the coarse grid's best (λ = .005 for both; SocialMF's best λ_T at the grid's edge)
FINE = {
    "SoRec": {"learning_rate": [0.1, 0.2], "regularization": [0.003, 0.005, 0.007],
              "social_regularization": [0.5, 1.0, 2.0, 4.0]},
    "SocialMF": {"learning_rate": [0.1, 0.2], "regularization": [0.003, 0.005, 0.007],
                 "social_regularization": [0.03, 0.1, 0.2, 0.3]},
}
EPOCHS = (20, 40, 60, 80, 100, 120, 150)


def validation_split(ds):
    train, _ = next(iter(sr.split.kfold(ds, k=5, seed=0)))
    return sr.split.train_test_split(train, test_size=0.2, seed=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(SHARED_DATA, "filmtrust"))
    ap.add_argument("--offset", type=int, default=1)
    ap.add_argument("--models", nargs="*", default=list(GRIDS))
    ap.add_argument("--top", type=int, default=8)
    ap.add_argument("--grid", choices=("coarse", "fine"), default="coarse")
    args = ap.parse_args()
    ds = sr.datasets.load_filmtrust(args.data)
    fit, val = validation_split(ds)
    cold = sr.split.cold_start_users(fit, 5)
    out = []
    for name in args.models:
        cls, grid = getattr(sr, name), (GRIDS if args.grid == "coarse" else FINE)[name]
        rows = []
        for values in itertools.product(*grid.values()):
            params = dict(zip(grid, values), offset=bool(args.offset), epochs=max(EPOCHS))
            model = cls(**params).fit(fit, validation=val)
            curve = [r["val_rmse"] for r in model.history]
            for e in EPOCHS:
                rows.append({"params": {**params, "epochs": e}, "val_rmse": curve[e - 1]})
        rows.sort(key=lambda r: r["val_rmse"])
        for r in rows[:args.top]:  # cold-start validation RMSE of the best settings
            r["val_cold_rmse"] = sr.metrics.rmse(cls(**r["params"]).fit(fit), val, users=cold, ids="index")
        print(f"{name} (offset={bool(args.offset)}): best of {len(rows)} settings on validation")
        for r in rows[:args.top]:
            print("  " + " ".join(f"{k}={v}" for k, v in r["params"].items())
                  + f"  val RMSE {r['val_rmse']:.4f}, cold {r['val_cold_rmse']:.4f}")
        out.append({"model": name, "best": rows[:args.top]})
    print(json.dumps({"bench": "tune_sorec_socialmf", "machine": machine(), "results": out}, indent=1))


if __name__ == "__main__":
    main()
