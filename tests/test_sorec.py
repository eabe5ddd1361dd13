"""SoRec-specific behaviour (the shared suite in test_models.py covers reference equality, gradients,
determinism, persistence, validation and the gain over the non-social models: test_beats_its_base)."""
from __future__ import annotations

import functools

import numpy as np
import pytest

import socialrec as sr
from social_helpers import check_rating_offset, cold_trust_users, homophily_split, one_thread, rmse, without_trust

SoRec = one_thread(sr.SoRec)


@pytest.mark.parametrize("seed", [0, 1])
def test_no_social_signal_costs_little(seed):
    train, test = homophily_split(0.0, seed=seed)
    assert rmse(SoRec(), train, test) < 1.02 * rmse(SoRec(social_regularization=0.0), train, test)


def test_users_with_trust_but_no_ratings_learn_from_the_link_pass():
    train, held, cold = cold_trust_users()
    social = SoRec().fit(train)
    plain = SoRec(social_regularization=0.0).fit(train)
    start = social._init_parameters(train, np.random.default_rng(social.seed))["user_factors"]
    assert not np.allclose(social.parameters_["user_factors"][cold], start[cold])
    assert np.array_equal(plain.parameters_["user_factors"][cold], start[cold]), "nothing else touches them"
    assert sr.metrics.rmse(social, held) < 0.9 * sr.metrics.rmse(plain, held)


def test_users_without_trust_fall_back_to_the_plain_model():
    train, _ = homophily_split(0.9)
    bare = without_trust(train)
    a = SoRec(epochs=10).fit(bare)
    b = SoRec(epochs=10, social_regularization=0.0).fit(bare)
    c = SoRec(epochs=10, social_regularization=0.0).fit(train)
    rated = train.ratings.getnnz(axis=1) > 0  # trusters without ratings start random when trust is present
    for k in ("user_factors", "item_factors"):
        assert np.array_equal(a.parameters_[k], b.parameters_[k]), k
    assert np.array_equal(b.parameters_["item_factors"], c.parameters_["item_factors"])
    assert np.array_equal(b.parameters_["user_factors"][rated], c.parameters_["user_factors"][rated])
    assert not np.any(a.parameters_["link_factors"])


def test_identical_on_any_thread_count_without_a_deterministic_switch():
    assert "deterministic" not in sr.SoRec._defaults  # both passes are stratified
    train, _ = homophily_split(0.9)
    one, two = SoRec(epochs=5, num_threads=1).fit(train), SoRec(epochs=5, num_threads=2).fit(train)
    for k in one.parameters_:
        assert np.array_equal(one.parameters_[k], two.parameters_[k]), k


def test_link_targets_follow_the_degree_formula():
    from socialrec.models.sorec import link_targets
    import scipy.sparse as sp

    # 0 -> 1, 0 -> 2, 1 -> 2, 3 -> 2: d+(0) = 2, d+(1) = d+(3) = 1, d-(1) = 1, d-(2) = 3
    trust = sp.csr_matrix((np.ones(4), ([0, 0, 1, 3], [1, 2, 2, 2])), shape=(4, 4))
    src, dst, c = link_targets(trust)
    assert src.tolist() == [0, 0, 1, 3] and dst.tolist() == [1, 2, 2, 2]
    np.testing.assert_allclose(c, np.sqrt([1 / 3, 3 / 5, 3 / 4, 3 / 4]))


def test_predictions_use_the_logistic_link_with_the_rating_offset():
    check_rating_offset(functools.partial(SoRec, biased=False))  # the offset alone (no biases)


@pytest.mark.parametrize("bad", [{"social_regularization": -1.0}, {"social_regularization": float("nan")},
                                 {"social_regularization": "high"}, {"learning_rate": 0.0},
                                 {"regularization": -0.1}, {"offset": "yes"}, {"offset": 1}])
def test_bad_hyper_parameters_rejected(bad):
    name = next(iter(bad))
    with pytest.raises(ValueError, match=name):
        SoRec(**bad)


def test_unknown_switch_rejected():
    with pytest.raises(TypeError, match="deterministic"):
        SoRec(deterministic=True)
