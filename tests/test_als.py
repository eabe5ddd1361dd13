"""ALS (WRMF) specifics: CG against the exact solve, monotone objective, the objective reported by the
kernel, thread determinism on several Gramian chunks, cold rows, binding and hyper-parameter checks."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import socialrec as sr
from model_suite import epoch_inputs, tiny_data
from ranking_reference import binarised, homophily_split, ndcg, popularity


def _medium():
    """Enough items for several Gramian chunks (> 256 rows) and enough rows for more than one thread."""
    return binarised(sr.datasets.synthetic(n_users=700, n_items=900, density=0.02, seed=4))


def test_cg_with_many_steps_equals_cholesky():
    data = tiny_data(ranking=True)
    params = dict(factors=6, epochs=6, alpha=5.0, regularization=0.1, dtype="float64")
    cg = sr.ALS(solver="cg", cg_steps=40, **params).fit(data)
    exact = sr.ALS(solver="cholesky", **params).fit(data)
    few = sr.ALS(solver="cg", cg_steps=1, **params).fit(data)
    for k in exact.parameters_:
        np.testing.assert_allclose(cg.parameters_[k], exact.parameters_[k], rtol=0, atol=1e-9, err_msg=k)
    # ... and one step is not enough to reach it (the comparison above can fail)
    assert np.max(np.abs(few.parameters_["user_factors"] - exact.parameters_["user_factors"])) > 1e-3


@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_objective_never_increases(solver):
    # Exact row solves are exact block-coordinate steps; CG warm-started from the current row only lowers
    # the row's quadratic too (its iterates minimise it over growing Krylov spaces that contain the start).
    data = tiny_data(ranking=True)
    model = sr.ALS(factors=5, epochs=25, alpha=5.0, regularization=0.05, dtype="float64", solver=solver).fit(data)
    losses = [h["loss"] for h in model.history]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(losses, losses[1:])), losses
    assert losses[-1] < 0.8 * losses[0]


@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_epoch_loss_is_the_objective_after_the_alternation(solver):
    data = tiny_data(ranking=True)
    model = sr.ALS(factors=5, epochs=4, alpha=5.0, dtype="float64", solver=solver).fit(data)
    assert model.history[-1]["loss"] == pytest.approx(model.loss(data), rel=1e-9)
    assert model.loss(data) == pytest.approx(sr.reference.loss(model, data), rel=1e-10)


def test_loss_counts_every_pair():
    """loss() is the dense objective Σ_all c (p − x·y)² + λ(‖X‖² + ‖Y‖²), written out here for one model."""
    data = tiny_data(ranking=True, n_users=12, n_items=6)
    model = sr.ALS(factors=3, epochs=2, alpha=2.5, regularization=0.3, dtype="float64").fit(data)
    X, Y = model.parameters_["user_factors"], model.parameters_["item_factors"]
    R = data.ratings.toarray()
    P, C = (R != 0).astype(float), 1 + 2.5 * R
    expected = np.sum(C * (P - X @ Y.T) ** 2) + 0.3 * (np.sum(X * X) + np.sum(Y * Y))
    assert model.loss(data) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("solver", ["cg", "cholesky"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_identical_on_one_two_and_three_threads(solver, dtype):
    data = _medium()
    fits = [sr.ALS(factors=16, epochs=3, num_threads=t, solver=solver, dtype=dtype).fit(data) for t in (1, 2, 3)]
    for other in fits[1:]:
        for k in fits[0].parameters_:
            assert np.array_equal(fits[0].parameters_[k], other.parameters_[k]), k
        assert [h["loss"] for h in other.history] == [h["loss"] for h in fits[0].history]


def test_rows_without_interactions_stay_zero():
    data = tiny_data(ranking=True)
    r = data.ratings.tolil()
    r[3, :] = 0
    r[:, 4] = 0
    data = data.with_ratings(r.tocsr())
    model = sr.ALS(factors=4, epochs=3).fit(data)
    assert not model.parameters_["user_factors"][3].any()
    assert not model.parameters_["item_factors"][4].any()


def test_confidence_weights_positives():
    """alpha > 0 must give the stored entries higher scores than alpha = 0 does (c = 1 + alpha r)."""
    data = tiny_data(ranking=True)
    u, i, _ = data.user_item_arrays()
    flat = sr.ALS(factors=4, epochs=8, alpha=0.0, regularization=0.1).fit(data).predict(u, i).mean()
    weighted = sr.ALS(factors=4, epochs=8, alpha=20.0, regularization=0.1).fit(data).predict(u, i).mean()
    assert weighted > flat + 0.2


def test_learns_more_than_popularity_on_planted_tastes():
    train, test = homophily_split(seed=0, density=0.1)
    model = sr.ALS(factors=8, epochs=15, alpha=3.0, regularization=5.0).fit(train)
    assert ndcg(model, test) > 1.1 * ndcg(popularity(train), test)


def test_bad_values_and_hyper_parameters_rejected():
    data = tiny_data(ranking=True)
    negative = data.ratings.copy()
    negative.data[5] = -1.0
    with pytest.raises(ValueError, match="non-negative"):
        sr.ALS(factors=2, epochs=1).fit(data.with_ratings(negative))
    for bad in ({"solver": "lu"}, {"cg_steps": 0}, {"regularization": 0.0}, {"alpha": -1.0},
                {"cg_steps": 1.5}, {"confidence": "bm25"}, {"epsilon": 0.0}, {"epsilon": "mean"}):
        with pytest.raises(ValueError, match=list(bad)[0]):
            sr.ALS(**bad)


def test_kernel_rejects_inconsistent_arrays():
    data = tiny_data(ranking=True)
    arrays, hyper, settings = epoch_inputs(sr.ALS(factors=3, epochs=1), data)
    bad = dict(arrays, user_items_indices=arrays["user_items_indices"].astype(np.int64))
    with pytest.raises(TypeError, match="user_items_indices"):
        sr._core.als_epoch(bad, hyper, settings)
    out_of_range = arrays["item_users_indices"].copy()
    out_of_range[2] = data.n_users
    with pytest.raises(IndexError, match="item_users_indices"):
        sr._core.als_epoch(dict(arrays, item_users_indices=out_of_range), hyper, settings)
    with pytest.raises(ValueError, match="item_factors"):
        sr._core.als_epoch(dict(arrays, item_factors=np.zeros((2, 3), np.float32)), hyper, settings)



# -- confidence rules (models/_confidence.py) ------------------------------------------------------------------------
def test_log_and_linear_confidence_train_the_same_model_on_binary_data():
    data = tiny_data(ranking=True)
    fits = [sr.ALS(factors=4, epochs=3, confidence=c).fit(data) for c in ("log", "linear")]
    for k in fits[0].parameters_:
        assert np.array_equal(fits[0].parameters_[k], fits[1].parameters_[k]), k


def test_log_confidence_is_the_hand_computed_objective():
    """Counts 1, 3, 8 (mean ε = 4): weights log2(1 + r/4) = log2(1.25), log2(1.75), log2(3), c = 1 + α w."""
    R = sp.csr_matrix(np.array([[1.0, 0.0, 3.0], [0.0, 8.0, 0.0]]))
    for epsilon, eps in ((None, 4.0), (2.0, 2.0)):
        model = sr.ALS(factors=2, epochs=2, alpha=3.0, regularization=0.2, epsilon=epsilon, dtype="float64").fit(R)
        np.testing.assert_array_equal(model._weighted(R).data, np.log2(1 + np.array([1.0, 3.0, 8.0]) / eps)
                                      .astype(np.float32))
        X, Y = model.parameters_["user_factors"], model.parameters_["item_factors"]
        W = np.where(R.toarray() > 0, np.log2(1 + R.toarray() / eps).astype(np.float32), 0).astype(np.float64)
        P, C = (R.toarray() != 0).astype(float), 1 + 3.0 * W
        expected = np.sum(C * (P - X @ Y.T) ** 2) + 0.2 * (np.sum(X * X) + np.sum(Y * Y))
        assert model.loss(R) == pytest.approx(expected, rel=1e-12)
        assert model.history[-1]["loss"] == pytest.approx(expected, rel=1e-9)  # the kernel trained on the same c


def test_linear_confidence_warns_on_heavy_tailed_counts_and_log_does_not():
    counts = tiny_data(ranking="counts")  # up to 655, mean 17.6: largest c / mean c = 37 at alpha 40
    r = counts.ratings.copy()
    r.data[7] = 20000.0  # a LastFM-like tail: 1 + 40 * 20000 is ~500 times 1 + 40 * mean
    with pytest.warns(RuntimeWarning, match="confidence='log'"):
        sr.ALS(factors=2, epochs=1, confidence="linear").fit(counts.with_ratings(r))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sr.ALS(factors=2, epochs=1).fit(counts.with_ratings(r))
        sr.ALS(factors=2, epochs=1, confidence="linear").fit(counts)
        sr.ALS(factors=2, epochs=1, confidence="linear").fit(tiny_data(ranking=True))
        sr.ALS(factors=2, epochs=1, confidence="linear").fit(tiny_data())  # ratings 1-5: no heavy tail
