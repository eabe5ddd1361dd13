"""ALS and SocialALS on LastFM's raw listen counts vs the binarised listens, at the defaults (issue 16, trap 9).

    python bench/als_counts.py             # the test figures: defaults, raw counts vs binarised
    python bench/als_counts.py --validate  # the choice of the default confidence rule (validation split only)

Protocol (PEERS.md, as accuracy_lastfm.py): ``per_user_split(ds, 0.2, seed=0)`` of the raw counts (the
binarised data is the same split with every value set to 1); ``factors=64``, every other hyper-parameter at
its default; NDCG@10 of ``sr.metrics.ranking(model, test, train=train)``, whose default counts every stored
test entry of a ranking model as relevant. ``--validate`` fits on ``per_user_split(train, 0.2, seed=1)`` of
the training part and scores the held-out fifth of it: the test part is never used for the choice.
Target: raw counts at the defaults within 5% of the binarised NDCG@10 (issue 16).
"""
from __future__ import annotations

import os

import _common

# --validate: the rules compared (confidence, epsilon) at the default alpha; "binarised" is the 0/1 data
RULES = [("linear", None), ("log", None), ("log", 1.0), ("log", 100.0), ("log", 1000.0)]


def _ndcg(sr, model, test, train):
    return sr.metrics.ranking(model, test, train=train, k=10)["ndcg"]


def _fit(cls, train, **params):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # confidence="linear" warns on raw counts (the point)
        return cls(factors=64, num_threads=2, **params).fit(train)


def run(args):
    import socialrec as sr

    ds = sr.datasets.load_lastfm(os.path.join(_common.SHARED_DATA, "lastfm"))
    train, test = sr.split.per_user_split(ds, 0.2, seed=0)
    rows, targets = [], []
    if args.validate:
        fit_part, held = sr.split.per_user_split(train, 0.2, seed=1)
        for cls in (sr.ALS, sr.SocialALS):
            rows.append({"model": cls.__name__, "data": "binarised", "confidence": "-", "epsilon": "-",
                         "validation ndcg@10": _ndcg(sr, _fit(cls, fit_part.binarized()), held, fit_part)})
            for confidence, epsilon in RULES:
                model = _fit(cls, fit_part, confidence=confidence, epsilon=epsilon)
                rows.append({"model": cls.__name__, "data": "raw counts", "confidence": confidence,
                             "epsilon": "-" if confidence == "linear" else "mean" if epsilon is None else epsilon,
                             "validation ndcg@10": _ndcg(sr, model, held, fit_part)})
        return {"rows": rows, "columns": ["model", "data", "confidence", "epsilon", "validation ndcg@10"]}
    for cls in (sr.ALS, sr.SocialALS):
        binary = _ndcg(sr, _fit(cls, train.binarized()), test, train.binarized())
        raw = _ndcg(sr, _fit(cls, train), test, train)
        linear = _ndcg(sr, _fit(cls, train, confidence="linear"), test, train)
        rows.append({"model": cls.__name__, "binarised (defaults)": binary, "raw counts (defaults)": raw,
                     "raw counts, confidence='linear'": linear})
        targets.append(_common.target(f"LastFM NDCG@10 of {cls.__name__} on raw counts, defaults, over binarised",
                                      f"{cls.__name__} binarised", raw / binary, 0.95, kind="accuracy",
                                      note=f"{raw:.4f} vs {binary:.4f}") | {"met": raw >= 0.95 * binary})
    return {"rows": rows, "targets": targets,
            "columns": ["model", "binarised (defaults)", "raw counts (defaults)", "raw counts, confidence='linear'"]}


def _arguments(ap):
    ap.add_argument("--validate", action="store_true", help="compare the confidence rules on a validation split")


if __name__ == "__main__":
    _common.main("als_counts", run, _arguments, __doc__)
