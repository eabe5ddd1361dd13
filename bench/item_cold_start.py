"""Item cold start on LastFM-2k (issue 17): artists nobody in the training data listened to, ranked from their
tags or their names.

    PYTHONPATH=python python bench/item_cold_start.py            # ALS and BPR, k=64; LightFM if installed
    PYTHONPATH=python python bench/item_cold_start.py --quick    # ALS only, k=32, 8 alternations, no tags+names (under a minute)
    PYTHONPATH=python python bench/item_cold_start.py --fold-in  # fold_in_items from 0/1/3 listens: item_cold_start_fold_in.json

Protocol. LastFM-2k with every listen set to 1. 10% of the artists (``numpy.random.default_rng(0)``) are held
out entirely: the models train on every other (user, artist) pair and never see a held-out artist's listens.
Every user with at least one held-out listen is scored on the held-out artists only: NDCG@10 of the ranking
of all held-out artists against that user's held-out listens, and AUC (the probability that a held-out artist
the user listened to scores above one the user did not), averaged over users.

Features (``fit(train, item_features=F)``; socialrec's feature prior is post-hoc, models/_features.py: the
trained factors and biases of the warm artists are ridge-regressed on their features, and a held-out artist
gets the mapped row of its features):
  * none: the plain model; a held-out artist keeps the row a fresh fit gives an artist without data (zero for
    ALS: every held-out artist scores the same, AUC 0.5);
  * tags: ``load_lastfm(item_features=True).tags`` (user-assigned tags, 1 + log count, unit rows); 69% of
    the artists have a tag;
  * names: ``sr.features.text_embeddings(names)`` (WordLlama 256-d, offline), every artist has a name;
  * tags+names: both side by side.
``--fold-in``: the held-out artists are unknown to the model (trained on the other artists, with the tag
features of those only), then join by ``fold_in_items`` from m = 0, 1, 3 of their listens (the first m of a
seeded order of each artist's listeners), without features (the plain fold-in; m = 0: no row, every held-out
artist ties) or with ``item_features=tags`` (the fitted tag map's prior c + W^T x, the fold-in moving the row
from there), next to the post-hoc prior alone (the tags row of the table above, unchanged by listens). The
given (user, artist) pairs are left out of the score (their score set to -inf, not positives). ALS only: BPR's
item row holds the artist as a negative of every user's every positive (~90k rows an artist here).

For scale, LightFM's published item cold start on StackExchange (its ``examples/stackexchange`` notebook):
AUC .347 without features (identity features of cold items) and .703 with tag features -- another data
set and metric pool, so a reference for the size of the lift, not a comparison. LightFM itself runs on the
same split here when it imports (WARP, tag features only, so that held-out artists have a representation).
"""
from __future__ import annotations

import pickle
import time

import numpy as np
import scipy.sparse as sp

import _common
import socialrec as sr

LIGHTFM_PUBLISHED = {"without features": 0.347, "with tag features": 0.703}


def split_items(ds, fraction=0.1, seed=0):
    """(train Dataset, held-out mask of items, test CSR users x items of the held-out listens)."""
    rng = np.random.default_rng(seed)
    held = np.zeros(ds.n_items, bool)
    held[rng.permutation(ds.n_items)[:int(round(fraction * ds.n_items))]] = True
    r = ds.ratings.tocoo()
    keep = ~held[r.col]
    train = ds.with_ratings(sp.csr_matrix((r.data[keep], (r.row[keep], r.col[keep])), shape=r.shape))
    test = sp.csr_matrix((r.data[~keep], (r.row[~keep], r.col[~keep])), shape=r.shape)
    return train, held, test


def cold_scores(model, users, cold_items):
    """Scores (users x held-out items) as the model ranks them: item_bias + user_vector . item_vector."""
    parts = model._scoring()
    U = np.asarray(parts["user_vectors"], np.float64)[users]
    V = np.asarray(parts["item_vectors"], np.float64)[cold_items]
    b = np.asarray(parts["item_bias"], np.float64)[cold_items]
    return U @ V.T + b


def quality(scores, truth, k=10):
    """Mean NDCG@k and AUC over rows (``truth`` boolean, same shape; every row has a positive)."""
    order = np.argsort(-scores, axis=1, kind="stable")
    hits = np.take_along_axis(truth, order[:, :k], axis=1)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.array([discount[:min(n, k)].sum() for n in truth.sum(axis=1)])
    ndcg = (hits * discount).sum(axis=1) / ideal
    # AUC by ranks: (sum of positive ranks - n_pos (n_pos + 1) / 2) / (n_pos n_neg), ties as half
    from scipy.stats import rankdata

    ranks = rankdata(scores, axis=1)
    n_pos = truth.sum(axis=1)
    n_neg = truth.shape[1] - n_pos
    auc = ((ranks * truth).sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return float(ndcg.mean()), float(auc.mean())


def lightfm_row(train, tags, held, users, truth, quick):
    """LightFM (WARP) with tag features only, on the same split; None when lightfm does not import."""
    try:
        from lightfm import LightFM
    except ImportError as e:
        return {"model": "LightFM (tags)", "note": f"not installed ({_common.error_text(e)})"}
    X = tags.rows_for(train.item_ids).tocsr().astype(np.float32)
    interactions = sp.coo_matrix(train.ratings)
    start = time.perf_counter()
    m = LightFM(no_components=32 if quick else 64, loss="warp", random_state=0)
    m.fit(interactions, item_features=X, epochs=10 if quick else 30, num_threads=2)
    fit_s = time.perf_counter() - start
    cold = np.flatnonzero(held)
    scores = np.vstack([m.predict(int(u), cold, item_features=X, num_threads=2) for u in users])
    ndcg, auc = quality(scores, truth)
    return {"model": "LightFM (tags)", "features": "tags", "ndcg@10": round(ndcg, 4), "auc": round(auc, 4),
            "fit_s": round(fit_s, 1)}


def load_binary():
    """(LastFM with every listen set to 1, its artist features)."""
    ds, artists = sr.datasets.load_lastfm(_common.data_folder("lastfm"), item_features=True)
    r = ds.ratings.copy()
    r.data[:] = 1.0
    return ds.with_ratings(r), artists


def run(args):
    ds, artists = load_binary()
    train, held, test = split_items(ds)
    users = np.flatnonzero(test.getnnz(axis=1) > 0)
    cold = np.flatnonzero(held)
    truth = test[users][:, cold].toarray() > 0
    start = time.perf_counter()
    names = sr.features.text_embeddings(artists.names, artists.ids)
    embed_s = time.perf_counter() - start
    both = sr.features.Features(sp.hstack([artists.tags.rows_for(artists.ids), sp.csr_matrix(
        names.matrix.astype(np.float64))]).tocsr(), artists.ids)
    feature_sets = {"none": None, "tags": artists.tags, "names": names, "tags+names": both}
    if args.quick:
        del feature_sets["tags+names"]
    k = 32 if args.quick else 64
    models = {"ALS": dict(alpha=9.0, regularization=50.0, cg_steps=3, epochs=8 if args.quick else 15)}
    if not args.quick:
        models["BPR"] = dict(learning_rate=0.05, regularization=0.005, bias_regularization=0.005, init_std=0.01,
                             epochs=100)
    rows = []
    for name, settings in models.items():
        for label, features in feature_sets.items():
            start = time.perf_counter()
            model = getattr(sr, name)(factors=k, seed=0, num_threads=2, **settings)
            model.fit(train, item_features=features)
            fit_s = time.perf_counter() - start
            ndcg, auc = quality(cold_scores(model, users, cold), truth)
            row = {"model": name, "features": label, "ndcg@10": round(ndcg, 4), "auc": round(auc, 4),
                   "cold_with_features": getattr(model, "item_feature_fit_", {}).get("cold_rows", 0),
                   "fit_s": round(fit_s, 1)}
            rows.append(row)
            print(row, flush=True)
    if not args.quick:
        rows.append(lightfm_row(train, artists.tags, held, users, truth, args.quick))
        print(rows[-1], flush=True)
    for label, auc in LIGHTFM_PUBLISHED.items():
        rows.append({"model": "LightFM published (StackExchange)", "features": label, "auc": auc})
    return {"rows": rows, "columns": ["model", "features", "ndcg@10", "auc", "cold_with_features", "fit_s", "note"],
            "held_out_artists": int(len(cold)), "scored_users": int(len(users)),
            "held_out_listens": int(test.nnz), "embedding_s": round(embed_s, 1), "factors": k}


def given_listens(test, cold, m, seed=0):
    """(users, items) of the first m listeners of each held-out artist in a seeded order (all when fewer)."""
    rng = np.random.default_rng(seed)
    csc = test.tocsc()
    users, items = [], []
    for i in cold:
        listeners = csc.indices[csc.indptr[i]:csc.indptr[i + 1]]
        pick = rng.permutation(listeners)[:m]
        users.extend(pick.tolist())
        items.extend([i] * len(pick))
    return np.array(users, np.int64), np.array(items, np.int64)


def fold_in_run(args):
    """The --fold-in protocol (module docstring)."""
    ds, artists = load_binary()
    _, held, test = split_items(ds)
    warm = np.flatnonzero(~held)
    cold = np.flatnonzero(held)
    r = ds.ratings[:, warm].tocsr()
    known = sr.Dataset.from_sparse(r, ds.trust, item_ids=ds.item_ids[warm], user_ids=ds.user_ids)
    tags = artists.tags
    warm_tags = sr.features.Features(tags.rows_for(ds.item_ids[warm]), ds.item_ids[warm])
    cold_tags = sr.features.Features(tags.rows_for(ds.item_ids[cold]), ds.item_ids[cold])
    users = np.flatnonzero(test.getnnz(axis=1) > 0)
    k = 32 if args.quick else 64
    settings = dict(alpha=9.0, regularization=50.0, cg_steps=3, epochs=8 if args.quick else 15)
    start = time.perf_counter()
    base = sr.ALS(factors=k, seed=0, num_threads=2, **settings).fit(known, item_features=warm_tags)
    fit_s = time.perf_counter() - start
    fmap = base.item_feature_map_
    X = cold_tags.matrix
    has_tags = np.asarray(abs(X).sum(axis=1)).ravel() > 0
    prior_only = np.where(has_tags[:, None], np.asarray(X @ fmap["weights"]) + fmap["intercept"], 0.0)
    rows = []
    for m in (0, 1, 3):
        gu, gi = given_listens(test, cold, m)
        truth = test.copy().tolil()
        truth[gu, gi] = 0
        truth = truth.tocsr()
        truth.eliminate_zeros()
        scored = np.flatnonzero(truth[users][:, cold].getnnz(axis=1) > 0)
        t = truth[users[scored]][:, cold].toarray() > 0
        given_mask = sp.csr_matrix((np.ones(len(gu)), (gu, gi)), shape=ds.ratings.shape)[users[scored]][:, cold]
        variants = [("fold-in, no features", None), ("fold-in from the tags prior", cold_tags)]
        if m == 0:  # the prior itself, not moved by the fold-in's objective (= the post-hoc prior of fit)
            variants.append(("tags prior only (no fold-in)", "prior"))
        for label, features in variants:
            model = pickle.loads(pickle.dumps(base))
            start = time.perf_counter()
            if (features is not None and not isinstance(features, str)) or len(gu):
                model.fold_in_items((ds.user_ids[gu], ds.item_ids[gi], np.ones(len(gu))), item_features=features)
            fold_s = time.perf_counter() - start
            item_pos = {x: j for j, x in enumerate(model.item_ids_.tolist())}
            user_pos = {x: j for j, x in enumerate(model.user_ids_.tolist())}
            idx = np.array([item_pos.get(x, -1) for x in ds.item_ids[cold].tolist()])
            parts = model._scoring()
            U = np.asarray(parts["user_vectors"], np.float64)[[user_pos[x] for x in ds.user_ids[users[scored]].tolist()]]
            V = np.zeros((len(cold), U.shape[1]))
            V[idx >= 0] = np.asarray(parts["item_vectors"], np.float64)[idx[idx >= 0]]
            if isinstance(features, str):
                V = prior_only
            scores = U @ V.T
            scores[given_mask.toarray() > 0] = -np.inf
            ndcg, auc = quality(scores, t)
            row = {"model": "ALS", "m": m, "variant": label, "ndcg@10": round(ndcg, 4), "auc": round(auc, 4),
                   "scored_users": int(len(scored)), "given": int(len(gu)),
                   "fold_ms_per_artist": round(1000 * fold_s / len(cold), 3)}
            rows.append(row)
            print(row, flush=True)
    return {"rows": rows, "columns": ["model", "m", "variant", "ndcg@10", "auc", "scored_users", "given",
                                      "fold_ms_per_artist"], "fit_s": round(fit_s, 1), "factors": k,
            "held_out_artists": int(len(cold)), "cold_with_tags": int(np.sum(np.asarray(abs(
                cold_tags.matrix).sum(axis=1)).ravel() > 0))}


def add_arguments(ap):
    ap.add_argument("--fold-in", action="store_true", help="fold_in_items from 0/1/3 listens (module docstring)")


if __name__ == "__main__":
    import sys

    fold = "--fold-in" in sys.argv
    _common.main("item_cold_start_fold_in" if fold else "item_cold_start",
                 lambda a: fold_in_run(a) if a.fold_in else run(a), add_arguments, doc=__doc__)
