"""SoReg-specific checks: the similarity kernel against its reference, behaviour without homophily (the
social gain is test_models.py::test_beats_its_base), Hogwild vs single order, users with trust but no
ratings, hyper-parameter validation."""
from __future__ import annotations

import math

import numpy as np
import pytest

import socialrec as sr
from socialrec.reference.soreg import edge_similarity as reference_similarity
from social_helpers import held_out_rmse as rmse_on, with_trust_only_users


def _cpp_similarity(ds, kind):
    r = ds.ratings
    src, dst, _ = ds.trust_arrays()
    return sr._core.edge_similarity(r.indptr.astype(np.int64), r.indices.astype(np.int32),
                                    r.data.astype(np.float32), src, dst, kind, 2)


@pytest.mark.parametrize("kind", ["pcc", "vss"])
@pytest.mark.parametrize("seed", [0, 1])
def test_similarity_kernel_matches_reference(kind, seed):
    ds = sr.datasets.synthetic(n_users=200, n_items=80, density=0.08, trust_per_user=4, seed=seed)
    src, dst, _ = ds.trust_arrays()
    cpp, ref = _cpp_similarity(ds, kind), reference_similarity(ds.ratings, src, dst, kind)
    np.testing.assert_allclose(cpp, ref, rtol=0, atol=1e-12)
    assert np.any(cpp == 0) and np.any(cpp > 0), "the data must cover both defined and undefined pairs"
    assert np.all((cpp >= 0) & (cpp <= 1 + 1e-12))


def test_similarity_formulas_on_a_hand_made_example():
    # user 0 rates items 0,1,2 = 1,2,3; user 1 rates 0,1,2,3 = 2,3,4,5; user 2 rates only item 4.
    users, items = [0, 0, 0, 1, 1, 1, 1, 2], [0, 1, 2, 0, 1, 2, 3, 4]
    values = [1, 2, 3, 2, 3, 4, 5, 3]
    ds = sr.Dataset.from_arrays(users, items, values, trust_src=[0, 0], trust_dst=[1, 2], rating_scale=(1, 5))
    m0, m1 = 2.0, 3.5  # means over all of each user's ratings
    x, y = np.array([1, 2, 3]) - m0, np.array([2, 3, 4]) - m1
    pcc = x @ y / math.sqrt((x @ x) * (y @ y))
    vss = 20 / math.sqrt(14 * 29)
    np.testing.assert_allclose(_cpp_similarity(ds, "pcc"), [(1 + pcc) / 2, 0.0], rtol=1e-12)
    np.testing.assert_allclose(_cpp_similarity(ds, "vss"), [vss, 0.0], rtol=1e-12)


def test_similarity_rejects_bad_input():
    ds = sr.datasets.synthetic(n_users=20, n_items=10, seed=0)
    r = ds.ratings
    with pytest.raises(ValueError, match="kind"):
        sr._core.edge_similarity(r.indptr, r.indices, r.data, [0], [1], "cosine", 1)
    with pytest.raises(IndexError):
        sr._core.edge_similarity(r.indptr, r.indices, r.data, [0], [99], "pcc", 1)


@pytest.mark.parametrize("params", [{}, {"regularizer": "SR1"}, {"similarity": None}])
def test_not_worse_without_homophily(params):
    # the paper's model (biased=False); with the biases, similarity=None misses this 1% margin (issue 15)
    params = {**params, "biased": False}
    social = rmse_on(sr.SoReg(**params), 0.0)
    plain = rmse_on(sr.SoReg(**params, social_regularization=0.0), 0.0)
    assert social <= 1.01 * plain, f"SoReg {social:.4f} vs beta=0 {plain:.4f} on a trust graph without homophily"


@pytest.mark.parametrize("regularizer", ["SR2", "SR1"])
def test_hogwild_within_one_percent_of_single_order(regularizer):
    parallel = rmse_on(sr.SoReg(regularizer=regularizer, num_threads=2), 0.9)
    single = rmse_on(sr.SoReg(regularizer=regularizer, deterministic=True), 0.9)
    assert abs(parallel - single) <= 0.01 * single


def test_trust_only_users():
    ds = sr.datasets.synthetic(n_users=200, n_items=80, density=0.08, trust_per_user=4, seed=0)
    cold = np.arange(10)
    data = with_trust_only_users(ds, cold)
    assert np.all(data.ratings.getnnz(axis=1)[cold] == 0) and np.all(data.trust.getnnz(axis=1)[cold] > 0)
    # Sim = 1: pulled towards the users they trust (and who trust them) -> non-zero, near their neighbours
    # the paper's model (biased=False): the trust pull alone places them
    model = sr.SoReg(similarity=None, social_regularization=1.0, epochs=80, biased=False).fit(data)
    U = model.parameters_["user_factors"]
    assert np.all(np.abs(U[cold]).sum(axis=1) > 0)
    for u in cold:
        neighbours = data.trust.indices[data.trust.indptr[u]:data.trust.indptr[u + 1]]
        mean = U[neighbours].mean(axis=0)
        cosine = U[u] @ mean / (np.linalg.norm(U[u]) * np.linalg.norm(mean))
        assert cosine > 0.5, f"user {u}: factors not aligned with the users it trusts (cosine {cosine:.2f})"
    # PCC: no co-rated items -> every edge of theirs has Sim 0 -> they stay at zero and predict the mean
    model = sr.SoReg(similarity="pcc", biased=False).fit(data)
    assert np.all(model.parameters_["user_factors"][cold] == 0)
    np.testing.assert_allclose(model.predict(cold, cold), float(model.parameters_["global_bias"]), rtol=1e-6)


def test_bad_hyper_parameters_rejected():
    for bad in ({"regularizer": "SR3"}, {"similarity": "cosine"}, {"social_regularization": -1.0},
                {"social_regularization": float("nan")}, {"deterministic": "yes"}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            sr.SoReg(**bad)


def test_edges_with_negative_cosine_carry_no_social_term_in_the_loss():
    """On a scale with negative ratings the cosine (VSS) of two users can be negative. Training drops such
    edges (only Sim > 0 enters the social pass, like a zero Sim); loss() must weigh them 0 as well, not with a
    negative weight that rewards pulling the two users apart."""
    users = [0, 0, 0, 1, 1, 1, 2, 2, 2]
    items = [0, 1, 2, 0, 1, 2, 0, 1, 2]
    values = [1.0, 2.0, 3.0, -1.0, -2.0, -3.0, 1.0, 1.0, 2.0]
    src, dst = [0, 0, 1, 2], [1, 2, 2, 0]
    data = sr.Dataset.from_arrays(users, items, values, src, dst, rating_scale=(-5, 5))
    positive = sr.Dataset.from_arrays(users, items, values, [0, 2], [2, 0], rating_scale=(-5, 5))
    for regularizer in ("SR2", "SR1"):
        model = sr.SoReg(similarity="vss", regularizer=regularizer, social_regularization=1.0, epochs=3,
                         dtype="float64", deterministic=True).fit(data)
        assert np.sum(model._edge_similarity(data) < 0) == 2
        assert model.loss(data) == pytest.approx(sr.reference.loss(model, data), rel=1e-12)
        assert model.loss(data) == pytest.approx(model.loss(positive), rel=1e-12)
