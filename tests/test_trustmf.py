"""TrustMF-specific checks (its social gain is test_models.py::test_beats_its_base): behaviour without
homophily, thread-count independence (every pass is stratified), the aligned start of the trustee model,
users with trust but no ratings, hyper-parameter validation."""
from __future__ import annotations

import numpy as np
import pytest

import socialrec as sr
from social_helpers import held_out_rmse, with_trust_only_users


def test_not_much_worse_without_homophily():
    # lambda_T = 1 fits every (binary) trust edge as strongly as a rating; on a trust graph drawn
    # independently of the tastes this costs a few percent (3.7% on this data), stated here as a bound.
    # (the paper's model, biased=False, as before issue 15; the biased default in the test below)
    social = held_out_rmse(sr.TrustMF(biased=False), 0.0)
    plain = held_out_rmse(sr.TrustMF(trust_regularization=0.0, biased=False), 0.0)
    assert social <= 1.05 * plain, f"TrustMF {social:.4f} vs lambda_T=0 {plain:.4f}"


def test_cost_without_homophily_with_biases():
    # biased=True (the default): against the biased model without trust the default lambda_T = 1 costs more
    # (8.4 % measured on this data: the biases fit what the trust terms cannot); a stated bound, not a goal
    # (issue 15's defaults step revisits lambda_T)
    social = held_out_rmse(sr.TrustMF(), 0.0)
    plain = held_out_rmse(sr.TrustMF(trust_regularization=0.0), 0.0)
    assert social <= 1.09 * plain, f"TrustMF {social:.4f} vs lambda_T=0 {plain:.4f}"


def test_parallel_equals_single_thread_exactly():
    # all four passes are stratified grid passes, so there is no Hogwild mode: threads change nothing
    ds = sr.datasets.synthetic(seed=1)
    one = sr.TrustMF(epochs=5, num_threads=1).fit(ds)
    two = sr.TrustMF(epochs=5, num_threads=2).fit(ds)
    for k in one.parameters_:
        np.testing.assert_array_equal(one.parameters_[k], two.parameters_[k], err_msg=k)
    assert "deterministic" not in sr.TrustMF._defaults


def test_trustee_model_starts_aligned_with_truster_model():
    ds = sr.datasets.synthetic(n_users=100, n_items=50, seed=0)
    p = sr.TrustMF(epochs=0).fit(ds).parameters_
    rated = ds.ratings.getnnz(axis=1) > 0
    np.testing.assert_array_equal(p["trustee_user_factors"][rated], p["user_factors"][rated])
    np.testing.assert_array_equal(p["trustee_item_factors"], p["item_factors"])


def test_trust_only_users():
    ds = sr.datasets.synthetic(n_users=200, n_items=80, density=0.08, trust_per_user=4, seed=0)
    cold = np.arange(10)
    data = with_trust_only_users(ds, cold)
    model = sr.TrustMF(epochs=30).fit(data)
    p = model.parameters_
    assert np.all(np.abs(p["user_factors"][cold]).sum(axis=1) > 0), "B_u is learned from the users u trusts"
    assert np.all(np.abs(p["trustee_truster_factors"][cold]).sum(axis=1) > 0)
    mean = model.predict(np.repeat(cold, 5), np.tile(np.arange(5), len(cold)))
    assert np.ptp(mean) > 0, "trust-only users get personalised predictions, not one constant"


def test_bad_hyper_parameters_rejected():
    for bad in ({"trust_regularization": -1.0}, {"trust_regularization": float("inf")}, {"deterministic": True}):
        with pytest.raises((ValueError, TypeError)):
            sr.TrustMF(**bad)


@pytest.mark.parametrize("trust_values", [[1.0, -1.0, 1.0, 2.0], [-1.0, -2.0, -1.0, -3.0]])
def test_negative_trust_values_rejected(trust_values):
    """t_uk is the value over the largest one: a negative value has no target in g's range, and an all-negative
    graph used to flip into targets of 1 silently."""
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 30, 300), rng.integers(0, 20, 300)
    data = sr.Dataset.from_arrays(users, items, rng.integers(1, 6, 300).astype(float), trust_src=[0, 0, 1, 2],
                                  trust_dst=[1, 2, 2, 3], trust_values=trust_values, duplicates="mean")
    model = sr.TrustMF(epochs=2)
    with pytest.raises(ValueError, match=r"TrustMF needs non-negative trust values"):
        model.fit(data)
    assert not model.fitted
    # zeros next to positive values are valid targets ("does not trust")
    ok = sr.Dataset.from_arrays(users, items, rng.integers(1, 6, 300).astype(float), trust_src=[0, 0, 1, 2],
                                trust_dst=[1, 2, 2, 3], trust_values=[0.0, 1.0, 0.5, 1.0], duplicates="mean")
    assert model.fit(ok).fitted
