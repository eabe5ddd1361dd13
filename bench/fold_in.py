"""User fold-in on FilmTrust, Epinions and LastFM (issue 17 item 1): how close does ``fold_in_users`` come to a
full refit, and how much faster is it?

    PYTHONPATH=python python bench/fold_in.py            # BiasedMF, SVDpp, SoReg, SocialMF, SoRec, TrustSVD
    PYTHONPATH=python python bench/fold_in.py --quick    # BiasedMF and SocialMF
    PYTHONPATH=python python bench/fold_in.py --dataset epinions   # bench/results/fold_in_epinions.json
    PYTHONPATH=python python bench/fold_in.py --dataset lastfm     # BPR, SBPR, ALS, SocialALS: fold_in_lastfm.json
    PYTHONPATH=python python bench/fold_in.py --dataset lastfm --quick   # ALS and SocialALS

Protocol (FilmTrust, or Epinions with ``--dataset epinions``). 10% of the users (``numpy.random.default_rng(0)``) are held out entirely: the model is fitted on the
other users' ratings and the trust edges among them. For m = 1, 3, 5, each held-out user with more than m
ratings on training items gives m of them (a seeded random order) plus every trust edge between it and the
training users or the other such users; the rest of its ratings are scored (RMSE). ``fold_in`` folds all of
them into the fitted model at once; the ``refit`` is the same model class fitted from scratch on the
training data plus those ratings and edges (it saw exactly the same interactions). m = 0 (social models
only): held-out users with at least one trust edge and nothing else, against the fitted model's
non-personalised answer for an unknown user (global mean + item bias: ``unknown_rmse``).

LastFM (``--dataset lastfm``): listens binarised (PEERS.md), the ranking models at the settings
bench/accuracy_lastfm.py chose on validation (k = 64; ``--epochs`` caps BPR/SBPR's epochs), one listen = one
interaction; the score is NDCG@10 (``sr.metrics.ranking``: all items ranked, the given ones excluded) on the
rest of the held-out user's artists. The baseline is most-popular (training listen counts, the given artists
excluded, the same NDCG@10): ``popular_ndcg``, reported at every m. BPR and SBPR fold a row by damped Newton
over every (own, other) item pair -- 0.5 s (BPR) and 7-17 s (SBPR: its friends' items x the rest) a user
here -- so they fold in and score only the first ``--pair-users`` (12) eligible users, the same users for
both; their refit still sees every eligible user's interactions. BLAS runs on one thread throughout.

m = 0 on FilmTrust/Epinions also reports a diagnosis (``friends_only_variants``): the RMSE with the folded
factor rows set to 0 and with the user bias set to the trustees' mean bias.

Times: ``fold_ms_per_user`` = the fold-in of all of them / their number; ``single_ms`` = folding one user
alone (the latency a new user sees; median over 5 users after a warm-up, 2 for LastFM's BPR/SBPR); ``refit_s`` = the refit;
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
LASTFM_MODELS = ["BPR", "SBPR", "ALS", "SocialALS"]
LASTFM_QUICK = ["ALS", "SocialALS"]


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


def ndcg(model, scored):
    """NDCG@10 of ``model``'s top lists on the scored listens (raw ids), its seen items (training or given)
    excluded."""
    import pandas as pd

    u, i, r = scored
    frame = pd.DataFrame({"user": u, "item": i, "rating": r})
    return float(sr.metrics.ranking(model, frame, users=np.unique(u), k=10)["ndcg"])


def popular_ndcg(train, given, scored, k=10):
    """NDCG@10 of most-popular (training listen counts, ties to the lower index) for each scored user, the
    user's given items excluded; IDCG over min(k, |T_u|) positions as ``sr.metrics.ranking``."""
    counts = np.bincount(train.user_item_arrays()[1], minlength=train.n_items).astype(float)
    index = {v: j for j, v in enumerate(train.item_ids.tolist())}
    order = np.lexsort((np.arange(train.n_items), -counts))
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    values = []
    for user in np.unique(scored[0]):
        mine = {index[v] for v in given[1][given[0] == user].tolist()}
        top = [j for j in order[:k + len(mine)] if j not in mine][:k]
        truth = {index[v] for v in scored[1][scored[0] == user].tolist()}
        dcg = sum(discount[r] for r, j in enumerate(top) if j in truth)
        values.append(dcg / discount[:min(k, len(truth))].sum())
    return float(np.mean(values))


def load(args):
    if args.dataset == "epinions":
        return sr.datasets.load_tang(_common.data_folder("epinions"))
    if args.dataset == "lastfm":
        return _common.lastfm_binary()
    return sr.datasets.load_filmtrust(_common.data_folder("filmtrust"), duplicates="mean")


def factory(name, args):
    """A new model of class ``name`` (LastFM: accuracy_lastfm's validated setting, BPR/SBPR epochs capped)."""
    cls = getattr(sr, name)
    if args.dataset != "lastfm":
        return lambda: cls(seed=0)
    from accuracy_lastfm import K, SETTINGS

    setting = dict(SETTINGS[f"socialrec {name}"][0])
    if "epochs" in setting:
        setting["epochs"] = min(setting["epochs"], args.epochs)
    extra = {"cg_steps": 3, "epochs": 15} if "ALS" in name else {}
    return lambda: cls(factors=K, seed=0, **{**extra, **setting})


def model_names(args):
    if args.models:
        return args.models.split(",")
    if args.dataset == "lastfm":
        return LASTFM_QUICK if args.quick else LASTFM_MODELS
    return QUICK_MODELS if args.quick else MODELS


def run(args):
    warnings.simplefilter("ignore")
    ds = load(args)
    ranking = args.dataset == "lastfm"
    score, metric = (ndcg, "ndcg") if ranking else (rmse, "rmse")
    held = split_users(ds)
    rows = []
    with _common.blas_one_thread():  # two threads on two loaded cores made one 64x64 Gramian take 0.06-1.6 s
        for name in model_names(args):
            rows.extend(compare(ds, held, name, args, score, metric, ranking))
    baseline = ["popular_ndcg"] if ranking else ["unknown_rmse", "zero_factor_rmse", "trustee_bias_rmse"]
    columns = ["model", "m", "users", "scored", f"fold_{metric}", f"refit_{metric}", f"{metric}_ratio", *baseline,
               "fold_ms_per_user", "single_ms", "refit_s", "speedup"]
    return {"rows": rows, "columns": columns}


def compare(ds, held, name, args, score, metric, ranking):
    """The rows of one model: fold-in vs refit for each m."""
    cls, make = getattr(sr, name), factory(name, args)
    rows, fitted = [], None
    counts = [0, 1, 3, 5] if not (ranking and args.quick) else [0, 1]  # LastFM --quick: m <= 1
    if args.counts:
        counts = [int(c) for c in args.counts.split(",")]
    for m in (counts if cls.uses_trust else [c for c in counts if c]):
        train, given, edges, scored, eligible = pieces(ds, held, m)
        given_all, edges_all = given, edges
        if name in ("BPR", "SBPR") and args.pair_users:  # their rows take seconds each: a subset of the users
            eligible, given, edges, scored = first_users(ds, eligible, given, edges, scored, args.pair_users)
        if fitted is None:
            fitted = make().fit(train)
        folded = pickle.loads(pickle.dumps(fitted))
        new_users = ds.user_ids[eligible]
        start = time.perf_counter()
        folded.fold_in_users(given, trust=edges)
        fold_s = time.perf_counter() - start
        single = []
        tries = 3 if name in ("BPR", "SBPR") and ranking else 6
        for one in new_users[:tries]:  # the first is a warm-up (scipy's and NumPy's first calls)
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
        refit_data = sr.Dataset.from_raw(  # the refit sees every eligible user's interactions and edges
            np.concatenate([train.user_ids[tu], given_all[0]]), np.concatenate([train.item_ids[ti], given_all[1]]),
            np.concatenate([tv.astype(float), given_all[2]]),
            trust_src=np.concatenate([train.user_ids[ts], edges_all[0]]),
            trust_dst=np.concatenate([train.user_ids[td], edges_all[1]]), rating_scale=ds.rating_scale)
        start = time.perf_counter()
        refit = make().fit(refit_data)
        refit_s = time.perf_counter() - start
        row = {"model": name, "m": m, "users": int(len(new_users)), "scored": int(len(scored[2])),
               f"fold_{metric}": round(score(folded, scored), 4),
               f"refit_{metric}": round(score(refit, scored), 4),
               "fold_ms_per_user": round(1000 * fold_s / len(new_users), 3),
               "single_ms": round(1000 * single_s, 3), "refit_s": round(refit_s, 2),
               "speedup": int(refit_s / single_s)}
        row[f"{metric}_ratio"] = round(row[f"fold_{metric}"] / row[f"refit_{metric}"], 4)
        if ranking:
            row["popular_ndcg"] = round(popular_ndcg(train, given, scored), 4)
        elif m == 0:
            parts = fitted._scoring()
            u, i, r = scored
            idx = fitted._query("item", i, "items", "raw")
            base = fitted._apply_link(parts["global_bias"] + np.asarray(parts["item_bias"], float)[idx])
            row["unknown_rmse"] = round(float(np.sqrt(np.mean((base - r) ** 2))), 4)
            row.update(friends_only_variants(fitted, folded, edges, scored))
        rows.append(row)
        print(row, flush=True)
    return rows


def first_users(ds, eligible, given, edges, scored, n):
    """The pieces restricted to the first ``n`` eligible users (index order): their given interactions, the
    edges between them and training users, their scored interactions."""
    keep = np.zeros(len(eligible), bool)
    keep[np.flatnonzero(eligible)[:n]] = True
    users = set(ds.user_ids[keep].tolist())
    others = set(ds.user_ids[eligible & ~keep].tolist())
    mine = lambda a: np.array([v in users for v in a.tolist()], bool)  # noqa: E731
    not_other = lambda a: np.array([v not in others for v in a.tolist()], bool)  # noqa: E731
    e = (mine(edges[0]) | mine(edges[1])) & not_other(edges[0]) & not_other(edges[1])
    g, sc = mine(given[0]), mine(scored[0])
    return keep, tuple(a[g] for a in given), (edges[0][e], edges[1][e]), tuple(a[sc] for a in scored)


def friends_only_variants(fitted, folded, edges, scored):
    """Why a friends-only user's fold-in scores as it does (a diagnosis, not a model): the RMSE with the folded
    users' factor rows set to 0 (``zero_factor_rmse``: what the social factor adds), and with their user bias,
    which the objective leaves free (no rating, no social bias term: fold-in keeps the least-norm 0), set to
    the mean bias of their known trustees (``trustee_bias_rmse``)."""
    if "user_bias" not in folded.parameters_:
        return {}
    n_old = fitted.n_users_
    src = folded._query("user", edges[0], "users", "raw")
    dst = folded._query("user", edges[1], "users", "raw")
    out = {}
    for what in ("zero_factor", "trustee_bias"):
        variant = pickle.loads(pickle.dumps(folded))
        params = {k: np.array(v) for k, v in variant.parameters_.items()}
        if what == "zero_factor":
            params["user_factors"][n_old:] = 0.0
        else:
            mine = (src >= n_old) & (dst < n_old)
            total = np.bincount(src[mine], weights=params["user_bias"][dst[mine]], minlength=variant.n_users_)
            count = np.bincount(src[mine], minlength=variant.n_users_)
            has = np.flatnonzero((count > 0) & (np.arange(variant.n_users_) >= n_old))
            params["user_bias"][has] = total[has] / count[has]
        variant.parameters_ = params
        variant._invalidate()
        out[f"{what}_rmse"] = round(rmse(variant, scored), 4)
    return out


def add_arguments(ap):
    ap.add_argument("--dataset", choices=["filmtrust", "epinions", "lastfm"], default="filmtrust")
    ap.add_argument("--epochs", type=int, default=400, help="LastFM: BPR/SBPR epochs at most (their validated "
                                                          "setting has 1,600; a refit per m at that is slow)")
    ap.add_argument("--pair-users", type=int, default=12, help="LastFM BPR/SBPR: fold in and score the first N "
                                                              "eligible users only (0: all); the refit sees all")
    ap.add_argument("--models", default=None, help="comma-separated model names (default: all of MODELS)")
    ap.add_argument("--counts", default=None, help="comma-separated m (interactions given; default 0,1,3,5)")


if __name__ == "__main__":
    name = next((f"fold_in_{d}" for d in ("epinions", "lastfm") if d in sys.argv), "fold_in")
    _common.main(name, run, add_arguments, doc=__doc__)
