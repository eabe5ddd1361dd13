"""Warm start after new ratings arrive (issue 17 item 2): ``fit(data, warm_start=True)`` for a few epochs
against a full refit.

    PYTHONPATH=python python bench/warm_start.py            # BiasedMF, SVDpp, SocialMF, TrustSVD on FilmTrust
    PYTHONPATH=python python bench/warm_start.py --quick    # BiasedMF and TrustSVD, added ratings only
    PYTHONPATH=python python bench/warm_start.py --dataset epinions   # bench/results/warm_start_epinions.json

Protocol. FilmTrust, 80/20 train/test split (seed 0). 1/11 of the training ratings (seeded) are held back, so
that they are 10% more than the rest -- random ratings (``added=ratings``) or all ratings of random users who
join (``added=users``): the "old" model trains on the rest with its default settings; then the
new ratings arrive. ``warm``: a copy of the old model refitted on all training ratings with
``warm_start=True`` and ``epochs=e`` for e = 1, 2, 3, 5, 10. ``refit``: the same class fitted from scratch on
all training ratings with its default epochs. Test RMSE of each, the epochs and seconds each took, and
``ratio`` = warm RMSE / refit RMSE (the goal: within 1%, i.e. ratio <= 1.01, in a fraction of the epochs).
"""
from __future__ import annotations

import copy
import sys
import time

import numpy as np
import scipy.sparse as sp

import _common
import socialrec as sr

MODELS = ["BiasedMF", "SVDpp", "SocialMF", "TrustSVD"]
QUICK_MODELS = ["BiasedMF", "TrustSVD"]
WARM_EPOCHS = [1, 2, 3, 5, 10]


def hold_back(train, added, fraction=1 / 11, seed=0):
    """(old Dataset, number held back): ``old`` lacks a seeded ``fraction`` of ``train``'s ratings (same id
    space): random ratings (``added="ratings"``), or every rating of random users until the fraction is reached
    (``"users"``: users who join; the old model has rows for them, initialised as for users without data)."""
    r = train.ratings.tocoo()
    rng = np.random.default_rng(seed)
    if added == "ratings":
        keep = rng.random(r.nnz) >= fraction
    else:
        counts = np.bincount(r.row, minlength=train.n_users)
        order = rng.permutation(train.n_users)
        joined = order[:int(np.searchsorted(np.cumsum(counts[order]), fraction * r.nnz)) + 1]
        keep = ~np.isin(r.row, joined)
    old = sp.csr_matrix((r.data[keep], (r.row[keep], r.col[keep])), shape=r.shape)
    return train.with_ratings(old), int((~keep).sum())


def run(args):
    if args.dataset == "epinions":
        ds = sr.datasets.load_tang(_common.data_folder("epinions"))
    else:
        ds = _common.filmtrust()
    train, test = sr.split.train_test_split(ds, test_size=0.2, seed=0)
    rows = []
    for added, name in [(a, m) for a in (["ratings"] if args.quick else ["ratings", "users"])
                        for m in (QUICK_MODELS if args.quick else MODELS)]:
        old_data, n_added = hold_back(train, added)
        cls = getattr(sr, name)
        start = time.perf_counter()
        refit = cls(seed=0).fit(train)
        refit_s = time.perf_counter() - start
        refit_rmse = sr.metrics.rmse(refit, test)
        old = cls(seed=0).fit(old_data)
        old_rmse = sr.metrics.rmse(old, test)
        rows.append({"model": name, "added": added, "how": "old model (without them)", "epochs": old.epochs,
                     "rmse": round(old_rmse, 4), "ratio": round(old_rmse / refit_rmse, 4)})
        rows.append({"model": name, "added": added, "how": "full refit", "epochs": refit.epochs,
                     "rmse": round(refit_rmse, 4), "seconds": round(refit_s, 2), "ratio": 1.0})
        for e in WARM_EPOCHS[:3] if args.quick else WARM_EPOCHS:
            warm = copy.deepcopy(old).set_params(epochs=e)
            start = time.perf_counter()
            warm.fit(train, warm_start=True)
            seconds = time.perf_counter() - start
            value = sr.metrics.rmse(warm, test)
            rows.append({"model": name, "added": added, "how": "warm start", "epochs": e, "rmse": round(value, 4),
                         "seconds": round(seconds, 2), "ratio": round(value / refit_rmse, 4),
                         "epoch_fraction": round(e / refit.epochs, 3)})
            print(rows[-1], flush=True)
            rows[-1]["added_ratings"] = n_added
    return {"rows": rows, "columns": ["model", "added", "how", "epochs", "rmse", "ratio", "epoch_fraction",
                                      "seconds", "added_ratings"], "dataset": args.dataset}


def add_arguments(ap):
    ap.add_argument("--dataset", choices=["filmtrust", "epinions"], default="filmtrust")


if __name__ == "__main__":
    _common.main("warm_start_epinions" if "epinions" in sys.argv else "warm_start", run, add_arguments, doc=__doc__)
