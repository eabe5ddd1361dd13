"""User fold-in on FilmTrust (issue 17 item 1): how close does ``fold_in_users`` come to a full refit, and how
much faster is it?

    PYTHONPATH=python python bench/fold_in.py            # BiasedMF, SVDpp, SoReg, SocialMF, SoRec, TrustSVD
    PYTHONPATH=python python bench/fold_in.py --quick    # BiasedMF and SocialMF
    PYTHONPATH=python python bench/fold_in.py --dataset epinions   # bench/results/fold_in_epinions.json

Protocol (FilmTrust, or Epinions with ``--dataset epinions``). 10% of the users (``numpy.random.default_rng(0)``) are held out entirely: the model is fitted on the
other users' ratings and the trust edges among them. For m = 1, 3, 5, each held-out user with more than m
ratings on training items gives m of them (a seeded random order) plus every trust edge between it and the
training users or the other such users; the rest of its ratings are scored (RMSE). ``fold_in`` folds all of
them into the fitted model at once; the ``refit`` is the same model class fitted from scratch on the
training data plus those ratings and edges (it saw exactly the same interactions). m = 0 (social models
only): held-out users with at least one trust edge and nothing else, against the fitted model's
non-personalised answer for an unknown user (global mean + item bias: ``unknown_rmse``).

Times: ``fold_ms_per_user`` = the fold-in of all of them / their number; ``single_ms`` = folding one user
alone (the latency a new user sees; median over 5 users after a warm-up); ``refit_s`` = the refit;
``speedup`` = refit_s / single-user fold-in.
Nothing is asserted: the figures go to bench/results/fold_in.json and bench/README.md.
"""
from __future__ import annotations

import pickle
import sys
import time
import warnings

import numpy as np

import _common
import socialrec as sr

MODELS = ["BiasedMF", "SVDpp", "SoReg", "SocialMF", "SoRec", "TrustSVD"]
QUICK_MODELS = ["BiasedMF", "SocialMF"]


def split_users(ds, fraction=0.1, seed=0):
    rng = np.random.default_rng(seed)
    held = rng.permutation(ds.n_users)[:int(round(fraction * ds.n_users))]
    mask = np.zeros(ds.n_users, bool)
    mask[held] = True
    return mask


def pieces(ds, held, m, seed=0):
    """(train Dataset, given (u, i, r) raw, edges (s, d) raw, scored (u, i, r) raw) for m given ratings."""
    users, items, values = ds.user_item_arrays()
    src, dst, _ = ds.trust_arrays()
    known_items = np.zeros(ds.n_items, bool)
    known_items[items[~held[users]]] = True
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(users))
    users, items, values = users[order], items[order], values[order]
    ok = held[users] & known_items[items]
    counts = np.bincount(users[ok], minlength=ds.n_users)
    if m == 0:
        has_edge = np.zeros(ds.n_users, bool)
        has_edge[src[held[src] & ~held[dst]]] = True
        eligible = held & has_edge & (counts > 0)
    else:
        eligible = held & (counts > m)
    rank = np.zeros(len(users), np.int64)  # position of each rating among its user's usable ones
    usable = np.flatnonzero(ok)
    by_user = usable[np.argsort(users[usable], kind="stable")]  # each user's usable ratings, in the seeded order
    grouped = users[by_user]
    rank[by_user] = np.arange(len(by_user)) - np.searchsorted(grouped, grouped)
    use = ok & eligible[users]
    given, scored = use & (rank < m), use & (rank >= m)
    tr = ~held[users]
    train = sr.Dataset.from_raw(ds.user_ids[users[tr]], ds.item_ids[items[tr]], values[tr],
                                trust_src=ds.user_ids[src[~held[src] & ~held[dst]]],
                                trust_dst=ds.user_ids[dst[~held[src] & ~held[dst]]], rating_scale=ds.rating_scale)
    touch = (eligible[src] | eligible[dst]) & (eligible[src] | ~held[src]) & (eligible[dst] | ~held[dst])
    raw = lambda mask: (ds.user_ids[users[mask]], ds.item_ids[items[mask]], values[mask].astype(float))  # noqa
    return train, raw(given), (ds.user_ids[src[touch]], ds.user_ids[dst[touch]]), raw(scored), eligible


def rmse(model, scored):
    u, i, r = scored
    return float(np.sqrt(np.mean((model.predict(u, i) - r) ** 2)))


def run(args):
    warnings.simplefilter("ignore")
    if args.dataset == "epinions":
        ds = sr.datasets.load_tang(_common.data_folder("epinions"))
    else:
        ds = sr.datasets.load_filmtrust(_common.data_folder("filmtrust"), duplicates="mean")
    held = split_users(ds)
    rows = []
    for name in (QUICK_MODELS if args.quick else args.models.split(",") if args.models else MODELS):
        cls = getattr(sr, name)
        fitted = None
        for m in ([0, 1, 3, 5] if cls.uses_trust else [1, 3, 5]):
            train, given, edges, scored, eligible = pieces(ds, held, m)
            if fitted is None:
                fitted = cls(seed=0).fit(train)
            folded = pickle.loads(pickle.dumps(fitted))
            new_users = ds.user_ids[eligible]
            start = time.perf_counter()
            folded.fold_in_users(given, trust=edges)
            fold_s = time.perf_counter() - start
            single = []
            for one in new_users[:6]:  # the first is a warm-up (scipy's and NumPy's first calls)
                alone = pickle.loads(pickle.dumps(fitted))
                mine = given[0] == one
                own_edges = (((edges[0] == one) & ~np.isin(edges[1], new_users))
                             | ((edges[1] == one) & ~np.isin(edges[0], new_users)))
                start = time.perf_counter()
                alone.fold_in_users(tuple(a[mine] for a in given), trust=(edges[0][own_edges], edges[1][own_edges]))
                single.append(time.perf_counter() - start)
            single_s = float(np.median(single[1:]))
            tu, ti, tv = train.user_item_arrays()
            ts, td, _ = train.trust_arrays()
            refit_data = sr.Dataset.from_raw(
                np.concatenate([train.user_ids[tu], given[0]]), np.concatenate([train.item_ids[ti], given[1]]),
                np.concatenate([tv.astype(float), given[2]]),
                trust_src=np.concatenate([train.user_ids[ts], edges[0]]),
                trust_dst=np.concatenate([train.user_ids[td], edges[1]]), rating_scale=ds.rating_scale)
            start = time.perf_counter()
            refit = cls(seed=0).fit(refit_data)
            refit_s = time.perf_counter() - start
            row = {"model": name, "m": m, "users": int(len(new_users)), "scored": int(len(scored[2])),
                   "fold_rmse": round(rmse(folded, scored), 4), "refit_rmse": round(rmse(refit, scored), 4),
                   "fold_ms_per_user": round(1000 * fold_s / len(new_users), 3),
                   "single_ms": round(1000 * single_s, 3), "refit_s": round(refit_s, 2),
                   "speedup": int(refit_s / single_s)}
            row["rmse_ratio"] = round(row["fold_rmse"] / row["refit_rmse"], 4)
            if m == 0:
                parts = fitted._scoring()
                u, i, r = scored
                idx = fitted._query("item", i, "items", "raw")
                base = fitted._apply_link(parts["global_bias"] + np.asarray(parts["item_bias"], float)[idx])
                row["unknown_rmse"] = round(float(np.sqrt(np.mean((base - r) ** 2))), 4)
            rows.append(row)
            print(row, flush=True)
    columns = ["model", "m", "users", "scored", "fold_rmse", "refit_rmse", "rmse_ratio", "unknown_rmse",
               "fold_ms_per_user", "single_ms", "refit_s", "speedup"]
    return {"rows": rows, "columns": columns}


def add_arguments(ap):
    ap.add_argument("--dataset", choices=["filmtrust", "epinions"], default="filmtrust")
    ap.add_argument("--models", default=None, help="comma-separated model names (default: all of MODELS)")


if __name__ == "__main__":
    _common.main("fold_in_epinions" if "epinions" in sys.argv else "fold_in", run, add_arguments, doc=__doc__)
