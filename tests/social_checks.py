"""Checks shared by tests/test_sorec.py and tests/test_social_mf.py (the social rating models)."""
from __future__ import annotations

import numpy as np

import socialrec as sr


def split(homophily, seed):
    ds = sr.datasets.synthetic(homophily=homophily, seed=seed)
    return sr.split.train_test_split(ds, test_size=0.2, seed=0)


def rmse(model, train, test):
    return sr.metrics.rmse(model.fit(train), test)


def cold_trust_users(seed=4, n_cold=60):
    """Synthetic data where n_cold users with out-links have all their ratings moved to the test set."""
    ds = sr.datasets.synthetic(homophily=1.0, seed=seed)
    rng = np.random.default_rng(seed)
    candidates = np.flatnonzero((ds.trust.getnnz(axis=1) > 0) & (ds.ratings.getnnz(axis=1) > 0))
    cold = np.sort(rng.choice(candidates, size=n_cold, replace=False))
    r = ds.ratings.tocoo()
    is_cold = np.isin(r.row, cold)
    import scipy.sparse as sp

    keep = sp.csr_matrix((r.data[~is_cold], (r.row[~is_cold], r.col[~is_cold])), shape=r.shape)
    held = sp.csr_matrix((r.data[is_cold], (r.row[is_cold], r.col[is_cold])), shape=r.shape)
    return ds.with_ratings(keep), ds.with_ratings(held), cold


def without_trust(ds):
    import scipy.sparse as sp

    return sr.Dataset.from_sparse(ds.ratings, trust=sp.csr_matrix(ds.trust.shape, dtype=np.float32),
                                  rating_scale=ds.rating_scale)
