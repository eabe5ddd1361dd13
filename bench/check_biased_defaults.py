"""Validation RMSE of candidate defaults of the biased logistic models on FilmTrust and Epinions (issue 15).

Validation: 10 % of the TRAINING part of ``train_test_split(ds, 0.2, seed=0)`` (``train_test_split(train,
0.1, seed=0)``); the test part is never read. Each candidate is fitted with early stopping (patience 5) on that
validation part, so its best epoch is reported too.

    PYTHONPATH=python python bench/check_biased_defaults.py [--datasets filmtrust epinions]
"""
import argparse
import json
import time

import _common  # socialrec on the path (the installed package, else the checkout) and the data folder
import socialrec as sr

SHARED = _common.SHARED_DATA  # $SOCIALREC_DATA, else ../shared/data next to the repository
# candidates: the current defaults, and the FilmTrust-tuned settings (bench/tune_biased_logistic.py, 60 trials)
CANDIDATES = {
    "SoRec": {"defaults": {}, "filmtrust-tuned": {"learning_rate": 0.40, "regularization": 0.0029,
                                                  "social_regularization": 0.13, "bias_regularization": 0.0021}},
    "SocialMF": {"defaults": {}, "filmtrust-tuned": {"learning_rate": 0.48, "regularization": 0.0019,
                                                     "social_regularization": 0.92, "bias_regularization": 0.00045}},
    "TrustMF": {"defaults": {}, "filmtrust-tuned": {"learning_rate": 0.12, "regularization": 0.27,
                                                    "trust_regularization": 0.012, "bias_regularization": 0.0012}},
}
ap = argparse.ArgumentParser()
ap.add_argument("--datasets", nargs="+", default=["filmtrust", "epinions"])
ap.add_argument("--models", nargs="+", default=list(CANDIDATES))
a = ap.parse_args()
for dataset in a.datasets:
    ds = (sr.datasets.load_filmtrust(f"{SHARED}/filmtrust", duplicates="mean") if dataset == "filmtrust"
          else sr.datasets.load_tang(f"{SHARED}/epinions"))
    train, _test = sr.split.train_test_split(ds, test_size=0.2, seed=0)
    inner, valid = sr.split.train_test_split(train, test_size=0.1, seed=0)
    for model in a.models:
        for label, params in CANDIDATES[model].items():
            m = getattr(sr, model)(factors=10, seed=0, num_threads=2, **params)
            t = time.perf_counter()
            m.fit(inner, validation=valid, early_stopping=5)
            print(json.dumps({"dataset": dataset, "model": model, "candidate": label,
                              "valid_rmse": round(sr.metrics.rmse(m, valid), 4), "best_epoch": m.best_epoch_,
                              "max_epochs": m.epochs, "seconds": round(time.perf_counter() - t, 1)}), flush=True)
