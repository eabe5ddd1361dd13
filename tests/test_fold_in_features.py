"""fold_in_items(new, item_features=F) (issue 17; models/_features.py fold_in_priors, RowProblem.centred): a new
item with features starts from the fitted feature map's prior c + W^T x and its fold-in centres the row's L2
penalties there. Zero features are the plain fold-in exactly; an item with no rating gets the prior; with
ratings the row is the ridge solution centred on the prior; the C++ and reference solvers agree; bad input is
refused with nothing changed."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import socialrec as sr
from socialrec.features import Features
from socialrec.models import _fold_in

PRIOR_MODELS = ["BiasedMF", "SVDpp", "TrustSVD", "SocialMF", "BPR", "ALS", "SocialALS", "SBPR"]
N_FEATURES = 5


def _data():
    ds = sr.datasets.synthetic(n_users=80, n_items=40, seed=4)
    return ds


DATA = _data()
RNG = np.random.default_rng(0)
X = RNG.normal(size=(DATA.n_items, N_FEATURES))


def _fit(name, data=DATA):
    ranking = name in ("BPR", "SBPR", "ALS", "SocialALS")
    data = data.binarized() if ranking else data
    model = getattr(sr, name)(factors=4, epochs=3, seed=0, dtype="float64", num_threads=1)
    return model.fit(data, item_features=Features(X, DATA.item_ids)), ranking


def _new_ratings(ranking):
    users = DATA.user_ids[[0, 3, 5]]
    return (users, [9000, 9000, 9001], [1.0, 1.0, 1.0] if ranking else [4.0, 2.0, 5.0])


def _row(model, raw):
    return int(np.flatnonzero(model.item_ids_ == raw)[0])


def _item_rows(model, raw):
    i = _row(model, raw)
    return {k: np.asarray(v)[i] for k, v in model.parameters_.items() if k.startswith("item") or k == "implicit_factors"}


@pytest.mark.parametrize("name", PRIOR_MODELS)
def test_zero_features_are_the_plain_fold_in(name):
    model, ranking = _fit(name)
    plain = pickle.loads(pickle.dumps(model)).fold_in_items(_new_ratings(ranking))
    zeros = Features(np.zeros((2, N_FEATURES)), ids=[9000, 9001])
    featured = pickle.loads(pickle.dumps(model)).fold_in_items(_new_ratings(ranking), item_features=zeros)
    assert set(plain.parameters_) == set(featured.parameters_)
    for k, v in plain.parameters_.items():
        np.testing.assert_array_equal(featured.parameters_[k], v, err_msg=k)


@pytest.mark.parametrize("name", PRIOR_MODELS)
def test_item_without_rating_gets_its_prior_and_ratings_move_it(name):
    model, ranking = _fit(name)
    fmap = model.item_feature_map_
    x = RNG.normal(size=(3, N_FEATURES))
    prior = x @ fmap["weights"] + fmap["intercept"]
    feats = Features(x, ids=[9000, 9001, 9002])  # 9002: features only, no rating
    folded = pickle.loads(pickle.dumps(model)).fold_in_items(_new_ratings(ranking), item_features=feats)
    plain = pickle.loads(pickle.dumps(model)).fold_in_items(_new_ratings(ranking))
    assert folded.n_items_ == model.n_items_ + 3
    got = np.concatenate([np.atleast_1d(v) for v in _item_rows(folded, 9002).values()])
    layout = np.concatenate([np.atleast_1d(_item_rows(folded, 9002)[k]) for k in fmap["arrays"]])
    assert got.size == layout.size
    if not ranking:
        np.testing.assert_allclose(layout, prior[2], rtol=0, atol=1e-12)
    else:  # BPR's and WRMF's objectives hold an unrated item as every user's negative (target 0): its
        assert not np.allclose(layout, prior[2])  # fold-in moves it from the prior even with no rating
    moved = _item_rows(folded, 9000)["item_factors"]
    for other in (prior[0][:4], _item_rows(plain, 9000)["item_factors"]):  # neither the prior nor the plain row
        assert np.max(np.abs(moved - other)) > 1e-9
    assert np.all(np.isfinite(folded.predict(DATA.user_ids[:3], [9002] * 3)))
    # both solvers agree on the centred problems too
    ref = pickle.loads(pickle.dumps(model))
    _fold_in.fold_in(ref, "item", _new_ratings(ranking), None, backend="reference", features=feats)
    for k, v in ref.parameters_.items():
        np.testing.assert_allclose(folded.parameters_[k], v, rtol=0, atol=1e-10 * (1 + np.max(np.abs(v))), err_msg=k)


def test_biased_mf_item_is_the_ridge_solution_centred_on_its_prior():
    model, _ = _fit("BiasedMF")
    fmap = model.item_feature_map_
    x = RNG.normal(size=(1, N_FEATURES))
    prior = (x @ fmap["weights"] + fmap["intercept"])[0]
    users = DATA.user_ids[[1, 2, 7]]
    r = np.array([5.0, 1.0, 3.0])
    model.fold_in_items((users, [9000] * 3, r), item_features=Features(x, ids=[9000]))
    p = {k: np.asarray(v) for k, v in model.parameters_.items()}
    u = np.array([int(np.flatnonzero(model.user_ids_ == v)[0]) for v in users])
    A = np.hstack([p["user_factors"][u], np.ones((3, 1))])
    y = r - p["global_bias"] - p["user_bias"][u]
    lam = np.array([model.regularization * 3] * 4 + [model.bias_regularization * 3])
    # argmin ‖Aθ − y‖² + Σ lam_c (θ_c − prior_c)²: with θ = prior + ε, a ridge in ε on y − A prior
    stacked = np.vstack([A, np.diag(np.sqrt(lam))])
    eps = np.linalg.lstsq(stacked, np.concatenate([y - A @ prior, np.zeros(5)]), rcond=None)[0]
    i = _row(model, 9000)
    np.testing.assert_allclose(np.append(p["item_factors"][i], p["item_bias"][i]), prior + eps, rtol=1e-9, atol=1e-12)


def test_bad_feature_input_is_refused_and_changes_nothing():
    model, _ = _fit("BiasedMF")
    before = {k: np.array(v) for k, v in model.parameters_.items()}
    with pytest.raises(ValueError, match="columns"):
        model.fold_in_items(_new_ratings(False), item_features=Features(np.ones((1, 3)), ids=[9000]))
    with pytest.raises(TypeError, match="item_features"):
        model.fold_in_items(_new_ratings(False), item_features=np.ones((1, N_FEATURES)))
    plain = sr.BiasedMF(factors=4, epochs=3, seed=0).fit(DATA)
    with pytest.raises(ValueError, match="feature map"):
        plain.fold_in_items(_new_ratings(False), item_features=Features(np.ones((1, N_FEATURES)), ids=[9000]))
    assert model.n_items_ == DATA.n_items and plain.n_items_ == DATA.n_items
    for k, v in before.items():
        np.testing.assert_array_equal(model.parameters_[k], v)
