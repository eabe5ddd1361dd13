"""Shared set-ups of the social rating model tests (SoReg, RSTE, TrustMF)."""
from __future__ import annotations

import functools

import numpy as np

import socialrec as sr


@functools.lru_cache(maxsize=None)
def homophily_split(homophily):
    """``sr.datasets.synthetic()`` (1000 users, planted communities) at the given homophily, 80/20."""
    ds = sr.datasets.synthetic(homophily=homophily, seed=0)
    return sr.split.train_test_split(ds, test_size=0.2, seed=0)


def held_out_rmse(model, homophily):
    train, test = homophily_split(homophily)
    return sr.metrics.rmse(model.fit(train), test)


def with_trust_only_users(ds, users):
    """``ds`` with every rating of ``users`` removed (they keep their trust edges)."""
    u, i, v = ds.user_item_arrays()
    keep = ~np.isin(u, users)
    src, dst, t = ds.trust_arrays()
    return sr.Dataset.from_arrays(u[keep], i[keep], v[keep], trust_src=src, trust_dst=dst, trust_values=t,
                                  n_users=ds.n_users, n_items=ds.n_items, rating_scale=ds.rating_scale)
