"""Validation grid for the biased SoReg / RSTE defaults (issue 15; bench/README.md "Biased SoReg and RSTE").

    PYTHONPATH=python python bench/tune_biased_soreg_rste.py --dataset filmtrust --model SoReg

Protocol: the judged 80/20 ``train_test_split(seed=0)``; a validation part (10% of the TRAINING part,
``train_test_split(train, 0.1, seed=1)``) carved from it, never the test part; factors=10, seed 0,
num_threads=2. Each setting is fitted once on the rest of the training part for at most ``--epochs``
epochs with the validation RMSE recorded per epoch; the best epoch counts (early stopping, patience 5).
Prints one row per setting: validation RMSE, best epoch, fit seconds.
"""
import argparse
import itertools
import time

import _common  # socialrec on the path (the installed package, else the checkout) and the data folder
import socialrec as sr

GRIDS = {
    "SoReg": {"learning_rate": [0.005, 0.01], "regularization": [0.05, 0.1], "bias_regularization": [0.01, 0.1],
              "social_regularization": [0.01, 0.1]},
    "RSTE": {"learning_rate": [0.05, 0.1], "regularization": [0.005, 0.02], "bias_regularization": [0.001, 0.005],
             "alpha": [0.4]},
}


def load(name):
    if name == "epinions":
        return sr.datasets.load_tang(f"{_common.SHARED_DATA}/epinions")
    return sr.datasets.load_filmtrust(f"{_common.SHARED_DATA}/filmtrust", duplicates="mean")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="filmtrust", choices=["filmtrust", "epinions"])
    ap.add_argument("--model", default="SoReg", choices=sorted(GRIDS))
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--only", default=None, help="comma-separated key=value pairs that fix part of the grid")
    a = ap.parse_args()
    train, _ = sr.split.train_test_split(load(a.dataset), test_size=0.2, seed=0)
    inner, val = sr.split.train_test_split(train, test_size=0.1, seed=1)
    grid = dict(GRIDS[a.model])
    for pair in (a.only.split(",") if a.only else []):
        k, v = pair.split("=")
        grid[k] = [float(v)]
    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        params = dict(zip(keys, values))
        model = getattr(sr, a.model)(factors=10, seed=0, num_threads=2, epochs=a.epochs, **params)
        t = time.perf_counter()
        model.fit(inner, validation=val, early_stopping=5)
        scores = [r["val_rmse"] for r in model.history]
        best = min(range(len(scores)), key=scores.__getitem__)
        print(f"{a.dataset} {a.model} {params} val_rmse {scores[best]:.4f} best_epoch {best + 1} "
              f"{time.perf_counter() - t:.0f}s", flush=True)


if __name__ == "__main__":
    main()
