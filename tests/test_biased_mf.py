"""BiasedMF/PMF-specific checks: the adaptive (RPCS) learning-rate schedule. The shared suite in test_models.py
runs both schedules (cases BiasedMF, PMF, BiasedMF-adaptive, PMF-adaptive) against the reference."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

import socialrec as sr
from model_suite import assert_params_close, tiny_data
from socialrec import _core, _engine
from strategies import datasets

ADAPTIVE = {"learning_rate_schedule": "adaptive", "learning_rate": 0.1}


def test_schedule_is_validated():
    assert sr.BiasedMF().learning_rate_schedule == "constant"
    for bad in ("Adaptive", "adagrad", None, 1):
        with pytest.raises(ValueError, match="learning_rate_schedule.*'constant' or 'adaptive'"):
            sr.BiasedMF(learning_rate_schedule=bad)
    model = sr.BiasedMF()
    with pytest.raises(ValueError, match="learning_rate_schedule"):
        model.set_params(learning_rate_schedule="rpcs")
    assert model.learning_rate_schedule == "constant"


def test_constant_is_the_default_and_the_schedule_changes_the_result():
    data = tiny_data()
    default = sr.BiasedMF(factors=4, epochs=3, seed=0).fit(data)
    constant = sr.BiasedMF(factors=4, epochs=3, seed=0, learning_rate_schedule="constant").fit(data)
    adaptive = sr.BiasedMF(factors=4, epochs=3, seed=0, learning_rate_schedule="adaptive").fit(data)
    for k in default.parameters_:
        assert np.array_equal(default.parameters_[k], constant.parameters_[k]), k
    assert not np.array_equal(default.parameters_["user_factors"], adaptive.parameters_["user_factors"])


@pytest.mark.parametrize("biased", [True, False])
def test_accumulators_are_fit_state_not_parameters(biased, tmp_path):
    data = tiny_data()
    model = sr.BiasedMF(factors=4, epochs=3, seed=0, biased=biased, **ADAPTIVE)
    first = {k: v.copy() for k, v in model.fit(data).parameters_.items()}
    assert not any("accumulator" in k for k in first)
    model.fit(data)  # a new fit restarts every accumulator at 1: the same result again
    for k, v in first.items():
        assert np.array_equal(model.parameters_[k], v), k
    path = tmp_path / "m.npz"
    model.save(path)
    assert not any("accumulator" in k for k in np.load(path).files)


def test_first_step_of_a_row_uses_the_learning_rate():
    """G starts at 1: a single rating's update is the constant step; the second differs (G grew)."""
    data = tiny_data()
    one = data.with_ratings(_keep_first(data.ratings, 1))
    kw = {"factors": 4, "epochs": 1, "seed": 0, "dtype": "float64", "learning_rate": 0.05}
    a = sr.BiasedMF(**kw).fit(one)
    b = sr.BiasedMF(**kw, learning_rate_schedule="adaptive").fit(one)
    for k in a.parameters_:
        np.testing.assert_allclose(a.parameters_[k], b.parameters_[k], rtol=0, atol=1e-15, err_msg=k)
    c = sr.BiasedMF(**{**kw, "epochs": 2}).fit(one)
    d = sr.BiasedMF(**{**kw, "epochs": 2}, learning_rate_schedule="adaptive").fit(one)
    assert not np.allclose(c.parameters_["user_factors"], d.parameters_["user_factors"], rtol=0, atol=1e-12)


def _keep_first(ratings, n):
    r = ratings.tocoo()
    import scipy.sparse as sp

    return sp.csr_matrix((r.data[:n], (r.row[:n], r.col[:n])), shape=ratings.shape)


@settings(deadline=None, max_examples=12)
@given(datasets(max_users=8, max_items=8, max_ratings=30))
def test_adaptive_cpp_equals_reference_on_awkward_data(ds):
    """Empty rows and columns, a single rating: the adaptive C++ pass still equals the reference."""
    for biased in (True, False):
        model = sr.BiasedMF(factors=3, epochs=2, dtype="float64", num_threads=1, seed=4, biased=biased,
                            **ADAPTIVE).fit(ds)
        assert_params_close(model.parameters_, sr.reference.fit(model, ds), rtol=0, atol=1e-10, what="adaptive")


def test_adaptive_rates_shrink_where_a_constant_step_diverges():
    """γ = 0.5 blows the constant schedule up; RPCS divides it by √G as gradients accumulate and trains."""
    ds = sr.datasets.synthetic(n_users=400, n_items=300, density=0.1, seed=2)
    train, test = sr.split.train_test_split(ds, test_size=0.2, seed=0)
    kw = {"factors": 8, "epochs": 20, "learning_rate": 0.5, "regularization": 0.05, "seed": 0}
    with pytest.raises(sr.DivergenceError):
        sr.BiasedMF(**kw).fit(train)
    model = sr.BiasedMF(**kw, learning_rate_schedule="adaptive").fit(train)
    assert sr.metrics.rmse(model, test) < 0.7


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_checks_the_accumulator_arrays(dtype):
    data = tiny_data()
    model = sr.BiasedMF(factors=4, epochs=1, dtype=np.dtype(dtype).name, **ADAPTIVE).fit(data)
    state = model._prepare(data)
    settings = _engine.pass_settings(0, 0, 1)
    arrays = {**model.parameters_, **state["grid"], **state["schedule"]}
    assert np.isfinite(_core.biased_mf_epoch(arrays, state["hyper"], settings))
    with pytest.raises(ValueError, match="user_accumulators.*shape"):
        _core.biased_mf_epoch({**arrays, "user_accumulators": np.ones(3, dtype)}, state["hyper"], settings)
    with pytest.raises(TypeError, match="item_accumulators.*dtype"):
        _core.biased_mf_epoch({**arrays, "item_accumulators": np.ones(data.n_items, np.int64)}, state["hyper"],
                              settings)
    missing = {k: v for k, v in arrays.items() if k != "item_accumulators"}
    with pytest.raises(KeyError, match="item_accumulators"):
        _core.biased_mf_epoch(missing, state["hyper"], settings)


# -- learning_rate_decay and init="uniform" (the model suite checks both against the reference) --------------
def test_decay_and_init_are_validated():
    model = sr.BiasedMF()
    assert (model.learning_rate_decay, model.init) == (1.0, "normal")
    for bad in (0, -0.5, 1.5, float("nan"), "0.9", None):
        with pytest.raises(ValueError, match=r"learning_rate_decay.*\(0, 1\]"):
            sr.BiasedMF(learning_rate_decay=bad)
    for bad in ("Uniform", "xavier", None, 0):
        with pytest.raises(ValueError, match="init.*'normal' or 'uniform'"):
            sr.BiasedMF(init=bad)


def test_epoch_learning_rate_is_geometric():
    model = sr.BiasedMF(learning_rate=0.1, learning_rate_decay=0.5)
    assert [model.epoch_learning_rate(e) for e in range(3)] == [0.1, 0.05, 0.025]
    assert sr.BiasedMF(learning_rate=0.1).epoch_learning_rate(7) == 0.1


@pytest.mark.parametrize("schedule", ["constant", "adaptive"])
def test_decay_one_is_the_undecayed_fit_and_below_one_changes_it(schedule):
    data = tiny_data()
    kw = {"factors": 4, "epochs": 3, "seed": 0, "learning_rate_schedule": schedule}
    plain = sr.BiasedMF(**kw).fit(data).parameters_
    one = sr.BiasedMF(**kw, learning_rate_decay=1.0).fit(data).parameters_
    decayed = sr.BiasedMF(**kw, learning_rate_decay=0.5).fit(data).parameters_
    for k in plain:
        assert np.array_equal(plain[k], one[k]), k
    assert not np.array_equal(plain["user_factors"], decayed["user_factors"])


def test_decayed_first_epoch_is_the_undecayed_one():
    """Epoch 0 steps with γ itself: one epoch with any decay equals one epoch without."""
    data = tiny_data()
    kw = {"factors": 4, "epochs": 1, "seed": 0, "dtype": "float64"}
    a = sr.BiasedMF(**kw).fit(data).parameters_
    b = sr.BiasedMF(**kw, learning_rate_decay=0.3).fit(data).parameters_
    for k in a:
        assert np.array_equal(a[k], b[k]), k


@pytest.mark.parametrize("biased", [True, False])
def test_uniform_init_is_positive_below_init_std_and_zero_for_unrated_rows(biased):
    data = tiny_data()
    rated_users = np.diff(data.ratings.tocsr().indptr) > 0
    rated_items = np.asarray(data.ratings.getnnz(axis=0) > 0)
    model = sr.BiasedMF(factors=6, epochs=0, seed=3, init="uniform", init_std=0.05, biased=biased,
                        dtype="float64").fit(data)
    for key, rated in (("user_factors", rated_users), ("item_factors", rated_items)):
        x = model.parameters_[key]
        assert np.all(x[rated] > 0) and np.all(x[rated] < 0.05), key
        assert np.all(x[~rated] == 0), key
    normal = sr.BiasedMF(factors=6, epochs=0, seed=3, init_std=0.05, biased=biased, dtype="float64").fit(data)
    assert np.any(normal.parameters_["user_factors"] < 0)



# -- regularization_scaling (issue 15; the model suite runs BiasedMF-sqrt-count and PMF-count against the
# reference) ------------------------------------------------------------------------------------------------
def test_scaling_is_validated():
    assert sr.BiasedMF().regularization_scaling == "occurrence"
    for bad in ("sqrt", "Count", None, 0.5):
        with pytest.raises(ValueError, match="regularization_scaling.*'occurrence', 'sqrt_count' or 'count'"):
            sr.BiasedMF(regularization_scaling=bad)
    with pytest.raises(ValueError, match="regularization_scaling='count' needs learning_rate_schedule='constant'"):
        sr.BiasedMF(regularization_scaling="count", **ADAPTIVE)


@pytest.mark.parametrize("scaling, total", [("occurrence", lambda n: n), ("sqrt_count", np.sqrt),
                                            ("count", lambda n: 1.0)])
def test_a_rows_penalty_totals_lambda_times_its_scaled_count(scaling, total):
    """The objective by rows, written out: a row with n ratings carries λ n, λ √n or λ in all."""
    data = tiny_data()
    model = sr.BiasedMF(factors=3, epochs=2, dtype="float64", regularization=0.3, bias_regularization=0.07,
                        regularization_scaling=scaling).fit(data)
    p = model.parameters_
    users, items, values = data.user_item_arrays()
    e = values - (p["global_bias"] + p["user_bias"][users] + p["item_bias"][items]
                  + np.sum(p["user_factors"][users] * p["item_factors"][items], axis=1))
    expected = 0.5 * float(e @ e)
    for rows, factors, bias in ((users, p["user_factors"], p["user_bias"]), (items, p["item_factors"], p["item_bias"])):
        for row, n in zip(*np.unique(rows, return_counts=True)):
            expected += 0.5 * total(n) * (0.3 * factors[row] @ factors[row] + 0.07 * bias[row] ** 2)
    assert model.loss(data) == pytest.approx(expected, rel=1e-12)


def test_scaling_changes_the_fit_and_shrinks_rare_rows_relatively_more():
    data = tiny_data()
    fits = {s: sr.BiasedMF(factors=4, epochs=20, seed=0, regularization_scaling=s).fit(data).parameters_
            for s in ("occurrence", "sqrt_count", "count")}
    for s in ("sqrt_count", "count"):
        assert not np.allclose(fits[s]["user_factors"], fits["occurrence"]["user_factors"])
    # weights 1 / √c / 1/c per rating: the weighted forms penalise every row with more than one rating less
    counts = data.ratings.getnnz(axis=1)
    heavy = counts == counts.max()
    norm = {s: np.abs(f["user_bias"][heavy]).mean() for s, f in fits.items()}
    assert norm["occurrence"] < norm["sqrt_count"] < norm["count"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_checks_the_penalty_weights(dtype):
    data = tiny_data()
    model = sr.BiasedMF(factors=4, epochs=1, dtype=np.dtype(dtype).name, regularization_scaling="sqrt_count").fit(data)
    state = model._prepare(data)
    settings = _engine.pass_settings(0, 0, 1)
    arrays = {**model.parameters_, **state["grid"]}
    assert np.isfinite(_core.biased_mf_epoch(arrays, state["hyper"], settings))
    with pytest.raises(ValueError, match="user_weight"):
        _core.biased_mf_epoch({**arrays, "user_weight": np.ones(3)}, state["hyper"], settings)
    with pytest.raises(TypeError, match="item_weight.*dtype"):
        _core.biased_mf_epoch({**arrays, "item_weight": np.ones(data.n_items, np.float32)}, state["hyper"], settings)
    accumulators = {"user_accumulators": np.ones(data.n_users, dtype), "item_accumulators": np.ones(data.n_items, dtype)}
    with pytest.raises(ValueError, match="constant schedule"):
        _core.biased_mf_epoch({**arrays, **accumulators}, {**state["hyper"], "adaptive": True}, settings)
