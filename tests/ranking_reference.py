"""A small NumPy top-N evaluation for the ranking-model tests (until ``sr.metrics.ranking`` lands on main):
NDCG@k over the users with held-out items, training items excluded, ties to the lower item index."""
from __future__ import annotations

import numpy as np

import socialrec as sr


def binarised(ds, threshold=None):
    """The dataset with every stored rating (``>= threshold`` when given, the rest dropped) set to 1."""
    r = ds.ratings.copy()
    if threshold is not None:
        r.data[r.data < threshold] = 0
        r.eliminate_zeros()
    r.data[:] = 1.0
    return ds.with_ratings(r)


def ndcg_at_k(model, test, k=10, users=None):
    """Mean NDCG@k of ``model`` (fitted on the training part) on ``test``; IDCG over min(k, |test_u|)."""
    test_rows = test.ratings.tocsr()
    if users is None:
        users = np.flatnonzero(np.diff(test_rows.indptr) > 0)
    top, _ = model.recommend(users, n=k, exclude_seen=True, ids="index")  # rows of test: indices
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    values = []
    for row, u in zip(top, users):
        held_out = test_rows.indices[test_rows.indptr[u]:test_rows.indptr[u + 1]]
        if held_out.size == 0:
            continue
        gains = np.isin(row, held_out)
        values.append(np.sum(gains * discount) / np.sum(discount[:min(k, held_out.size)]))
    return float(np.mean(values))


def homophily_split(seed=0, homophily=0.95, threshold=4.0, **kw):
    """``synthetic()`` data with strong social homophily, binarised (ratings >= ``threshold`` are the
    positives: which items a synthetic user rates follows popularity only, how high follows taste), split
    per user 80/20."""
    params = dict(n_users=1000, n_items=500, density=0.05, homophily=homophily, trust_per_user=8, seed=seed)
    params.update(kw)
    ds = binarised(sr.datasets.synthetic(**params), threshold)
    return sr.split.per_user_split(ds, 0.2, seed=seed)


class Popularity:
    """Most-popular baseline with the ``recommend`` interface that ``ndcg_at_k`` needs."""

    def __init__(self, train):
        self.seen = train.ratings.tocsr()
        self.counts = np.asarray(self.seen.sum(axis=0), dtype=np.float64).ravel()

    def recommend(self, users, n=10, exclude_seen=True, ids="index"):
        scores = np.tile(self.counts, (len(users), 1))
        for row, u in enumerate(users):
            scores[row, self.seen.indices[self.seen.indptr[u]:self.seen.indptr[u + 1]]] = -np.inf
        return np.argsort(-scores, axis=1, kind="stable")[:, :n], None
