"""A small NumPy ranking evaluation for the implicit-feedback model tests (until sr.metrics.ranking lands):
NDCG@k over the users with test interactions, training items excluded, ties to the lower item index."""
from __future__ import annotations

import numpy as np

import socialrec as sr


def liked(ds, threshold):
    """Binarise ``ds``: keep the ratings >= threshold as positive interactions (value 1)."""
    r = ds.ratings.tocsr().copy()
    r.data = (r.data >= threshold).astype(np.float32)
    r.eliminate_zeros()
    return ds.with_ratings(r)


def ndcg_at_k(model, test, k=10):
    """Mean NDCG@k of ``model.recommend`` (training items excluded) against ``test``'s interactions; the
    ideal DCG counts min(k, |T_u|) hits."""
    t = test.ratings.tocsr()
    users = np.flatnonzero(np.diff(t.indptr) > 0)
    ids, _ = model.recommend(users, n=k, exclude_seen=True, ids="index")  # rows of test: indices
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    hits = np.zeros(ids.shape, dtype=bool)
    for row, u in enumerate(users):
        hits[row] = np.isin(ids[row], t.indices[t.indptr[u]:t.indptr[u + 1]])
    ideal = np.cumsum(discount)[np.minimum(np.diff(t.indptr)[users], k) - 1]
    return float(np.mean((hits * discount).sum(axis=1) / ideal))


# Hyper-parameters that rank well on homophily_data() (regularisation matters on data this sparse).
RANKING_PARAMS = {"factors": 10, "epochs": 50, "learning_rate": 0.05, "regularization": 0.05}


def homophily_data(seed=0, homophily=0.9):
    """Synthetic data with strong social homophily (1,000 users, 500 items), binarised at 3.5 stars (about 15
    positives per user), split per user 80/20."""
    ds = liked(sr.datasets.synthetic(n_users=1000, n_items=500, density=0.1, homophily=homophily, seed=seed), 3.5)
    return sr.split.per_user_split(ds, 0.2, seed=0)
