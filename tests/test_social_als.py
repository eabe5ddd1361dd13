"""SocialALS specifics: beta = 0 is ALS bit for bit, the Jacobi user solve, the edge similarity, a monotone
objective with exact solves, and the social gain (test_models.py::test_beats_its_base) coming from homophily."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import socialrec as sr
from model_suite import tiny_data
from ranking_reference import homophily_split, ndcg
from socialrec.models.social_als import edge_similarity


@pytest.mark.parametrize("solver", ["cg", "cholesky"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_beta_zero_is_exactly_als(solver, dtype):
    data = tiny_data(ranking=True)
    params = dict(factors=5, epochs=4, alpha=5.0, solver=solver, dtype=dtype)
    als = sr.ALS(**params).fit(data)
    social = sr.SocialALS(social_regularization=0.0, **params).fit(data)
    for k in als.parameters_:
        assert np.array_equal(als.parameters_[k], social.parameters_[k]), k
    assert [h["loss"] for h in als.history] == [h["loss"] for h in social.history]
    # and beta > 0 does change the result
    other = sr.SocialALS(social_regularization=0.5, **params).fit(data)
    assert not np.array_equal(als.parameters_["user_factors"], other.parameters_["user_factors"])


def test_objective_never_increases_with_exact_solves():
    # Jacobi with exact block solves is a descent step (the SocialALS docstring proves it).
    data = tiny_data(ranking=True)
    model = sr.SocialALS(factors=5, epochs=25, alpha=5.0, regularization=0.05, social_regularization=2.0,
                         solver="cholesky", dtype="float64").fit(data)
    losses = [h["loss"] for h in model.history]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(losses, losses[1:])), losses
    assert model.history[-1]["loss"] == pytest.approx(model.loss(data), rel=1e-9)


def test_user_solve_is_jacobi_on_the_laplacian_normal_equations():
    """After one exact epoch, each user row solves (A_u + beta s_u I) x = b_u + beta sum_f S_uf x_f(init)."""
    data = tiny_data(ranking=True)
    cold = data.ratings.tolil()
    cold[:3, :] = 0  # users 0-2 keep their friends but lose their interactions
    data = data.with_ratings(cold.tocsr())
    lam, alpha, beta = 0.1, 4.0, 0.7
    model = sr.SocialALS(factors=4, epochs=1, alpha=alpha, regularization=lam, social_regularization=beta,
                         solver="cholesky", dtype="float64").fit(data)
    init = model._init_parameters(data, np.random.default_rng(model.seed))
    X0, Y0 = init["user_factors"], init["item_factors"]
    X = model.parameters_["user_factors"]
    R = data.ratings.tocsr()
    S = edge_similarity(data.trust).tocsr()
    checked_cold = 0
    for u in range(data.n_users):
        items = R.indices[R.indptr[u]:R.indptr[u + 1]]
        friends = S.indices[S.indptr[u]:S.indptr[u + 1]]
        weights = S.data[S.indptr[u]:S.indptr[u + 1]].astype(np.float64)
        Yu = Y0[items]
        A = Y0.T @ Y0 + alpha * Yu.T @ Yu + (lam + beta * weights.sum()) * np.eye(4)
        b = (1 + alpha) * Yu.sum(axis=0) + beta * weights @ X0[friends]
        np.testing.assert_allclose(A @ X[u], b, rtol=0, atol=1e-10)
        checked_cold += items.size == 0 and friends.size > 0
    assert checked_cold > 0, "the tiny data should hold users with friends and no interactions"


def test_edge_similarity_is_symmetric_half_per_stored_edge():
    trust = sp.csr_matrix(np.array([[0, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 3, 0]], dtype=np.float32))
    S = edge_similarity(trust).toarray()
    expected = np.array([[0, 1, .5, 0], [1, 0, 0, 0], [.5, 0, 0, .5], [0, 0, .5, 0]])
    np.testing.assert_array_equal(S, expected)


def test_direction_of_the_edges_does_not_matter():
    data = tiny_data(ranking=True)
    flipped = sr.Dataset.from_sparse(data.ratings, trust=data.trust.T.tocsr())
    params = dict(factors=4, epochs=3, social_regularization=1.0, dtype="float64")
    a = sr.SocialALS(**params).fit(data)
    b = sr.SocialALS(**params).fit(flipped)
    for k in a.parameters_:
        np.testing.assert_allclose(a.parameters_[k], b.parameters_[k], rtol=0, atol=1e-12)


def test_social_gain_comes_from_homophily():
    """Control of test_models.py::test_beats_its_base[SocialALS] (where SocialALS beats ALS on NDCG@10 by 5% on
    binarised synthetic() data with strong homophily, same settings, beta fixed in advance): the gain is
    larger there than on data whose trust graph ignores the tastes."""
    params = dict(factors=8, epochs=15, alpha=3.0, regularization=5.0)
    gains = {}
    for homophily in (0.95, 0.0):
        train, test = homophily_split(seed=0, density=0.1, homophily=homophily)
        als = ndcg(sr.ALS(**params).fit(train), test)
        social = ndcg(sr.SocialALS(social_regularization=3.0, **params).fit(train), test)
        gains[homophily] = social - als
    assert gains[0.95] > gains[0.0], gains


def test_bad_social_regularization_rejected():
    with pytest.raises(ValueError, match="social_regularization"):
        sr.SocialALS(social_regularization=-1.0)


def test_normalized_similarity_divides_by_the_degrees():
    trust = sp.csr_matrix(np.array([[0, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 3, 0]], dtype=np.float32))
    S = edge_similarity(trust).toarray()
    d = S.sum(axis=1)
    np.testing.assert_allclose(edge_similarity(trust, normalized=True).toarray(), S / np.sqrt(np.outer(d, d)),
                               rtol=1e-6)
    with pytest.raises(ValueError, match="similarity"):
        sr.SocialALS(similarity="cosine")
