"""regularization_scaling on SVD++ and the social SGD models (issue 15; BiasedMF's own tests are in
test_biased_mf.py). The model suite (model_suite.CASES: SoRec-sqrt-count, SocialMF-count-unbiased, ...) runs the
weighted forms against the reference in float64, the gradient checks, persistence and thread independence."""
from __future__ import annotations

import numpy as np
import pytest

import socialrec as sr
from socialrec import _core, _engine
from socialrec.tuning import resolve_search_space

MODELS = ["SVDpp", "SoRec", "SocialMF", "SoReg", "TrustMF", "RSTE"]
TOTALS = {"sqrt_count": np.sqrt, "count": lambda n: np.ones_like(n, dtype=np.float64)}


def _data():
    return sr.datasets.synthetic(n_users=40, n_items=25, seed=1)


@pytest.mark.parametrize("name", MODELS)
def test_scaling_is_validated(name):
    cls = getattr(sr, name)
    assert cls().regularization_scaling == "occurrence"
    for bad in ("sqrt", "Count", None, 0.5):
        with pytest.raises(ValueError, match="regularization_scaling.*'occurrence', 'sqrt_count' or 'count'"):
            cls(regularization_scaling=bad)


def test_trustsvd_states_its_own_weighted_form_and_refuses_others():
    assert sr.TrustSVD().regularization_scaling == "sqrt_count"
    for bad in ("occurrence", "count"):
        with pytest.raises(ValueError, match="regularization_scaling.*'sqrt_count'"):
            sr.TrustSVD(regularization_scaling=bad)


def _rating_rows(name):
    """(rows of the rating term's user side, item side): [(factor name, bias name or None), ...] each."""
    if name == "TrustMF":
        return ([("user_factors", "user_bias"), ("trustee_user_factors", "trustee_user_bias")],
                [("item_factors", "item_bias"), ("trustee_item_factors", "trustee_item_bias")])
    return [("user_factors", "user_bias")], [("item_factors", "item_bias")]


@pytest.mark.parametrize("scaling", ["sqrt_count", "count"])
@pytest.mark.parametrize("name", MODELS)
def test_a_rows_penalty_totals_lambda_times_its_scaled_count(name, scaling):
    """The objective by rows, written out: moving from "occurrence" to a weighted form changes only the rating
    term's penalties, a row with n ratings carrying total(n) λ instead of n λ (SVD++: also y_j, which each rating
    of u carries for every j in I_u). The fitted parameters are the same (regularization_scaling is not a
    parameter the fitted arrays depend on), so the two losses differ by exactly that."""
    data = _data()
    lam, lam_b = 0.3, 0.07
    model = getattr(sr, name)(factors=3, epochs=2, dtype="float64", regularization=lam, bias_regularization=lam_b,
                              seed=0).fit(data)
    occurrence = model.loss(data)
    model.set_params(regularization_scaling=scaling)
    assert model.fitted
    p = model.parameters_
    users, items, _ = data.user_item_arrays()
    total = TOTALS[scaling]
    expected = occurrence
    user_rows, item_rows = _rating_rows(name)
    for index, sides in ((users, user_rows), (items, item_rows)):
        rows, n = np.unique(index, return_counts=True)
        for factors, bias in sides:
            x = p[factors][rows]
            change = lam * np.sum(x * x, axis=1)
            if bias in p:
                change = change + lam_b * p[bias][rows] ** 2
            expected += 0.5 * np.sum((total(n) - n) * change)
    if name == "SVDpp":  # y_j: sum over users u of n_u (w_j - 1) lambda |y_j|^2 for j in I_u
        counts_u = np.bincount(users, minlength=data.n_users)
        counts_i = np.bincount(items, minlength=data.n_items).astype(np.float64)
        w = total(counts_i) / np.maximum(counts_i, 1)
        Y = p["implicit_factors"]
        expected += 0.5 * lam * np.sum(counts_u[users] * (w[items] - 1) * np.sum(Y[items] ** 2, axis=1))
    assert model.loss(data) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", MODELS)
def test_scaling_changes_the_fit(name):
    data = _data()
    fits = {s: getattr(sr, name)(factors=3, epochs=5, seed=0, regularization=0.1, regularization_scaling=s)
            .fit(data).parameters_["item_factors"] for s in ("occurrence", "sqrt_count", "count")}
    assert not np.allclose(fits["sqrt_count"], fits["occurrence"])
    assert not np.allclose(fits["count"], fits["sqrt_count"])


# the kernel, and how each model's _prepare state spreads into its arrays (as its _run_epoch does)
KERNELS = {"SVDpp": ("svdpp_epoch", ("arrays",)), "SoRec": ("sorec_epoch", ("grid", "link_grid")),
           "SocialMF": ("social_mf_epoch", ("grid", "trust")), "SoReg": ("soreg_epoch", ("arrays",)),
           "TrustMF": ("trustmf_epoch", ("arrays",)), "RSTE": ("rste_epoch", ("arrays",))}


@pytest.mark.parametrize("name", MODELS)
def test_kernel_checks_the_penalty_weights(name):
    """The bindings read user_weight / item_weight only with 'weighted' and check their presence, size and
    dtype."""
    data = _data()
    model = getattr(sr, name)(factors=3, epochs=1, regularization_scaling="sqrt_count").fit(data)
    state = model._prepare(data)
    kernel, parts = KERNELS[name]
    epoch = getattr(_core, kernel)
    arrays = dict(model.parameters_)
    for part in parts:
        arrays.update({part: state[part]} if part == "link_grid" else state[part])
    settings = _engine.pass_settings(0, 0, 1)
    assert np.isfinite(epoch(arrays, state["hyper"], settings))
    with pytest.raises(ValueError, match="user_weight"):
        epoch({**arrays, "user_weight": np.ones(3)}, state["hyper"], settings)
    with pytest.raises(TypeError, match="item_weight.*dtype"):
        epoch({**arrays, "item_weight": np.ones(data.n_items, np.float32)}, state["hyper"], settings)
    without = {k: v for k, v in arrays.items() if k != "user_weight"}
    with pytest.raises((KeyError, ValueError), match="user_weight"):
        epoch(without, state["hyper"], settings)
    assert np.isfinite(epoch(without, {**state["hyper"], "weighted": False}, settings))  # not read then


@pytest.mark.parametrize("name", ["BiasedMF"] + MODELS)
def test_default_search_space_searches_the_scaling_with_wider_penalties(name):
    cls = getattr(sr, name)
    space = resolve_search_space(cls)
    assert space["regularization_scaling"] == ("choice", ["occurrence", "sqrt_count"])
    for key in ("regularization", "bias_regularization"):
        kind, low, high, moves = space[key]  # the range moves with the scaling (30x for "sqrt_count")
        assert kind == "log" and moves == {"by": "regularization_scaling", "sqrt_count": 30.0, "count": 100.0}
    assert space["regularization"][1:3] == getattr(sr, name)().search_space["regularization"][1:3]


class _Trial:
    """A stand-in Optuna trial: every range gives its low end, a choice its last value; records the names."""

    def __init__(self):
        self.names = {}

    def suggest_float(self, name, low, high, log=False):
        self.names[name] = (low, high)
        return low

    def suggest_categorical(self, name, values):
        self.names[name] = tuple(values)
        return values[-1]

    def suggest_int(self, name, low, high):
        return low


def test_penalty_ranges_move_with_the_scaling():
    """A trial that draws "sqrt_count" searches λ 30x higher, under its own name; a fixed "count" moves it 100x;
    without a scaling in the space, the class default ("occurrence") keeps the plain range."""
    from socialrec.tuning import _suggest
    space = resolve_search_space(sr.SoReg)
    trial = _Trial()
    params = _suggest(trial, space, sr.SoReg._defaults)
    assert params["regularization_scaling"] == "sqrt_count"
    low, high = sr.SoReg.search_space["regularization"][1:3]
    assert trial.names["regularization|regularization_scaling=sqrt_count"] == (low * 30, high * 30)
    assert params["regularization"] == low * 30
    fixed = {k: v for k, v in space.items() if k != "regularization_scaling"}
    trial = _Trial()
    params = _suggest(trial, fixed, {**sr.SoReg._defaults, "regularization_scaling": "count"})
    assert trial.names["regularization|regularization_scaling=count"] == (low * 100, high * 100)
    trial = _Trial()
    _suggest(trial, fixed, sr.SoReg._defaults)
    assert trial.names["regularization"] == (low, high)
    with pytest.raises(ValueError, match="expected"):
        resolve_search_space(sr.SoReg, {"regularization": ("log", 1e-3, 1.0, {"sqrt_count": 30.0})})
