"""RSTE-specific checks (its social gain is test_models.py::test_beats_its_base): behaviour without
homophily, Hogwild vs single order, the ensemble used for prediction, users with trust but no ratings,
hyper-parameter validation."""
from __future__ import annotations

import numpy as np
import pytest

import socialrec as sr
from social_helpers import held_out_rmse, with_trust_only_users

EPOCHS = 300  # the ensemble converges more slowly than plain PMF on synthetic(); compare converged models


def test_without_homophily():
    # alpha is the weight of a user's own taste: with alpha = 0.8 a trust graph that carries no signal costs
    # (almost) nothing and a homophilous one still helps. With the default 0.4 the ensemble forces 60% of
    # every user's vector from random others and RSTE is clearly worse (about 11% on this data): the model
    # has no way to learn that its trust graph is uninformative. Checked on the paper's model (biased=False):
    # with the biases (issue 15) alpha = 0.8 costs 2.5% on this data (.7278 vs .7095), more than the 1% here.
    rste = {"epochs": EPOCHS, "biased": False}
    plain = held_out_rmse(sr.RSTE(**rste, alpha=1.0), 0.0)
    assert held_out_rmse(sr.RSTE(**rste, alpha=0.8), 0.0) <= 1.01 * plain
    assert held_out_rmse(sr.RSTE(**rste, alpha=0.8), 0.9) < held_out_rmse(sr.RSTE(**rste, alpha=1.0), 0.9)
    assert held_out_rmse(sr.RSTE(**rste), 0.0) > plain  # documented, not hidden


def test_hogwild_within_one_percent_of_single_order():
    parallel = held_out_rmse(sr.RSTE(num_threads=2), 0.9)
    single = held_out_rmse(sr.RSTE(deterministic=True), 0.9)
    assert abs(parallel - single) <= 0.01 * single


def test_prediction_uses_the_trust_ensemble():
    ds = sr.datasets.synthetic(n_users=200, n_items=80, density=0.08, trust_per_user=4, seed=0)
    src, dst, _ = ds.trust_arrays()
    lonely = np.flatnonzero(ds.trust.getnnz(axis=1) == 0)
    model = sr.RSTE(epochs=10, dtype="float64").fit(ds)
    U, V = model.parameters_["user_factors"], model.parameters_["item_factors"]
    b, alpha = float(model.parameters_["global_bias"]), model.alpha
    bu, bi = model.parameters_["user_bias"], model.parameters_["item_bias"]  # inside the link
    lo, hi = ds.rating_scale
    for u in (0, 1, 2):
        trusted = dst[src == u]
        z = alpha * U[u] + (1 - alpha) * U[trusted].mean(axis=0)  # FilmTrust-like binary trust: S = 1/|N+(u)|
        expected = lo + (hi - lo) / (1 + np.exp(-(b + bu[u] + bi[:5] + V[:5] @ z)))
        np.testing.assert_allclose(model.predict([u] * 5, range(5)), np.clip(expected, lo, hi), rtol=1e-12)
    if lonely.size:  # users who trust nobody fall back to the plain part z_u = U_u
        np.testing.assert_array_equal(model._scoring()["user_vectors"][lonely], U[lonely])


def test_trust_only_users():
    ds = sr.datasets.synthetic(n_users=200, n_items=80, density=0.08, trust_per_user=4, seed=0)
    cold = np.arange(10)
    data = with_trust_only_users(ds, cold)
    model = sr.RSTE(epochs=20, dtype="float64", biased=False).fit(data)  # the paper's model
    U = model.parameters_["user_factors"]
    untrusted = cold[data.trust.getnnz(axis=0)[cold] == 0]
    assert np.all(U[untrusted] == 0), "a user who neither rates nor is trusted keeps U_u = 0"
    S = data.trust.multiply(1.0 / data.trust.sum(axis=1)).tocsr()
    z = (1 - model.alpha) * (S @ U)
    np.testing.assert_allclose(model._scoring()["user_vectors"][untrusted], z[untrusted], rtol=1e-12, atol=1e-15)
    assert np.all(np.abs(z[cold]).sum(axis=1) > 0), "trust-only users are predicted from the users they trust"


def test_bad_hyper_parameters_rejected():
    for bad in ({"alpha": 1.5}, {"alpha": -0.1}, {"alpha": float("nan")}, {"deterministic": 1}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            sr.RSTE(**bad)


def test_non_positive_trust_values_rejected():
    """S is T row-normalised: a row of signed values can sum to 0 (NaN weights, which used to show as a
    divergence at epoch 0) or give weights outside [0, 1]; like SocialMF, RSTE asks for positive values."""
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 30, 300), rng.integers(0, 20, 300)
    values = rng.integers(1, 6, 300).astype(float)
    data = sr.Dataset.from_arrays(users, items, values, trust_src=[0, 0, 1, 2], trust_dst=[1, 2, 2, 3],
                                  trust_values=[1.0, -1.0, 1.0, 2.0], duplicates="mean")
    model = sr.RSTE(epochs=2)
    with pytest.raises(ValueError, match=r"RSTE needs positive trust values.*-1\.0"):
        model.fit(data)
    assert not model.fitted
