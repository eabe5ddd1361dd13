"""BPR-specific checks, and the checks BPR and SBPR share (the shared suite in test_models.py covers reference
equality, gradients, loss decrease, determinism, persistence and hyper-parameter validation)."""
from __future__ import annotations

import numpy as np
import pytest

import socialrec as sr
from model_suite import epoch_inputs, tiny_data
from ranking_reference import RANKING_PARAMS, homophily_data, ndcg, popularity


def _edge_case_data():
    """Users who consumed every item (not sampled), with none, with one item; values other than 1."""
    users = [0, 0, 0, 0, 0, 0, 1, 2, 2, 3, 3, 3, 5, 5]
    items = [0, 1, 2, 3, 4, 5, 2, 0, 5, 1, 3, 4, 0, 2]
    values = [3.0, 1, 7, 2, 2, 1, 1, 4, 1, 9, 1, 1, 1, 0.5]
    return sr.Dataset.from_arrays(users, items, values, trust_src=[1, 1, 2, 3, 5, 4], trust_dst=[0, 3, 3, 2, 2, 0],
                                  n_users=6, n_items=6)


@pytest.mark.parametrize("cls", ["BPR", "SBPR"])
def test_edge_cases_equal_reference(cls):
    data = _edge_case_data()
    model = getattr(sr, cls)(factors=3, epochs=4, dtype="float64", deterministic=True, num_threads=1).fit(data)
    ref = sr.reference.fit(model, data)
    for k, v in ref.items():
        np.testing.assert_allclose(model.parameters_[k], v, rtol=0, atol=1e-10, err_msg=k)
    assert model.loss(data) == pytest.approx(sr.reference.loss(model, data), rel=1e-9)
    # user 0 consumed every item: never sampled, so its factors stay at their initial values
    init = getattr(sr, cls)(factors=3, epochs=0, dtype="float64").fit(data)
    np.testing.assert_array_equal(model.parameters_["user_factors"][0], init.parameters_["user_factors"][0])
    assert not np.array_equal(model.parameters_["user_factors"][1], init.parameters_["user_factors"][1])
    # user 4 has no interactions: zero factors, ranked by the item biases alone
    assert np.all(model.parameters_["user_factors"][4] == 0)


def test_values_are_ignored():
    data = tiny_data(ranking=False)
    ones = tiny_data(ranking=True)
    a = sr.BPR(factors=4, epochs=3, seed=1).fit(data)
    b = sr.BPR(factors=4, epochs=3, seed=1).fit(ones)
    for k in a.parameters_:
        np.testing.assert_array_equal(a.parameters_[k], b.parameters_[k])


@pytest.mark.parametrize("cls", ["BPR", "SBPR"])
def test_epoch_loss_estimates_the_expected_objective(cls):
    """history[e]['loss'] sums the sampled terms of the epoch; with a negligible learning rate the parameters
    do not move, so it is an unbiased estimate of loss(train), the exact expectation of that sum."""
    data = sr.datasets.synthetic(n_users=200, n_items=100, density=0.1, seed=1)
    model = getattr(sr, cls)(factors=4, epochs=1, learning_rate=1e-12, init_std=1.0, dtype="float64",
                             deterministic=True).fit(data)
    assert model.history[0]["loss"] == pytest.approx(model.loss(data), rel=0.03)


@pytest.mark.parametrize("cls", ["BPR", "SBPR"])
def test_parallel_mode_reaches_deterministic_quality(cls):
    train, test = homophily_data()
    det = getattr(sr, cls)(**RANKING_PARAMS, deterministic=True, num_threads=1).fit(train)
    par = getattr(sr, cls)(**RANKING_PARAMS, deterministic=False, num_threads=2).fit(train)
    assert par.loss(train) == pytest.approx(det.loss(train), rel=0.01)
    assert ndcg(par, test) == pytest.approx(ndcg(det, test), abs=0.01)


def test_learns_a_ranking_better_than_popularity():
    train, test = homophily_data()
    model = sr.BPR(**RANKING_PARAMS, num_threads=1).fit(train)
    assert ndcg(model, test) > ndcg(popularity(train), test) + 0.01


@pytest.mark.parametrize("cls", ["BPR", "SBPR"])
def test_bad_hyper_parameters_and_data_rejected(cls):
    model_cls = getattr(sr, cls)
    for bad in ({"learning_rate": 0}, {"learning_rate": float("nan")}, {"regularization": -0.1},
                {"bias_regularization": -1}, {"init_std": -0.5}, {"deterministic": "yes"}, {"epochs": 1.5},
                {"factors": 0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            model_cls(**bad)
    full = sr.Dataset.from_arrays([0, 0, 1, 1], [0, 1, 0, 1], [1, 1, 1, 1], n_users=2, n_items=2)
    with pytest.raises(ValueError, match="unconsumed"):
        model_cls().fit(full)
    single = sr.Dataset.from_arrays([0, 1], [0, 0], [1, 1], n_users=2, n_items=1)
    with pytest.raises(ValueError, match="2 items"):
        model_cls().fit(single)


def test_kernel_rejects_malformed_training_state():
    data = tiny_data(ranking=True)
    arrays, hyper, settings = epoch_inputs(sr.BPR(factors=4, epochs=1), data)
    bad_pool = dict(arrays, pool_items=arrays["pool_items"] + data.n_items)
    with pytest.raises(ValueError, match="pool entry"):
        sr._core.bpr_epoch(bad_pool, hyper, settings)
    unsorted = dict(arrays, indices=arrays["indices"][::-1].copy())
    with pytest.raises(ValueError, match="increasing"):
        sr._core.bpr_epoch(unsorted, hyper, settings)
    wrong_dtype = dict(arrays, pool_users=arrays["pool_users"].astype(np.int64))
    with pytest.raises(TypeError, match="pool_users"):
        sr._core.bpr_epoch(wrong_dtype, hyper, settings)
    short = dict(arrays, item_factors=np.ascontiguousarray(arrays["item_factors"][:-1]))
    with pytest.raises(ValueError, match="item_factors"):
        sr._core.bpr_epoch(short, hyper, settings)
