"""Friends-only users (issue 17): how much of the trustees should a user with no rating take? A diagnosis for
bench/README.md's fold-in section, not part of ``run.py``.

    PYTHONPATH=python python bench/friends_only.py                      # FilmTrust, SoReg and SocialMF (~1 min)
    PYTHONPATH=python python bench/friends_only.py --dataset epinions   # ~10 min on 2 loaded cores

The m = 0 users of bench/fold_in.py (held out, with trust edges to training users, no rating given) are folded
in; then their folded factor rows are scaled by s_f and their user bias (which the objective leaves free: no
rating and no social bias term, so fold-in keeps 0) is set to s_b times the mean bias of their known trustees.
s_f = 1, s_b = 0 is the fold-in; s_f = s_b = 0 is the unknown-user answer (global mean + item bias). RMSE on
their ratings for each (s_f, s_b).
"""
from __future__ import annotations

import pickle
import warnings

import numpy as np

import _common
import fold_in
import socialrec as sr

SCALES_F = (0.0, 0.25, 0.5, 1.0)
SCALES_B = (0.0, 0.25, 0.5)


def run(args):
    warnings.simplefilter("ignore")
    ds = fold_in.load(args)
    train, given, edges, scored, _ = fold_in.pieces(ds, fold_in.split_users(ds), 0)
    rows = []
    for name in args.models.split(","):
        fitted = getattr(sr, name)(seed=0).fit(train)
        folded = pickle.loads(pickle.dumps(fitted))
        folded.fold_in_users(given, trust=edges)
        n_old = fitted.n_users_
        src = folded._query("user", edges[0], "users", "raw")
        dst = folded._query("user", edges[1], "users", "raw")
        mine = (src >= n_old) & (dst < n_old)
        row = {"model": name, "users": int(len(np.unique(scored[0]))), "scored": int(len(scored[2]))}
        for s_f in SCALES_F:
            for s_b in SCALES_B:
                variant = pickle.loads(pickle.dumps(folded))
                p = {k: np.array(v) for k, v in variant.parameters_.items()}
                p["user_factors"][n_old:] *= s_f
                total = np.bincount(src[mine], weights=p["user_bias"][dst[mine]], minlength=variant.n_users_)
                count = np.bincount(src[mine], minlength=variant.n_users_)
                has = np.flatnonzero((count > 0) & (np.arange(variant.n_users_) >= n_old))
                p["user_bias"][has] = s_b * total[has] / count[has]
                variant.parameters_ = p
                variant._invalidate()
                row[f"f{s_f:g}_b{s_b:g}"] = round(fold_in.rmse(variant, scored), 4)
        rows.append(row)
        print(row, flush=True)
    columns = ["model", "users", "scored"] + [f"f{f:g}_b{b:g}" for f in SCALES_F for b in SCALES_B]
    return {"rows": rows, "columns": columns}


def add_arguments(ap):
    ap.add_argument("--dataset", choices=["filmtrust", "epinions"], default="filmtrust")
    ap.add_argument("--models", default="SoReg,SocialMF")


if __name__ == "__main__":
    import sys

    _common.main("friends_only_epinions" if "epinions" in sys.argv else "friends_only", run, add_arguments,
                 doc=__doc__)
