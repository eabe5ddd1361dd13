"""TrustSVD-specific checks (the shared suite in test_models.py covers reference equality, gradients,
persistence and the gain over BiasedMF and SVD++: test_beats_its_base)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings

import socialrec as sr
from model_suite import assert_params_close
from strategies import datasets


def _split(homophily, seed=0):
    ds = sr.datasets.synthetic(n_users=1000, n_items=500, homophily=homophily, seed=seed)
    return sr.split.train_test_split(ds, test_size=0.2, seed=seed)


def _rmse(cls, train, test, **kw):
    return sr.metrics.rmse(cls(num_threads=1, **kw).fit(train), test)


def test_no_social_signal_is_not_worse_than_svdpp_by_more_than_a_small_margin():
    train, test = _split(homophily=0.0)
    assert _rmse(sr.TrustSVD, train, test) <= 1.02 * _rmse(sr.SVDpp, train, test)


def _trust_only_split(n_cold=80, seed=1):
    """Synthetic data with strong homophily where ``n_cold`` users with trustees lose all their training
    ratings (they keep their trust links); their ratings become the test set."""
    ds = sr.datasets.synthetic(n_users=1000, n_items=500, homophily=0.95, seed=seed)
    rng = np.random.default_rng(seed)
    trusting = np.flatnonzero(ds.trust.getnnz(axis=1) > 0)
    cold = np.sort(rng.choice(trusting, n_cold, replace=False))
    r = ds.ratings.tocoo()
    test_mask = np.isin(r.row, cold)
    keep = ds.ratings.copy().tolil()
    keep[cold, :] = 0
    keep = keep.tocsr()
    keep.eliminate_zeros()
    test = sr.Dataset.from_arrays(r.row[test_mask], r.col[test_mask], r.data[test_mask], n_users=ds.n_users,
                                  n_items=ds.n_items, rating_scale=ds.rating_scale)
    return ds.with_ratings(keep), test, cold


def test_users_with_trust_but_no_ratings_learn_useful_factors():
    train, test, cold = _trust_only_split()
    assert np.all(train.ratings.getnnz(axis=1)[cold] == 0)
    model = sr.TrustSVD(num_threads=1).fit(train)
    start = sr.TrustSVD(num_threads=1, epochs=0).fit(train)
    p, p0 = model.parameters_["user_factors"][cold], start.parameters_["user_factors"][cold]
    assert np.all(np.linalg.norm(p, axis=1) > 0) and np.all(np.linalg.norm(p - p0, axis=1) > 1e-3)
    # ... and the trust term makes them better than the item biases alone (what SVD++ can do for them)
    svdpp = sr.metrics.rmse(sr.SVDpp(num_threads=1).fit(train), test)
    assert sr.metrics.rmse(model, test) < svdpp


def test_users_without_trustees_fall_back_to_svdpp_form():
    train, _ = _split(homophily=0.9)
    t = train.trust.tolil()
    t[:20, :] = 0  # users 0..19 keep their ratings but trust nobody
    t = t.tocsr()
    t.eliminate_zeros()
    train = sr.Dataset.from_sparse(train.ratings, trust=t, rating_scale=train.rating_scale)
    model = sr.TrustSVD(epochs=5, dtype="float64", num_threads=1).fit(train)
    p = model.parameters_
    no_trust = np.flatnonzero((train.trust.getnnz(axis=1) == 0) & (train.ratings.getnnz(axis=1) > 0))
    assert len(no_trust) > 0
    u = int(no_trust[0])
    items = train.ratings[u].indices
    expected = p["user_factors"][u] + p["implicit_factors"][items].sum(axis=0) / math.sqrt(len(items))
    np.testing.assert_allclose(model._scoring()["user_vectors"][u], expected, rtol=1e-12, atol=1e-12)


def test_prediction_folds_both_implicit_sums_into_user_vectors():
    train, test = _split(homophily=0.9)
    model = sr.TrustSVD(epochs=5, dtype="float64", num_threads=1).fit(train)
    p = {k: np.asarray(v, dtype=np.float64) for k, v in model.parameters_.items()}
    users, items, _ = test.user_item_arrays()
    expected = []
    for u, i in zip(users[:200], items[:200]):
        rated, trusted = train.ratings[u].indices, train.trust[u].indices
        x = p["user_factors"][u].copy()
        if len(rated):
            x += p["implicit_factors"][rated].sum(axis=0) / math.sqrt(len(rated))
        if len(trusted):
            x += p["trustee_factors"][trusted].sum(axis=0) / math.sqrt(len(trusted))
        r = p["global_bias"] + p["user_bias"][u] + p["item_bias"][i] + p["item_factors"][i] @ x
        expected.append(np.clip(r, *train.rating_scale))
    np.testing.assert_allclose(model.predict(users[:200], items[:200]), expected, rtol=0, atol=1e-12)


@settings(deadline=None, max_examples=12)
@given(datasets(max_users=8, max_items=8, max_ratings=30, max_edges=20, weighted_trust=True))
def test_cpp_equals_reference_on_awkward_data(ds):
    """Trust-only users, isolated users, weighted trust, unrated items: C++ still equals the reference."""
    model = sr.TrustSVD(factors=3, epochs=2, learning_rate=0.02, dtype="float64", deterministic=True,
                        num_threads=1, seed=4).fit(ds)
    assert_params_close(model.parameters_, sr.reference.fit(model, ds), rtol=0, atol=1e-10, what="TrustSVD")
    assert model.loss(ds) == pytest.approx(sr.reference.loss(model, ds), rel=1e-9, abs=1e-12)


def test_parallel_mode_reaches_the_deterministic_rmse_within_one_percent():
    train, test = _split(homophily=0.9, seed=3)
    one = sr.TrustSVD(epochs=40, deterministic=True, num_threads=1).fit(train)
    many = sr.TrustSVD(epochs=40, deterministic=False, num_threads=2).fit(train)
    a, b = sr.metrics.rmse(one, test), sr.metrics.rmse(many, test)
    assert abs(a - b) <= 0.01 * a, (a, b)


def test_save_load_keeps_the_trust_sums(tmp_path):
    train, test = _split(homophily=0.9)
    model = sr.TrustSVD(epochs=3, num_threads=1).fit(train)
    model.save(tmp_path / "m.npz")
    users, items, _ = test.user_item_arrays()
    np.testing.assert_array_equal(sr.load(tmp_path / "m.npz").predict(users, items), model.predict(users, items))


@pytest.mark.parametrize("bad", [{"social_regularization": -1.0}, {"social_regularization": float("inf")},
                                 {"regularization": -1.0}, {"learning_rate": 0.0}, {"deterministic": 1}])
def test_bad_hyper_parameters_rejected(bad):
    name = next(iter(bad))
    with pytest.raises(ValueError, match=name):
        sr.TrustSVD(**bad)
