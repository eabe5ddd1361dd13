"""Defaults of the biased logistic-link models (SoRec, SocialMF, TrustMF; issue 15, bench/README.md).

Protocol: each dataset's 80/20 ``split.train_test_split(ds, 0.2, seed=0)``; only its TRAINING part is used:
``sr.tune`` carves a 10 % validation part from it (seed 0) and runs a small TPE search (factors 10, early
stopping on the validation RMSE, patience 5); the test part is never read here. The script prints, per
(model, dataset), the best setting found and its validation RMSE, one JSON line each, and stops there: it does
not score one dataset's setting on the other dataset, nor pick a default. Choosing a default from these rows
(e.g. the setting with the smallest worst-case gap to each dataset's tuned RMSE) is left to the reader.

    PYTHONPATH=python python bench/tune_biased_logistic.py [--trials 12] [--datasets filmtrust epinions]
"""
import argparse
import json
import time

import numpy as np

import _common  # socialrec on the path (the installed package, else the checkout) and the data folder
import socialrec as sr

SHARED = _common.SHARED_DATA  # $SOCIALREC_DATA, else ../shared/data next to the repository
ap = argparse.ArgumentParser()
ap.add_argument("--models", nargs="+", default=["SoRec", "SocialMF", "TrustMF"])
ap.add_argument("--datasets", nargs="+", default=["filmtrust", "epinions"])
ap.add_argument("--trials", type=int, default=12)
ap.add_argument("--epochs", type=int, default=120)
ap.add_argument("--threads", type=int, default=2)
a = ap.parse_args()


def load(name):
    if name == "filmtrust":
        ds = sr.datasets.load_filmtrust(f"{SHARED}/filmtrust", duplicates="mean")
    else:
        ds = sr.datasets.load_tang(f"{SHARED}/epinions")
    train, _test = sr.split.train_test_split(ds, test_size=0.2, seed=0)  # the test part is never used
    return train


for model in a.models:
    cls = getattr(sr, model)
    for dataset in a.datasets:
        train = load(dataset)
        t = time.perf_counter()
        res = sr.tune(cls, train, n_trials=a.trials, validation=0.1, seed=0, search_space=None,
                      params={"factors": 10, "epochs": a.epochs, "num_threads": a.threads}, refit=False)
        print(json.dumps({"model": model, "dataset": dataset, "best_value": res.best_value,
                          "best_params": {k: v for k, v in res.best_params.items()},
                          "seconds": round(time.perf_counter() - t, 1)}), flush=True)
