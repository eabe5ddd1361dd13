"""Shared set-ups and checks of the social rating model tests (SoRec, SocialMF, SoReg, RSTE, TrustMF, TrustSVD
and test_models.py::test_beats_its_base)."""
from __future__ import annotations

import functools

import numpy as np
import pytest
import scipy.sparse as sp

import socialrec as sr


def one_thread(cls):
    """``cls`` with ``num_threads=1`` unless a call passes its own: the suite runs on shared, loaded cores,
    so a test uses more threads only when it is about threads."""
    return functools.partial(cls, num_threads=1)


@functools.lru_cache(maxsize=None)
def homophily_split(homophily, seed=0):
    """``sr.datasets.synthetic(homophily=homophily, seed=seed)`` (1000 users, 500 items, planted communities),
    split 80/20 with split seed 0."""
    ds = sr.datasets.synthetic(homophily=homophily, seed=seed)
    return sr.split.train_test_split(ds, test_size=0.2, seed=0)


def rmse(model, train, test):
    """Held-out RMSE of ``model`` fitted on ``train``."""
    return sr.metrics.rmse(model.fit(train), test)


def held_out_rmse(model, homophily):
    """Held-out RMSE of ``model`` on ``homophily_split(homophily)``."""
    return rmse(model, *homophily_split(homophily))


def with_trust_only_users(ds, users):
    """``ds`` with every rating of ``users`` removed (they keep their trust edges)."""
    u, i, v = ds.user_item_arrays()
    keep = ~np.isin(u, users)
    src, dst, t = ds.trust_arrays()
    return sr.Dataset.from_arrays(u[keep], i[keep], v[keep], trust_src=src, trust_dst=dst, trust_values=t,
                                  n_users=ds.n_users, n_items=ds.n_items, rating_scale=ds.rating_scale)


def cold_trust_users(seed=4, n_cold=60):
    """Synthetic data where n_cold users with out-links have all their ratings moved to the test set:
    ``(train, held, cold)``."""
    ds = sr.datasets.synthetic(homophily=1.0, seed=seed)
    rng = np.random.default_rng(seed)
    candidates = np.flatnonzero((ds.trust.getnnz(axis=1) > 0) & (ds.ratings.getnnz(axis=1) > 0))
    cold = np.sort(rng.choice(candidates, size=n_cold, replace=False))
    r = ds.ratings.tocoo()
    is_cold = np.isin(r.row, cold)
    keep = sp.csr_matrix((r.data[~is_cold], (r.row[~is_cold], r.col[~is_cold])), shape=r.shape)
    held = sp.csr_matrix((r.data[is_cold], (r.row[is_cold], r.col[is_cold])), shape=r.shape)
    return ds.with_ratings(keep), ds.with_ratings(held), cold


def without_trust(ds):
    """``ds`` with an empty trust graph."""
    return sr.Dataset.from_sparse(ds.ratings, trust=sp.csr_matrix(ds.trust.shape, dtype=np.float32),
                                  rating_scale=ds.rating_scale)


def with_unrated_item(ds):
    """``ds`` with one more item, which nobody rates (its factors stay 0)."""
    users, items, values = ds.user_item_arrays()
    src, dst, t = ds.trust_arrays()
    return sr.Dataset.from_arrays(users, items, values, trust_src=src, trust_dst=dst, trust_values=t,
                                  n_users=ds.n_users, n_items=ds.n_items + 1)


def check_rating_offset(make):
    """SoRec/SocialMF ``offset``: b = logit(mean r~) inside g (an unrated item predicts the training mean for
    every user) or, with ``offset=False``, the paper's g(U_u . V_i) (an unrated item predicts the middle)."""
    train, _ = homophily_split(0.9)
    train = with_unrated_item(train)
    lo, hi = train.rating_scale
    mean = float(np.mean(train.ratings.data, dtype=np.float64))
    users, unrated = np.arange(train.n_users), np.full(train.n_users, train.n_items - 1)
    on, off = make(epochs=5).fit(train), make(epochs=5, offset=False).fit(train)
    assert float(off.parameters_["global_bias"]) == 0.0
    assert float(on.parameters_["global_bias"]) == pytest.approx(np.log((mean - lo) / (hi - mean)), rel=1e-6)
    np.testing.assert_allclose(on.predict(users, unrated), mean, rtol=1e-5)
    np.testing.assert_allclose(off.predict(users, unrated), (lo + hi) / 2, rtol=1e-5)
    # elsewhere the prediction is r_min + g(b + U_u . V_i) (r_max - r_min)
    for model in (on, off):
        u, i, _ = train.user_item_arrays()
        x = float(model.parameters_["global_bias"]) + np.einsum(
            "ij,ij->i", model.parameters_["user_factors"][u].astype(np.float64),
            model.parameters_["item_factors"][i].astype(np.float64))
        np.testing.assert_allclose(model.predict(u, i), lo + (hi - lo) / (1 + np.exp(-x)), rtol=1e-5)
