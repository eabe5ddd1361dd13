"""DP-SGD beyond BiasedMF (issue 19): SoRec and SVD++ at user level (C++ step against its loop reference, the noiseless
full-batch case, clipping of each user's contribution to the released arrays including the trust part, the
neighbouring-data bound), the refusals of the units and models whose guarantee would not hold, ``steps_taken``
and the error for an epsilon below the private mean's own cost."""
import math
import types

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import socialrec as sr
from socialrec.privacy import PrivacyBudget
from socialrec import reference
from socialrec.reference import _spec, dp_sorec, dp_svdpp

pytest.importorskip("dp_accounting", reason="needs the extra socialrec[privacy] (dp-accounting)")

RELEASED = ("item_factors", "item_bias", "link_factors")


@pytest.fixture(scope="module")
def social():
    return sr.datasets.synthetic(n_users=50, n_items=30, seed=4)


def _budget(eps=math.inf, **kw):
    kw = {"sampling_rate": 1.0, "clip_norm": 1.0, "max_ratings": None, "max_edges": None, **kw}
    return PrivacyBudget(eps, 1e-5, "user", **kw)


def _sorec(budget, **kw):
    kw = {"epochs": 1, "learning_rate": 0.05, "seed": 1, "dtype": "float64", **kw}
    return sr.SoRec(privacy=budget, **kw)


@pytest.mark.parametrize("biased, offset", [(True, True), (False, True), (True, False)])
def test_sorec_step_equals_reference_in_float64(social, biased, offset):
    budget = _budget(4.0, sampling_rate=0.5, clip_norm=0.3)
    model = _sorec(budget, epochs=2, biased=biased, offset=offset).fit(social)
    assert model.privacy_["noise_multiplier"] > 0 and model.privacy_["unit"] == "user"
    expected = dp_sorec.fit(_spec.spec_of(model), social, model.privacy_)
    assert set(expected) == set(model.parameters_)
    for name, value in expected.items():
        np.testing.assert_allclose(model.parameters_[name], value, rtol=0, atol=1e-10, err_msg=name)


def test_sorec_noiseless_unclipped_full_batch_is_gradient_descent(social):
    """q = 1, σ = 0, C = ∞: one step is params − γ ∇L of the private objective (targets 1) on every learned
    array, by the shared pair-term gradient."""
    gamma = 0.05
    model = _sorec(_budget(clip_norm=1e30), learning_rate=gamma).fit(social)
    spec = _spec.spec_of(model)
    start = dp_sorec.initial_parameters(spec, social, np.random.default_rng(1))
    grad = dp_sorec.gradient(spec, start, social)
    assert set(grad) == set(model.parameters_) - {"global_bias"}
    for name, g in grad.items():
        np.testing.assert_allclose(model.parameters_[name], start[name] - gamma * g, rtol=0, atol=1e-12,
                                   err_msg=name)


def _one_step(model, data, start, sampled, clip, gamma=0.1):
    """One C++ step of ``model`` (its own _dp_step, σ = 0) on ``data`` from ``start``; the released arrays,
    flattened."""
    engine = types.SimpleNamespace(train=data, noise_multiplier=0.0, budget=types.SimpleNamespace(clip_norm=clip))
    params = {k: v.copy() for k, v in start.items()}
    model.parameters_ = params
    model._dp_step(engine, None, None)(params, np.asarray(sampled, dtype=np.int64), None, gamma)
    return np.concatenate([params[n].ravel() for n in RELEASED if n in params]), params


def _start(data, seed, biased, d=4):
    rng = np.random.default_rng(seed)
    p = {"user_factors": rng.normal(0, 1, (data.n_users, d)), "item_factors": rng.normal(0, 1, (data.n_items, d)),
         "link_factors": rng.normal(0, 1, (data.n_users, d)), "global_bias": np.array(0.3)}
    if biased:
        p.update(user_bias=rng.normal(0, 1, data.n_users), item_bias=rng.normal(0, 1, data.n_items))
    return p


@settings(deadline=None, max_examples=20)
@given(seed=st.integers(0, 2**16), clip=st.sampled_from([0.01, 0.1, 2.0]), user=st.integers(0, 49),
       biased=st.booleans())
def test_sorec_clipping_bounds_every_users_contribution(social, seed, clip, user, biased):
    """With and without one user in the batch (σ = 0), and with that user's ratings *and* trust edges removed
    from the data (neighbouring data sets): the released V, b_i and Z end at most γ C apart, the trust part
    included (the link targets read no other user's edges)."""
    gamma = 0.1
    model = _sorec(None, factors=4, biased=biased, social_regularization=5.0)
    start = _start(social, seed, biased)
    everyone = np.arange(social.n_users)
    full, _ = _one_step(model, social, start, everyone, clip, gamma)
    without, _ = _one_step(model, social, start, everyone[everyone != user], clip, gamma)
    assert np.linalg.norm(full - without) <= gamma * clip * (1 + 1e-9)
    keep = np.ones(social.n_users, dtype=bool)
    keep[user] = False
    ratings = social.ratings.multiply(keep[:, None]).tocsr()
    trust = social.trust.multiply(keep[:, None]).tocsr()
    ratings.eliminate_zeros()
    trust.eliminate_zeros()
    neighbour = sr.Dataset._new(ratings, trust, social.user_ids, social.item_ids, social.rating_scale)
    removed, _ = _one_step(model, neighbour, start, everyone, clip, gamma)
    assert np.linalg.norm(full - removed) <= gamma * clip * (1 + 1e-9)


def test_sorec_clipping_covers_the_trust_part(social):
    """A user with trust edges only (no ratings): its clipped contribution moves Z alone, by at most γ C."""
    truster = int(np.flatnonzero(np.diff(social.trust.indptr) > 0)[0])
    model = _sorec(None, factors=4, social_regularization=50.0)
    start = _start(social, 0, True)
    ratings = social.ratings.tolil()
    ratings[truster, :] = 0
    ratings = ratings.tocsr()
    ratings.eliminate_zeros()
    data = sr.Dataset._new(ratings, social.trust, social.user_ids, social.item_ids, social.rating_scale)
    moved, params = _one_step(model, data, start, [truster], 0.05, 1.0)
    before = np.concatenate([start[n].ravel() for n in RELEASED])
    assert np.linalg.norm(moved - before) == pytest.approx(0.05, rel=1e-9)  # clipped: large λ_C
    assert not np.array_equal(params["link_factors"], start["link_factors"])
    np.testing.assert_array_equal(params["item_factors"], start["item_factors"])


def test_private_sorec_keeps_no_trust_degrees_and_releases_every_row(social):
    model = _sorec(_budget(4.0, sampling_rate=0.5)).fit(social)
    assert not hasattr(model, "trust_degree_")
    assert np.all(np.any(model.parameters_["link_factors"] != 0, axis=1))
    assert np.all(np.any(model.parameters_["item_factors"] != 0, axis=1))
    plain = sr.SoRec(epochs=1, seed=1).fit(social)
    assert hasattr(plain, "trust_degree_")


# -- SVD++ -------------------------------------------------------------------------------------------------------
def _svdpp(budget, **kw):
    kw = {"epochs": 1, "learning_rate": 0.02, "seed": 1, "dtype": "float64", **kw}
    return sr.SVDpp(privacy=budget, **kw)


def test_svdpp_step_equals_reference_in_float64(social):
    budget = _budget(4.0, sampling_rate=0.5, clip_norm=0.3, max_ratings=3)
    model = _svdpp(budget, epochs=2).fit(social)
    assert model.privacy_["noise_multiplier"] > 0
    bounded = sr.privacy.bound_contributions(social, 3, None, seed=1)
    expected = dp_svdpp.fit(_spec.spec_of(model), bounded, model.privacy_)
    assert set(expected) == set(model.parameters_)
    for name, value in expected.items():
        np.testing.assert_allclose(model.parameters_[name], value, rtol=0, atol=1e-10, err_msg=name)


def test_svdpp_noiseless_unclipped_full_batch_is_gradient_descent(social):
    """q = 1, σ = 0, C = ∞: one step is params − γ ∇L of SVD++'s objective (reference.svdpp.gradient)."""
    gamma = 0.02
    model = _svdpp(_budget(clip_norm=1e30), learning_rate=gamma).fit(social)
    start = dp_svdpp.initial_parameters(_spec.spec_of(model), social, np.random.default_rng(1))
    grad = reference.gradient(model, social, params=start)
    assert set(grad) == set(model.parameters_) - {"global_bias"}
    for name, g in grad.items():
        np.testing.assert_allclose(model.parameters_[name], start[name] - gamma * g, rtol=0, atol=1e-12,
                                   err_msg=name)


@settings(deadline=None, max_examples=20)
@given(seed=st.integers(0, 2**16), clip=st.sampled_from([0.01, 0.1, 2.0]), user=st.integers(0, 49))
def test_svdpp_clipping_bounds_every_users_contribution(social, seed, clip, user):
    """With and without one user's unit (σ = 0): the released q, b_i and y (the implicit factors of the user's
    rated items included) end at most γ C apart."""
    gamma, d = 0.1, 4
    rng = np.random.default_rng(seed)
    start = {"user_factors": rng.normal(0, 1, (social.n_users, d)),
             "item_factors": rng.normal(0, 1, (social.n_items, d)),
             "implicit_factors": rng.normal(0, 1, (social.n_items, d)), "user_bias": rng.normal(0, 1, social.n_users),
             "item_bias": rng.normal(0, 1, social.n_items), "global_bias": np.array(3.0)}
    model = _svdpp(None, factors=d)
    engine = types.SimpleNamespace(train=social, noise_multiplier=0.0, budget=types.SimpleNamespace(clip_norm=clip))

    def released(sampled):
        params = {k: v.copy() for k, v in start.items()}
        model.parameters_ = params
        model._dp_step(engine, None, None)(params, np.asarray(sampled, dtype=np.int64), None, gamma)
        return np.concatenate([params[n].ravel() for n in ("item_factors", "item_bias", "implicit_factors")])

    everyone = np.arange(social.n_users)
    assert np.linalg.norm(released(everyone) - released(everyone[everyone != user])) <= gamma * clip * (1 + 1e-9)


def test_svdpp_refuses_the_rating_unit_and_trustsvd_refuses_privacy(social):
    budget = PrivacyBudget(4.0, 1e-5, "rating", sampling_rate=0.5)
    with pytest.raises(ValueError, match="unit='rating'.*I_u"):
        _svdpp(budget).fit(social)
    assert not budget.spent
    with pytest.raises(ValueError, match="TrustSVD.*weighted penalties"):
        sr.TrustSVD(privacy=_budget(4.0))
    with pytest.raises(ValueError, match="occurrence"):
        sr.SVDpp(privacy=_budget(4.0), regularization_scaling="count")


# -- refusals ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("unit", ["rating", "edge"])
def test_sorec_refuses_units_other_than_the_user(social, unit):
    budget = PrivacyBudget(4.0, 1e-5, unit, sampling_rate=0.5)
    with pytest.raises(ValueError, match=f"unit='{unit}'.*U_u"):
        _sorec(budget).fit(social)
    assert not budget.spent  # refused before the budget was charged


def test_sorec_refuses_weighted_penalties():
    with pytest.raises(ValueError, match="occurrence"):
        sr.SoRec(privacy=_budget(4.0), regularization_scaling="sqrt_count")


@pytest.mark.parametrize("name", ["SocialMF", "SoReg", "SBPR"])
def test_coupled_social_models_refuse_privacy_with_the_reason(name):
    with pytest.raises(TypeError, match=r"privacy=.*refused.*(trustee|friend)"):
        getattr(sr, name)(privacy=_budget(4.0))


# -- the fit's record --------------------------------------------------------------------------------------------
def test_steps_taken_after_a_callback_stops_the_fit(social):
    budget = _budget(4.0, sampling_rate=0.5)
    model = sr.BiasedMF(privacy=budget, epochs=3, seed=0).fit(social, callback=lambda m, rec: rec["epoch"] == 0)
    p = model.privacy_
    assert len(model.history) == 1
    assert (p["steps"], p["steps_per_epoch"], p["steps_taken"]) == (6, 2, 2)  # charged for 3 epochs, took 1
    full = _sorec(_budget(4.0, sampling_rate=0.5), epochs=2).fit(social)
    assert full.privacy_["steps_taken"] == full.privacy_["steps"] == 4


def test_epsilon_below_the_private_means_cost_is_refused_clearly(social):
    budget = PrivacyBudget(0.1, 1e-5, "user", sampling_rate=0.5)
    assert budget.mean_epsilon() > 0.1
    with pytest.raises(ValueError, match=r"epsilon=0.1 is not above what the private global mean alone costs"):
        sr.BiasedMF(privacy=budget, epochs=1).fit(social)
    assert not budget.spent
