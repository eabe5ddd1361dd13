"""Private ALS / SocialALS (socialrec.privacy.dp_als): the models against their loop reference, the sensitivity
bound, the noise scale against the calibration, ε against dp-accounting's own figure, the noiseless unclipped
case against non-private ALS, and the refusals."""
import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, strategies as st

import socialrec as sr
from socialrec.privacy import PrivacyBudget, PrivacyBudgetExceeded, calibrate_noise_multiplier, dp_als
from socialrec.reference import _spec, dp_als as reference, social_als as social_reference

dp_accounting = pytest.importorskip("dp_accounting", reason="needs the extra socialrec[privacy] (dp-accounting)")

MODEL = {"factors": 3, "epochs": 2, "alpha": 2.0, "regularization": 0.5, "epsilon": 1.0, "seed": 1,
         "dtype": "float64"}


@pytest.fixture(scope="module")
def small():
    return sr.datasets.synthetic(n_users=30, n_items=20, seed=3)


def _budget(eps=2.0, **kw):
    kw = {"clip_norm": 0.3, "max_ratings": 6, "max_edges": 4, **kw}
    return PrivacyBudget(eps, 1e-5, "user", **kw)


def _reference_fit(model, train):
    spec = _spec.spec_of(model)
    bounded = dp_als.bounded(model.privacy, train, model.seed)
    similarity = None
    if isinstance(model, sr.SocialALS):
        similarity = social_reference.similarity(bounded.trust, normalized=model.similarity == "normalized")
    return reference.fit(spec, bounded, model.privacy_, similarity)


# -- the models against the reference -------------------------------------------------------------------------
@pytest.mark.parametrize("cls, extra", [(sr.ALS, {"solver": "cholesky"}), (sr.ALS, {"solver": "cg"}),
                                        (sr.SocialALS, {"social_regularization": 0.7}),
                                        (sr.SocialALS, {"social_regularization": 0.7, "similarity": "normalized",
                                                        "solver": "cholesky"}),
                                        (sr.ALS, {"alpha": 0.0})])
@pytest.mark.parametrize("eps", [1.0, math.inf])
def test_private_fit_equals_the_reference(small, cls, extra, eps):
    model = cls(privacy=_budget(eps), **{**MODEL, **extra}).fit(small)
    assert model.privacy_["noise_multiplier"] > 0 or eps == math.inf
    expected = _reference_fit(model, small)
    for name in ("user_factors", "item_factors"):
        np.testing.assert_allclose(model.parameters_[name], expected[name], rtol=0, atol=1e-10)


@pytest.mark.parametrize("cls", [sr.ALS, sr.SocialALS])
def test_a_private_fit_releases_no_training_loss(small, cls):
    """The loss is a statistic of the private data outside the accountant: history records None."""
    model = cls(privacy=_budget(), **MODEL).fit(small)
    assert model.history and all(record["loss"] is None for record in model.history)


def test_noiseless_unclipped_fit_is_non_private_als():
    rng = np.random.default_rng(5)
    counts = (rng.random((25, 12)) < 0.4) * 1.0  # 0/1 data: the weight bound (1) clips nothing
    counts[0] = 1  # every item rated: the private fit's initial rows (all drawn) are ALS's
    small = sr.Dataset.from_sparse(sp.csr_matrix(counts.astype(np.float32)))
    budget = PrivacyBudget(math.inf, 1e-5, "user", clip_norm=math.inf, max_ratings=None)
    settings_ = {**MODEL, "solver": "cholesky", "epochs": 3}
    private = sr.ALS(privacy=budget, **settings_).fit(small)
    plain = sr.ALS(**settings_).fit(small)
    for name in ("user_factors", "item_factors"):
        np.testing.assert_allclose(private.parameters_[name], plain.parameters_[name], rtol=0, atol=1e-10)


def test_social_als_without_the_graph_term_is_private_als(small):
    a = sr.ALS(privacy=_budget(), **MODEL).fit(small)
    b = sr.SocialALS(privacy=_budget(), social_regularization=0.0, **MODEL).fit(small)
    np.testing.assert_array_equal(a.parameters_["item_factors"], b.parameters_["item_factors"])


def test_the_graph_shapes_only_the_user_side(small):
    """SocialALS's released items are ALS's: the statistics read the local (graph-free) user factors."""
    a = sr.ALS(privacy=_budget(), **MODEL).fit(small)
    b = sr.SocialALS(privacy=_budget(), social_regularization=2.0, **MODEL).fit(small)
    np.testing.assert_array_equal(a.parameters_["item_factors"], b.parameters_["item_factors"])
    assert not np.allclose(a.parameters_["user_factors"], b.parameters_["user_factors"])


# -- the sensitivity ------------------------------------------------------------------------------------------
def _engine(train, budget, alpha=2.0):
    weights = sr.ALS(epsilon=1.0)._weighted(train.ratings)
    return dp_als.DPALS(budget, train, 1, 0, alpha, 0.5, weights)


def _released_vector(engine, X, k):
    """Every number an item step releases, noiseless: G's upper triangle, then each item's A and b."""
    parts = []
    for (start, _), G, A, b in engine.statistics(X, k):
        if start == 0:
            parts.append(G[np.triu_indices(k)])
        parts.append(np.concatenate([A, b], axis=1).ravel())
    return np.concatenate(parts)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 5), scale=st.floats(0.01, 20.0), alpha=st.floats(0.0, 30.0),
       m=st.integers(1, 8))
def test_one_users_change_to_the_statistics_is_within_the_sensitivity(seed, k, scale, alpha, m):
    rng = np.random.default_rng(seed)
    n_users, n_items = 8, 12
    dense = (rng.random((n_users, n_items)) < 0.6) * rng.random((n_users, n_items)) * 5.0
    dense[0, :] = (rng.random(n_items) < 0.9) * (1.0 + rng.random(n_items) * 4)  # the user removed has many
    with_user = sr.Dataset.from_sparse(sp.csr_matrix(dense))
    dense[0, :] = 0.0
    without = sr.Dataset.from_sparse(sp.csr_matrix(dense), user_ids=with_user.user_ids, item_ids=with_user.item_ids)
    def budget():  # the statistics are noiseless here: ε = ∞ spares the accountant
        return PrivacyBudget(math.inf, 1e-5, "user", clip_norm=0.7, max_ratings=m)

    X = rng.normal(0.0, scale, size=(n_users, k))
    X_without = X.copy()
    X_without[0] = 0.0  # a user who is not there contributes nothing
    a = _released_vector(_engine(dp_als.bounded(budget(), with_user, 0), budget(), alpha), X, k)
    b = _released_vector(_engine(dp_als.bounded(budget(), without, 0), budget(), alpha), X_without, k)
    assert np.linalg.norm(a - b) <= dp_als.sensitivity(0.7, m, alpha) * (1 + 1e-12)


def test_the_sensitivity_bound_is_reached_by_a_clipped_user_at_the_weight_bound():
    m, k, B, alpha = 3, 1, 0.5, 4.0
    data = sr.Dataset.from_sparse(sp.csr_matrix(np.ones((1, m))))
    budget = PrivacyBudget(1.0, 1e-5, "user", clip_norm=B, max_ratings=m)
    X = np.full((1, k), 10.0)  # clipped to norm B
    change = np.linalg.norm(_released_vector(_engine(data, budget, alpha), X, k))
    assert change == pytest.approx(dp_als.sensitivity(B, m, alpha), rel=1e-12)


# -- the noise and the accounting ---------------------------------------------------------------------------------
def test_noise_scale_matches_the_calibration(small):
    budget = _budget(3.0, accountant="rdp")
    engine = _engine(dp_als.bounded(budget, small, 0), budget)
    sigma = calibrate_noise_multiplier(3.0, 1e-5, 1.0, 1, "rdp")
    assert engine.noise_multiplier == sigma
    assert sr.privacy.epsilon(1.0, sigma, 1, 1e-5) <= 3.0 < sr.privacy.epsilon(1.0, sigma * (1 - 2e-3), 1, 1e-5)
    k = 4
    X = np.random.default_rng(0).normal(size=(small.n_users, k))
    noisy = next(engine.statistics(X, k, step=0))
    clean = next(engine.statistics(X, k))
    P = k * (k + 1) // 2
    rng = np.random.default_rng([0, dp_als.DP_ALS_STREAM, 0])
    scale = sigma * engine.sensitivity
    np.testing.assert_allclose((noisy[1] - clean[1])[np.triu_indices(k)] / scale, rng.standard_normal(P),
                               rtol=0, atol=1e-9)
    z = rng.standard_normal((small.n_items, P + k))
    np.testing.assert_allclose((noisy[2] - clean[2]) / scale, z[:, :P], rtol=0, atol=1e-9)
    np.testing.assert_allclose((noisy[3] - clean[3]) / scale, z[:, P:], rtol=0, atol=1e-9)


@pytest.mark.parametrize("accountant", ["rdp", "pld"])
def test_reported_epsilon_is_dp_accountings_figure_for_the_composed_gaussians(small, accountant):
    model = sr.ALS(privacy=_budget(2.0, accountant=accountant), **{**MODEL, "epochs": 4}).fit(small)
    report = model.privacy_
    sigma, steps = report["noise_multiplier"], report["steps"]
    assert steps == 4 and report["sampling_rate"] == 1.0 and report["unit"] == "user"
    acc = dp_accounting.rdp.RdpAccountant() if accountant == "rdp" else dp_accounting.pld.PLDAccountant()
    gaussians = acc.compose(dp_accounting.SelfComposedDpEvent(dp_accounting.GaussianDpEvent(sigma), steps))
    own = gaussians.get_epsilon(1e-5)
    if accountant == "rdp":
        assert report["epsilon"] == own
    else:  # PLD discretises the sampled event (q = 1) and the plain Gaussian apart: the same to ~1e-9
        assert report["epsilon"] == pytest.approx(own, rel=1e-6)
    assert own <= 2.0 * (1 + 1e-3)
    assert report["sensitivity"] == dp_als.sensitivity(0.3, 6, MODEL["alpha"])


# -- refusals -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [({"unit": "rating"}, "protects a 'user'"),
                                           ({"unit": "edge"}, "protects a 'user'"),
                                           ({"max_ratings": None}, "max_ratings")])
def test_budgets_private_als_cannot_honour_are_refused(small, kwargs, match):
    unit = kwargs.pop("unit", "user")
    budget = PrivacyBudget(2.0, 1e-5, unit, **{"max_ratings": 6, **kwargs})
    model = sr.ALS(privacy=budget, **MODEL)
    with pytest.raises(ValueError, match=match):
        model.fit(small)
    assert not model.fitted and budget.spent == []


def test_the_data_mean_as_log_scale_is_refused(small):
    model = sr.ALS(privacy=_budget(), **{**MODEL, "epsilon": None})
    with pytest.raises(ValueError, match="public epsilon"):
        model.fit(small)


@pytest.mark.parametrize("fit_kwargs, match", [({"warm_start": True}, "warm_start"),
                                               ({"early_stopping": 2}, "early stopping")])
def test_fit_options_outside_the_accountant_are_refused(small, fit_kwargs, match):
    model = sr.SocialALS(privacy=_budget(), **MODEL)
    if fit_kwargs.get("warm_start"):
        model.fit(small)
        model.privacy = _budget()
    with pytest.raises(ValueError, match=match):
        model.fit(small, **fit_kwargs)


def test_a_spent_budget_is_refused(small):
    budget = _budget()
    sr.ALS(privacy=budget, **MODEL).fit(small)
    model = sr.ALS(privacy=budget, **MODEL)
    with pytest.raises(PrivacyBudgetExceeded):
        model.fit(small)
    assert not model.fitted


def test_no_item_step_past_the_charge(small):
    budget = _budget()
    engine = _engine(dp_als.bounded(budget, small, 0), budget)
    X = np.zeros((small.n_users, 2))
    engine.item_step(X, 2)
    with pytest.raises(PrivacyBudgetExceeded, match="refusing"):
        engine.item_step(X, 2)
