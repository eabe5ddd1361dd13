"""Data and baselines of the ranking-model tests: binarised ``synthetic()`` splits with planted homophily, the
most-popular baseline as a model, and ``ndcg`` (``sr.metrics.ranking``'s NDCG@k).

``ndcg_at_k`` is the same NDCG@k written in NumPy over the model's own ``recommend`` lists, for the device
tests (tests/test_cuda_fake_device.py, tests/gpu/), which check a CUDA model's ``recommend``.
"""
from __future__ import annotations

import numpy as np

import socialrec as sr

# Hyper-parameters of BPR and SBPR that rank well on homophily_data() (regularisation matters on data this
# sparse).
RANKING_PARAMS = {"factors": 10, "epochs": 50, "learning_rate": 0.05, "regularization": 0.05}


def binarised(ds, threshold=None):
    """The dataset with every stored rating (``>= threshold`` when given, the rest dropped) set to 1."""
    r = ds.ratings.copy()
    if threshold is not None:
        r.data[r.data < threshold] = 0
        r.eliminate_zeros()
    r.data[:] = 1.0
    return ds.with_ratings(r)


def homophily_split(seed=0, homophily=0.95, threshold=4.0, **kw):
    """``synthetic()`` data with strong social homophily, binarised (ratings >= ``threshold`` are the
    positives: which items a synthetic user rates follows popularity only, how high follows taste), split
    per user 80/20."""
    params = dict(n_users=1000, n_items=500, density=0.05, homophily=homophily, trust_per_user=8, seed=seed)
    params.update(kw)
    ds = binarised(sr.datasets.synthetic(**params), threshold)
    return sr.split.per_user_split(ds, 0.2, seed=seed)


def homophily_data(seed=0, homophily=0.9):
    """The BPR/SBPR data: ``synthetic(n_users=1000, n_items=500, density=0.1)`` at the given homophily,
    binarised at 3.5 stars (about 15 positives per user), split per user 80/20."""
    return homophily_split(seed=seed, homophily=homophily, threshold=3.5, density=0.1)


def ndcg(model, test, k=10):
    """Mean NDCG@k of a fitted model on ``test`` (its training items excluded): ``sr.metrics.ranking``."""
    return sr.metrics.ranking(model, test, k=k)["ndcg"]


def popularity(train):
    """The most-popular baseline as a fitted model, so that ``sr.metrics.ranking`` ranks it like any other:
    a BPR with zero user factors whose item bias is the item's number of training interactions (ties to the
    lower item index, training items excluded, as for every model)."""
    model = sr.BPR(epochs=0).fit(train)
    model.parameters_["user_factors"][:] = 0
    model.parameters_["item_bias"][:] = np.diff(train.ratings.tocsc().indptr)
    model._invalidate()
    return model


def ndcg_at_k(model, test, k=10, users=None):
    """Mean NDCG@k of ``model.recommend`` (training items excluded) on ``test``, written out in NumPy; equal
    to ``ndcg``. IDCG counts min(k, |test_u|) hits; users without test items are left out."""
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
