"""socialrec.privacy: accounting against dp-accounting, calibration, the budget's refusals, contribution
bounding, anonymisation helpers, and BiasedMF's DP-SGD (the driver against its loop reference, clipping,
noise scale, and the noiseless unclipped full-batch case)."""
import math
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import socialrec as sr
from socialrec import reference
from socialrec.privacy import (PrivacyBudget, PrivacyBudgetExceeded, accounting, anonymize_ids, bound_contributions,
                               calibrate_noise_multiplier, epsilon, hash_ids, suppress_rare_items)
from socialrec.models._private import PrivateMixin
from socialrec.reference import _spec, dp_biased_mf

dp_accounting = pytest.importorskip("dp_accounting", reason="needs the extra socialrec[privacy] (dp-accounting)")


@pytest.fixture(scope="module")
def small():
    return sr.datasets.synthetic(n_users=40, n_items=25, seed=3)


def _budget(eps=math.inf, **kw):
    kw = {"sampling_rate": 1.0, "clip_norm": 1.0, "max_ratings": None, **kw}
    return PrivacyBudget(eps, 1e-5, "user", **kw)


def _fit(train, budget, **kw):
    kw = {"epochs": 1, "learning_rate": 0.01, "seed": 1, **kw}
    return sr.BiasedMF(privacy=budget, dtype="float64", **kw).fit(train)


# -- accounting -------------------------------------------------------------------------------------------------
def test_epsilon_equals_dp_accountings_own_figure():
    event = dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(0.01, dp_accounting.GaussianDpEvent(1.0)), 2000)
    rdp = dp_accounting.rdp.RdpAccountant().compose(event).get_epsilon(1e-5)
    pld = dp_accounting.pld.PLDAccountant().compose(event).get_epsilon(1e-5)
    assert epsilon(0.01, 1.0, 2000, 1e-5, "rdp") == rdp
    assert epsilon(0.01, 1.0, 2000, 1e-5, "pld") == pld
    assert round(rdp, 2) == 2.87 and round(pld, 2) == 2.58  # the figures issue 19 quotes


def test_calibration_is_the_smallest_sigma_within_tolerance_and_cached():
    calibrate_noise_multiplier.cache_clear()
    sigma = calibrate_noise_multiplier(2.0, 1e-5, 0.05, 200)
    assert epsilon(0.05, sigma, 200, 1e-5) <= 2.0 < epsilon(0.05, sigma * (1 - 2e-3), 200, 1e-5)
    assert calibrate_noise_multiplier(2.0, 1e-5, 0.05, 200) == sigma
    assert calibrate_noise_multiplier.cache_info().hits == 1
    assert calibrate_noise_multiplier(math.inf, 1e-5, 0.05, 200) == 0.0


def test_a_fit_calibrates_once_not_per_epoch(small, monkeypatch):
    calls = []
    original = accounting.epsilon
    monkeypatch.setattr(accounting, "epsilon", lambda *a, **k: calls.append(a) or original(*a, **k))
    calibrate_noise_multiplier.cache_clear()
    _fit(small, _budget(4.0, sampling_rate=0.5, clip_norm=1.0), epochs=1)
    one_epoch = len(calls)
    calls.clear()
    calibrate_noise_multiplier.cache_clear()
    model = _fit(small, _budget(4.0, sampling_rate=0.5, clip_norm=1.0), epochs=3)
    assert len(model.history) == 3 and len(calls) <= one_epoch + 2  # a bisection, not one per epoch


def test_missing_dp_accounting_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "dp_accounting", None)
    with pytest.raises(ImportError, match=r"socialrec\[privacy\]"):
        epsilon(0.01, 1.0, 10, 1e-5)


# -- the budget -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, match", [((0, 1e-5), "epsilon"), ((-1, 1e-5), "epsilon"),
                                         ((float("nan"), 1e-5), "epsilon"), ((1, 0), "delta"), ((1, 1), "delta"),
                                         ((1, 1.5), "delta"), ((1, 1e-5, "item"), "unit")])
def test_bad_budgets_raise_naming_the_argument(args, match):
    with pytest.raises(ValueError, match=match):
        PrivacyBudget(*args)


def test_bad_settings_raise():
    for kw in ({"clip_norm": 0}, {"sampling_rate": 0}, {"sampling_rate": 1.5}, {"max_ratings": 0},
               {"accountant": "moments"}):
        with pytest.raises(ValueError):
            PrivacyBudget(1.0, 1e-5, **kw)
    with pytest.raises(ValueError, match="privacy"):
        sr.BiasedMF(privacy={"epsilon": 1})


def test_a_budget_refuses_a_second_fit_and_keeps_its_record(small):
    budget = _budget(4.0, sampling_rate=0.5)
    model = _fit(small, budget)
    assert model.privacy_["epsilon"] <= 4.0 * (1 + 1e-3) and len(budget.spent) == 1
    with pytest.raises(PrivacyBudgetExceeded, match="already spent"):
        _fit(small, budget)
    with pytest.raises(PrivacyBudgetExceeded, match="would spend"):
        budget.spend(0.5, model.privacy_["noise_multiplier"], 1)
    assert len(budget.spent) == 1


def test_the_driver_refuses_steps_past_the_charged_ones(small):
    model = _fit(small, _budget(4.0, sampling_rate=0.5), epochs=1)
    model.privacy = _budget(4.0, sampling_rate=0.5)  # unspent
    state = model._prepare(small)  # a fresh engine: charged for epochs * steps_per_epoch steps
    state["dp"].steps_done = state["dp"].total_steps
    with pytest.raises(PrivacyBudgetExceeded, match="refusing"):
        model._private_epoch(state, {"epoch": 0})


def test_privacy_report(small):
    model = _fit(small, _budget(4.0, sampling_rate=0.5), epochs=3)
    p = model.privacy_
    assert {"epsilon", "delta", "unit", "accountant", "noise_multiplier", "sampling_rate", "steps"} <= set(p)
    assert (p["unit"], p["accountant"], p["sampling_rate"], p["steps"]) == ("user", "rdp", 0.5, 6)
    assert p["epsilon"] == pytest.approx(epsilon(0.5, p["noise_multiplier"], 6, 1e-5,
                                                 release_noise=p["mean_noise_multiplier"]))


def test_a_private_model_saves_its_guarantee_not_its_budget(small, tmp_path):
    model = _fit(small, _budget(4.0, sampling_rate=0.5), epochs=2)
    model.save(tmp_path / "m.npz")
    loaded = sr.load(tmp_path / "m.npz")
    assert loaded.privacy is None and loaded.privacy_ == model.privacy_  # the released result and its (eps, delta)
    users, items = small.ratings.nonzero()
    np.testing.assert_array_equal(loaded.predict(users[:20], items[:20], ids="index"),
                                  model.predict(users[:20], items[:20], ids="index"))
    sr.BiasedMF(epochs=1).fit(small).save(tmp_path / "plain.npz")
    assert not hasattr(sr.load(tmp_path / "plain.npz"), "privacy_")


def test_private_mean_is_the_noisy_mean_of_user_means(small):
    model = _fit(small, _budget(4.0, sampling_rate=0.5))
    rule = dp_biased_mf.private_mean(small, 1, model.privacy_["mean_noise_multiplier"])
    assert float(model.parameters_["global_bias"]) == pytest.approx(rule, abs=1e-12)
    r = small.ratings
    exact = np.mean([r.data[r.indptr[u]:r.indptr[u + 1]].mean() for u in range(r.shape[0]) if r.indptr[u + 1] > r.indptr[u]])
    assert dp_biased_mf.private_mean(small, 1, 0.0) == pytest.approx(exact)
    assert rule != pytest.approx(exact, abs=1e-6)


def test_edge_unit_is_refused_by_a_model_without_trust(small):
    with pytest.raises(ValueError, match="edge"):
        _fit(small, PrivacyBudget(1.0, 1e-5, "edge"))


def test_rating_unit_is_refused_with_the_reason(small):
    """Per-rating clipping would bound a rating's direct contribution only: the rating also moves p_u, which
    the user's other ratings read, so only the user-level guarantee holds; nothing is charged."""
    budget = PrivacyBudget(1.0, 1e-5, "rating")
    with pytest.raises(ValueError, match="unit='rating'.*p_u.*unit='user'"):
        _fit(small, budget)
    assert budget.spent == []


# -- the mechanism ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("unit", ["user"])
@pytest.mark.parametrize("biased", [True, False])
def test_driver_equals_reference_in_float64(small, unit, biased):
    budget = PrivacyBudget(4.0, 1e-5, unit, sampling_rate=0.5, clip_norm=0.5, max_ratings=None)
    model = _fit(small, budget, epochs=2, biased=biased, learning_rate=0.05)
    assert model.privacy_["noise_multiplier"] > 0
    expected = dp_biased_mf.fit(_spec.spec_of(model), small, model.privacy_)
    for name, value in expected.items():
        np.testing.assert_allclose(model.parameters_[name], value, rtol=0, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("unit", ["user"])
def test_numpy_step_equals_reference_in_float64(small, unit, monkeypatch):
    """The generic NumPy step (models without a C++ step) on BiasedMF's gradients."""
    monkeypatch.setattr(sr.BiasedMF, "_dp_step", PrivateMixin._dp_step)
    budget = PrivacyBudget(4.0, 1e-5, unit, sampling_rate=0.5, clip_norm=0.5, max_ratings=None)
    model = _fit(small, budget, epochs=2, learning_rate=0.05)
    expected = dp_biased_mf.fit(_spec.spec_of(model), small, model.privacy_)
    for name, value in expected.items():
        np.testing.assert_allclose(model.parameters_[name], value, rtol=0, atol=1e-10, err_msg=name)


def test_noiseless_unclipped_full_batch_is_gradient_descent(small):
    """q = 1, σ = 0, C = ∞: one step is params − γ ∇L (reference.biased_mf.gradient) on every learned array."""
    gamma = 0.01
    model = _fit(small, _budget(clip_norm=1e30), learning_rate=gamma)
    start = dp_biased_mf.initial_parameters(_spec.spec_of(model), small, np.random.default_rng(1))
    grad = reference.gradient(model, small, params=start)
    for name, g in grad.items():
        np.testing.assert_allclose(model.parameters_[name], start[name] - gamma * g, rtol=0, atol=1e-12,
                                   err_msg=name)


@settings(deadline=None, max_examples=20)
@given(seed=st.integers(0, 2**16), clip=st.sampled_from([0.05, 0.3, 2.0]), user=st.integers(0, 39),
       biased=st.booleans())
def test_clipping_bounds_every_users_contribution(small, seed, clip, user, biased):
    """One C++ step with and without one user's unit in the batch (neighbouring data for that step, σ = 0):
    the released parameters (item factors and biases) end at most γ C apart."""
    gamma, d = 0.1, 4
    rng = np.random.default_rng(seed)
    users, items, values = small.user_item_arrays()
    start = {"user_factors": rng.normal(0, 1, (small.n_users, d)), "item_factors": rng.normal(0, 1, (small.n_items, d))}
    if biased:
        start.update(user_bias=rng.normal(0, 1, small.n_users), item_bias=rng.normal(0, 1, small.n_items))
    hyper = {"factors": d, "biased": biased, "global_bias": 3.0, "learning_rate": gamma, "regularization": 0.1,
             "bias_regularization": 0.1, "clip_norm": clip, "noise_scale": 0.0}

    def step(sampled):
        params = {k: v.copy() for k, v in start.items()}
        sr._core.dp_mf_step({**params, "unit_offsets": small.ratings.indptr.astype(np.int64), "users": users,
                             "items": items, "values": values, "sampled": np.asarray(sampled, dtype=np.int64),
                             "noise": None}, hyper)
        return np.concatenate([params[n].ravel() for n in ("item_factors", "item_bias") if n in params])

    everyone = np.arange(small.n_users)
    diff = step(everyone) - step(everyone[everyone != user])
    assert np.linalg.norm(diff) <= gamma * clip * (1 + 1e-9)


def test_noise_scale_matches_the_calibration(small):
    """(PMF: no private mean, whose noise would move the items too.)"""
    gamma, clip = 0.01, 0.7
    budget = _budget(2.0, clip_norm=clip)
    noisy = _fit(small, budget, learning_rate=gamma, biased=False)
    clean = _fit(small, _budget(clip_norm=clip), learning_rate=gamma, biased=False)
    sigma = noisy.privacy_["noise_multiplier"]
    assert sigma == calibrate_noise_multiplier(2.0, 1e-5, 1.0, 1, release_noise=budget.mean_noise_multiplier)
    _, noise = dp_biased_mf.draws(1, 0, small.n_users, 1.0, (small.n_items, 10), sigma)
    drift = (noisy.parameters_["item_factors"] - clean.parameters_["item_factors"]) / (-gamma * sigma * clip)
    np.testing.assert_allclose(drift, noise[:, :10], atol=1e-9)
    assert np.std(drift) == pytest.approx(1.0, abs=0.1)


def test_sampling_rate_is_the_share_of_units_per_step():
    masks = [dp_biased_mf.draws(0, t, 10_000, 0.05, (1, 1), 0.0)[0] for t in range(5)]
    assert np.mean(masks) == pytest.approx(0.05, abs=0.005)
    assert not np.array_equal(masks[0], masks[1])


# -- pre-processing --------------------------------------------------------------------------------------------
def test_bounding_keeps_at_most_m_ratings_and_e_edges_chosen_by_the_seed(small):
    out = bound_contributions(small, max_ratings=1, max_edges=2, seed=5)
    assert np.diff(out.ratings.indptr).max() <= 1 and np.diff(out.trust.indptr).max() <= 2
    kept = np.minimum(np.diff(small.ratings.indptr), 1)
    assert np.array_equal(np.diff(out.ratings.indptr), kept)
    assert (out.ratings - small.ratings.multiply(out.ratings != 0)).nnz == 0  # a subset, values unchanged
    again = bound_contributions(small, max_ratings=1, max_edges=2, seed=5)
    other = bound_contributions(small, max_ratings=1, max_edges=2, seed=6)
    assert (again.ratings != out.ratings).nnz == 0 and (other.ratings != out.ratings).nnz > 0
    assert bound_contributions(small, seed=0).ratings.nnz == small.ratings.nnz


def test_what_a_user_keeps_does_not_depend_on_another_users_data(small):
    """User-level neighbours (one user's ratings and edges replaced, the id spaces public): every other user
    keeps the same entries. (Keys by global position failed this: a user's data moved later users' keys.)"""
    ratings, trust = small.ratings.tolil(copy=True), small.trust.tolil(copy=True)
    ratings[0, :] = 0
    trust[0, :] = 0
    neighbour = sr.Dataset._new(ratings.tocsr(), trust.tocsr(), small.user_ids, small.item_ids, small.rating_scale)
    neighbour.ratings.eliminate_zeros()
    neighbour.trust.eliminate_zeros()
    a = bound_contributions(small, max_ratings=2, max_edges=1, seed=3)
    b = bound_contributions(neighbour, max_ratings=2, max_edges=1, seed=3)
    assert np.diff(small.ratings.indptr)[1:].max() > 2  # the bound bites on the other users
    for x, y in ((a.ratings, b.ratings), (a.trust, b.trust)):
        assert (x[1:] != y[1:]).nnz == 0


def test_keyed_hashing_and_rare_item_suppression(small):
    a, b = hash_ids([1, 2, 3], b"key"), hash_ids([1, 2, 3], b"other")
    assert len(set(a)) == 3 and not set(a) & set(b) and list(hash_ids([1], "key")) == [a[0]]
    with pytest.raises(ValueError, match="key"):
        hash_ids([1], b"")
    anon = anonymize_ids(small, "k")
    assert not set(anon.user_ids) & set(anon.item_ids) and (anon.ratings != small.ratings).nnz == 0
    raters = np.bincount(small.ratings.indices, minlength=small.n_items)
    kept = suppress_rare_items(small, 8)
    left = np.bincount(kept.ratings.indices, minlength=small.n_items)
    assert np.array_equal(left, np.where(raters >= 8, raters, 0))
    with pytest.raises(ValueError, match="k="):
        suppress_rare_items(small, 0)


# -- what a private fit refuses (review of issue 19) -------------------------------------------------------------
def test_a_private_fit_refuses_what_the_accountant_does_not_cover(small):
    import copy

    plain = sr.BiasedMF(epochs=1, seed=0).fit(small)
    plain.set_params(privacy=_budget(4.0, sampling_rate=0.5))
    with pytest.raises(ValueError, match="warm_start"):
        plain.fit(small, warm_start=True)
    with pytest.raises(ValueError, match="early stopping"):
        sr.BiasedMF(privacy=_budget(4.0)).fit(small, early_stopping=True)
    with pytest.raises(ValueError, match="early stopping"):
        sr.BiasedMF(privacy=_budget(4.0)).fit(small, validation=0.1)
    features = sr.features.Features(np.ones((small.n_items, 2)), small.item_ids)
    with pytest.raises(ValueError, match="feature prior"):
        sr.BiasedMF(privacy=_budget(4.0)).fit(small, item_features=features)
    with pytest.raises(ValueError, match="distributed"):
        sr.distributed.fit(sr.BiasedMF(privacy=_budget(4.0)), small)
    private = _fit(small, _budget(4.0, sampling_rate=0.5))
    with pytest.raises(ValueError, match="fold_in_items"):
        private.fold_in_items((np.array([0]), np.array([small.n_items]), np.array([3.0])))
    # copies share the budget's record: a copy cannot spend a fresh budget
    twin = copy.deepcopy(sr.BiasedMF(privacy=private.privacy))
    assert twin.privacy is private.privacy
    with pytest.raises(PrivacyBudgetExceeded):
        twin.fit(small)
    # a later non-private fit drops the guarantee of the private one
    private.set_params(privacy=None).fit(small)
    assert not hasattr(private, "privacy_")


def test_a_private_fit_releases_no_training_loss(small):
    """The loss is a statistic of the private data outside the accountant: history records None."""
    model = _fit(small, _budget(), epochs=2)
    assert [record["loss"] for record in model.history] == [None, None]
