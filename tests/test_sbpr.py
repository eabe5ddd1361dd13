"""SBPR-specific checks (the shared suite covers reference equality, gradients, determinism, persistence and
the gain over BPR: test_models.py::test_beats_its_base; test_bpr.py holds the checks BPR and SBPR share)."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import socialrec as sr
from model_suite import epoch_inputs, tiny_data
from ranking_reference import RANKING_PARAMS, homophily_data, ndcg
from socialrec.models.bpr import social_matrix
from socialrec.reference.bpr import Interactions


def test_social_items_and_counts_match_their_definition():
    data = tiny_data(ranking=True)
    s = social_matrix(data.ratings, data.trust)
    spec = Interactions(data, social=True)
    for u in range(data.n_users):
        row = s.indices[s.indptr[u]:s.indptr[u + 1]].tolist()
        assert row == spec.social[u]
        assert s.data[s.indptr[u]:s.indptr[u + 1]].tolist() == [spec.counts[u][k] for k in row]
    assert s.nnz > 0 and s.data.max() > 1, "the tiny data must exercise counts above one"


@pytest.mark.parametrize("deterministic", [True, False])
def test_without_trust_sbpr_is_bpr(deterministic):
    """With no friends every user falls back to BPR's triple with the same draws: identical parameters."""
    data = tiny_data(ranking=True)
    lonely = sr.Dataset.from_sparse(data.ratings, trust=sp.csr_matrix((data.n_users, data.n_users)))
    params = dict(factors=4, epochs=5, deterministic=deterministic, num_threads=1)
    a, b = sr.SBPR(**params).fit(lonely), sr.BPR(**params).fit(lonely)
    for k in a.parameters_:
        np.testing.assert_array_equal(a.parameters_[k], b.parameters_[k])
    assert sr.SBPR(**params).fit(data).parameters_["user_factors"].tolist() != a.parameters_["user_factors"].tolist()


def test_social_gain_comes_from_homophily():
    """Control of test_models.py::test_beats_its_base[SBPR]: the same data with a trust graph drawn
    independently of the tastes gives SBPR no gain."""
    train, test = homophily_data(homophily=0.0)
    bpr = sr.BPR(**RANKING_PARAMS, deterministic=True, num_threads=1).fit(train)
    sbpr = sr.SBPR(**RANKING_PARAMS, deterministic=True, num_threads=1).fit(train)
    assert ndcg(sbpr, test) < ndcg(bpr, test) + 0.005


def test_kernel_rejects_malformed_social_items():
    arrays, hyper, settings = epoch_inputs(sr.SBPR(factors=4, epochs=1), tiny_data(ranking=True))
    zero = arrays["social_counts"].copy()
    zero[0] = 0
    with pytest.raises(ValueError, match="social_counts"):
        sr._core.sbpr_epoch(dict(arrays, social_counts=zero), hyper, settings)
    with pytest.raises(ValueError, match="social"):
        sr._core.sbpr_epoch(dict(arrays, social_items=arrays["social_items"][::-1].copy()), hyper, settings)


def test_social_weight_zero_is_bpr_with_friends_items_out_of_the_negatives():
    """α = 0: every term is BPR's −ln σ(x_ui − x_uj), with j outside P_u ∪ SP_u for users with social items, and
    the social item carries no penalty. Checked against that formula written out here, at random parameters."""
    data = tiny_data(ranking=True)
    model = sr.SBPR(factors=3, epochs=0, social_weight=0.0, dtype="float64").fit(data)
    rng = np.random.default_rng(1)
    for v in model.parameters_.values():
        v[...] = rng.normal(0, 0.5, v.shape)
    P, Q, b = (model.parameters_[k] for k in ("user_factors", "item_factors", "item_bias"))
    lam, lam_b = model.regularization, model.bias_regularization
    spec = Interactions(data, social=True)
    X = P @ Q.T + b
    expected = 0.0
    for u, i in spec.pool:
        negatives = spec.negatives(u, social=True)
        expected += np.mean([np.logaddexp(0.0, -(X[u, i] - X[u, j])) for j in negatives])
        expected += 0.5 * lam * (P[u] @ P[u]) + 0.5 * lam * (Q[i] @ Q[i]) + 0.5 * lam_b * b[i] ** 2
        expected += np.mean([0.5 * lam * (Q[j] @ Q[j]) + 0.5 * lam_b * b[j] ** 2 for j in negatives])
    assert sum(spec.is_social(u) for u, _ in spec.pool) > 10, "the tiny data must have social users"
    assert model.loss(data) == pytest.approx(expected, rel=1e-12)
    assert sr.reference.loss(model, data) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), "1"])
def test_social_weight_outside_the_unit_interval_is_rejected(bad):
    with pytest.raises(ValueError, match="social_weight"):
        sr.SBPR(social_weight=bad)
    arrays, hyper, settings = epoch_inputs(sr.SBPR(factors=4, epochs=1), tiny_data(ranking=True))
    if isinstance(bad, float) and not np.isnan(bad):  # the kernel checks too
        with pytest.raises(ValueError, match="social_weight"):
            sr._core.sbpr_epoch(arrays, {**hyper, "social_weight": bad}, settings)
