"""SVD++-specific checks (the shared suite in test_models.py covers reference equality, gradients, persistence)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings

import socialrec as sr
from model_suite import assert_params_close
from strategies import datasets


def _explicit_prediction(model, train, u, i):
    """μ + b_u + b_i + q_i·(p_u + |I_u|^-½ Σ_{j∈I_u} y_j), written out from the parameters."""
    p = {k: np.asarray(v, dtype=np.float64) for k, v in model.parameters_.items()}
    items = train.ratings[u].indices
    z = sum(p["implicit_factors"][j] for j in items) / math.sqrt(len(items)) if len(items) else 0.0
    x = p["global_bias"] + p["user_bias"][u] + p["item_bias"][i] + p["item_factors"][i] @ (p["user_factors"][u] + z)
    return float(np.clip(x, *train.rating_scale))


def test_prediction_folds_the_implicit_sum_into_user_vectors():
    train = sr.datasets.synthetic(n_users=60, n_items=40, density=0.2, seed=1)
    model = sr.SVDpp(factors=6, epochs=5, dtype="float64", seed=2).fit(train)
    users, items = np.arange(60), (np.arange(60) * 7) % 40
    expected = [_explicit_prediction(model, train, u, i) for u, i in zip(users, items)]
    np.testing.assert_allclose(model.predict(users, items), expected, rtol=0, atol=1e-12)
    parts = model._scoring_parts()
    assert parts["user_vectors"].shape == (60, 6) and parts["item_vectors"] is model.parameters_["item_factors"]


@settings(deadline=None, max_examples=12)
@given(datasets(max_users=8, max_items=8, max_ratings=30))
def test_cpp_equals_reference_on_awkward_data(ds):
    """Empty rating rows, unrated items, a single rating: the C++ pass still equals the reference."""
    model = sr.SVDpp(factors=3, epochs=2, learning_rate=0.02, dtype="float64", deterministic=True,
                     num_threads=1, seed=4).fit(ds)
    assert_params_close(model.parameters_, sr.reference.fit(model, ds), rtol=0, atol=1e-10, what="SVDpp")


def test_users_and_items_without_ratings_keep_zero_factors_and_predict_biases():
    ds = sr.datasets.synthetic(n_users=50, n_items=30, density=0.2, seed=3)
    assert ds.ratings[7].nnz > 0
    r = ds.ratings.tolil()
    r[7, :] = 0
    r = r.tocsr()
    r.eliminate_zeros()
    train = ds.with_ratings(r)
    model = sr.SVDpp(factors=4, epochs=10, seed=0).fit(train)
    p = model.parameters_
    assert not np.any(p["user_factors"][7]) and p["user_bias"][7] == 0
    expected = np.clip(float(p["global_bias"]) + p["item_bias"][:5].astype(np.float64), *train.rating_scale)
    np.testing.assert_allclose(model.predict(np.full(5, 7), np.arange(5)), expected, rtol=1e-6)


def test_heavy_user_with_large_step_stays_stable():
    """γ |I_u| λ far above 2: the proximal y step keeps training finite where an explicit step would blow up."""
    rng = np.random.default_rng(0)
    n_items = 400
    users = np.concatenate([np.zeros(n_items, int), rng.integers(1, 30, 600)])
    items = np.concatenate([np.arange(n_items), rng.integers(0, n_items, 600)])
    key = np.unique(users * n_items + items)
    users, items = key // n_items, key % n_items
    ds = sr.Dataset.from_arrays(users, items, rng.integers(1, 6, len(users)).astype(float))
    model = sr.SVDpp(factors=4, epochs=30, learning_rate=0.02, regularization=0.5, seed=0).fit(ds)
    assert 0.02 * n_items * 0.5 > 2
    losses = [h["loss"] for h in model.history]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert np.all(np.isfinite(model.parameters_["implicit_factors"]))


def test_parallel_mode_reaches_the_deterministic_rmse_within_one_percent():
    ds = sr.datasets.synthetic(n_users=1500, n_items=600, seed=5)
    train, test = sr.split.train_test_split(ds, test_size=0.2, seed=0)
    one = sr.SVDpp(epochs=15, deterministic=True, num_threads=1).fit(train)
    many = sr.SVDpp(epochs=15, deterministic=False, num_threads=2).fit(train)
    a, b = sr.metrics.rmse(one, test), sr.metrics.rmse(many, test)
    assert abs(a - b) <= 0.01 * a, (a, b)


def test_beats_biased_mf_when_implicit_feedback_carries_signal():
    ds = sr.datasets.synthetic(n_users=800, n_items=400, density=0.05, seed=0)
    train, test = sr.split.train_test_split(ds, test_size=0.2, seed=0)
    common = {"epochs": 30, "learning_rate": 0.007, "regularization": 0.015, "seed": 0, "num_threads": 1}
    svdpp = sr.metrics.rmse(sr.SVDpp(**common).fit(train), test)
    mf = sr.metrics.rmse(sr.BiasedMF(**common).fit(train), test)
    assert svdpp < mf


@pytest.mark.parametrize("bad", [{"learning_rate": 0}, {"regularization": -0.1}, {"bias_regularization": float("nan")},
                                 {"deterministic": "yes"}, {"init_std": -1.0}, {"epochs": 1.5}])
def test_bad_hyper_parameters_rejected(bad):
    name = next(iter(bad))
    with pytest.raises(ValueError, match=name):
        sr.SVDpp(**bad)
