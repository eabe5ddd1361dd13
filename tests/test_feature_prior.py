"""fit(train, item_features=..., user_features=...): the post-hoc feature prior of models/_features.py.

Features of zeros give the plain model exactly; a cold item with features gets non-zero parameters and is
scored like any other; feature ids the data lacks join the model; a planted problem whose item factors are a
linear function of the features is recovered (the ridge map itself, and the cold items' predictions)."""
import numpy as np
import pytest
import scipy.sparse as sp

import socialrec as sr
from socialrec.features import Features
from socialrec.models._features import grown, ridge

PRIOR_MODELS = [sr.BiasedMF, sr.SVDpp, sr.TrustSVD, sr.SocialMF, sr.BPR, sr.ALS]
ALL_MODELS = [info.cls for info in sr.models.registry()]


def _data():
    ds = sr.datasets.synthetic(n_users=100, n_items=50, seed=4)
    u, i, v = ds.user_item_arrays()
    keep = i >= 5  # items 0..4 have no training rating: cold
    return sr.Dataset.from_arrays(u[keep], i[keep], v[keep], *ds.trust_arrays(), n_users=ds.n_users,
                                  n_items=ds.n_items, rating_scale=ds.rating_scale)


DATA = _data()


@pytest.mark.parametrize("cls", ALL_MODELS, ids=lambda c: c.__name__)
def test_zero_features_give_the_plain_model(cls):
    plain = cls(factors=4, epochs=3, seed=0).fit(DATA)
    zeros = Features(np.zeros((DATA.n_items, 3)), ids=DATA.item_ids)
    users = Features(sp.csr_matrix((DATA.n_users, 2)), ids=DATA.user_ids)
    featured = cls(factors=4, epochs=3, seed=0).fit(DATA, item_features=zeros, user_features=users)
    assert set(plain.parameters_) == set(featured.parameters_)
    for k, v in plain.parameters_.items():
        np.testing.assert_array_equal(featured.parameters_[k], v, err_msg=k)


@pytest.mark.parametrize("cls", PRIOR_MODELS, ids=lambda c: c.__name__)
def test_cold_item_gets_factors_from_features(cls):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(DATA.n_items + 2, 6))
    ids = np.concatenate([DATA.item_ids, [1000, 1001]])  # two items the data does not have at all
    model = cls(factors=4, epochs=3, seed=0).fit(DATA, item_features=Features(X, ids))
    assert model.n_items_ == DATA.n_items + 2 and list(model.item_ids_[-2:]) == [1000, 1001]
    cold = [0, 1, 2, 3, 4, 1000, 1001]
    rows = [list(model.item_ids_).index(c) for c in cold]
    assert np.all(np.abs(np.asarray(model.parameters_["item_factors"])[rows]).sum(axis=1) > 0)
    unrated = np.asarray(DATA.ratings.getnnz(axis=0) == 0)
    assert model.item_feature_fit_ == {"warm_rows": int((~unrated).sum()), "cold_rows": int(unrated.sum()) + 2}
    scores = model.predict([0] * len(cold), cold)
    assert np.all(np.isfinite(scores)) and len(set(np.round(scores, 12))) > 1
    top, _ = model.recommend([0], n=DATA.n_items + 2, exclude_seen=False)
    assert {1000, 1001} <= set(top[0].tolist())
    # the warm rows are those of the plain model on the same (grown) data; the rest as trained
    plain = cls(factors=4, epochs=3, seed=0).fit(grown(DATA, None, None, Features(X, ids))[0])
    warm = np.append(~unrated, [False, False])
    for k, v in plain.parameters_.items():
        got = np.asarray(model.parameters_[k])
        if k.startswith("item") or k == "implicit_factors":
            got, v = got[warm], np.asarray(v)[warm]
        np.testing.assert_array_equal(got, v, err_msg=k)


def test_cold_user_gets_factors_from_features():
    ds = sr.datasets.synthetic(n_users=80, n_items=40, seed=1)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(ds.n_users + 1, 5))
    ids = np.concatenate([ds.user_ids, [999]])
    model = sr.BiasedMF(factors=4, epochs=3, seed=0).fit(ds, user_features=Features(X, ids))
    assert model.user_ids_[-1] == 999 and model.user_feature_fit_["cold_rows"] == 1
    assert np.abs(model.parameters_["user_factors"][-1]).sum() > 0
    assert np.isfinite(model.predict([999], [ds.item_ids[0]])).all()


def test_ridge_recovers_a_linear_map_dense_and_sparse():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 8))
    W = rng.normal(size=(8, 3))
    c = np.array([0.5, -1.0, 2.0])
    W_hat, c_hat = ridge(X, X @ W + c, alpha=1e-9)
    np.testing.assert_allclose(W_hat, W, atol=1e-7)
    np.testing.assert_allclose(c_hat, c, atol=1e-7)
    from socialrec.models import _features

    Xs = sp.random(400, 50, density=0.2, random_state=3, format="csr")
    Y = Xs @ rng.normal(size=(50, 2))
    direct = ridge(Xs, Y, alpha=0.1)
    old = _features._DIRECT_MAX
    _features._DIRECT_MAX = 10  # the conjugate-gradient path
    try:
        by_cg = ridge(Xs, Y, alpha=0.1, tol=1e-12)
    finally:
        _features._DIRECT_MAX = old
    np.testing.assert_allclose(by_cg[0], direct[0], atol=1e-7)
    np.testing.assert_allclose(by_cg[1], direct[1], atol=1e-7)


def test_planted_linear_item_factors_are_recovered_for_cold_items():
    """Item factors q_i = W^T x_i; ratings p_u . q_i + noise; 20% of the items are held out entirely. The
    cold items' predicted ratings track the true ones (correlation > 0.9; without features: no signal)."""
    rng = np.random.default_rng(5)
    n_users, n_items, d, k = 300, 200, 10, 3
    X = rng.normal(size=(n_items, d))
    Q = X @ rng.normal(size=(d, k)) / np.sqrt(d)
    P = rng.normal(size=(n_users, k))
    truth = P @ Q.T
    mask = rng.random((n_users, n_items)) < 0.3
    cold = np.arange(n_items) >= int(0.8 * n_items)
    train = mask & ~cold[None, :]
    u, i = np.nonzero(train)
    ds = sr.Dataset.from_arrays(u, i, truth[u, i] + 0.05 * rng.normal(size=len(u)), n_users=n_users,
                                n_items=n_items)
    model = sr.BiasedMF(factors=k, epochs=60, learning_rate=0.02, regularization=0.01, seed=0)
    model.fit(ds, item_features=Features(X, np.arange(n_items)), feature_regularization=0.1)
    uu, ii = np.nonzero(mask & cold[None, :])
    predicted = model.predict(uu, ii)
    assert np.corrcoef(predicted, truth[uu, ii])[0, 1] > 0.9
    plain = sr.BiasedMF(factors=k, epochs=60, learning_rate=0.02, regularization=0.01, seed=0).fit(ds)
    assert abs(np.corrcoef(plain.predict(uu, ii), truth[uu, ii])[0, 1]) < 0.3


def test_bad_features_refused():
    with pytest.raises(TypeError, match="Features"):
        sr.BiasedMF(epochs=1).fit(DATA, item_features=np.zeros((DATA.n_items, 2)))
    with pytest.raises(TypeError, match="kind"):
        sr.BiasedMF(epochs=1).fit(DATA, item_features=Features(np.ones((1, 2)), ids=["x"]))
    with pytest.raises(ValueError, match="feature_regularization"):
        sr.BiasedMF(epochs=1).fit(DATA, item_features=Features(np.ones((1, 2)), ids=[0]), feature_regularization=0)
    with pytest.raises(TypeError, match="do not fit"):  # 3.5 on integer ids would become 3 (another item)
        sr.BiasedMF(epochs=1).fit(DATA, item_features=Features(np.ones((1, 2)), ids=[3.5]))


def test_split_of_the_data_scores_a_model_grown_by_feature_ids(tmp_path):
    """Feature rows of ids the data lacks append them to the model's maps; the data's own test split (and a
    validation fraction) still score against it: the split's ids are a prefix of the model's."""
    ds = sr.datasets.synthetic(n_users=60, n_items=40, seed=0)
    train, test = sr.split.train_test_split(ds, test_size=0.2, seed=0)
    F = Features(np.random.default_rng(0).normal(size=(42, 3)), np.r_[ds.item_ids, [100, 101]])
    model = sr.BiasedMF(epochs=2, seed=0).fit(train, item_features=F, validation=test)
    assert model.n_items_ == 42 and "val_rmse" in model.history[-1]
    u, i, r = test.user_item_arrays()
    expected = np.sqrt(np.mean((model.predict(u, i, ids="index") - r) ** 2))
    assert sr.metrics.rmse(model, test) == pytest.approx(expected)
    assert sr.evaluate(model, test, train=train)["rmse"] == pytest.approx(expected)
    other = sr.Dataset.from_arrays([0], [0], [3.0], n_users=60, n_items=41)  # not the data's shape: refused
    with pytest.raises(ValueError, match="index space"):
        sr.metrics.rmse(model, other)
    model.save(tmp_path / "grown.npz")  # the record of appended ids travels with the file
    assert sr.metrics.rmse(sr.load(tmp_path / "grown.npz"), test) == pytest.approx(expected)
    plain = sr.BiasedMF(epochs=1, seed=0).fit(sr.Dataset.from_arrays([0, 1], [0, 1], [3.0, 4.0], n_items=4))
    with pytest.raises(ValueError, match="index space"):  # a model that appended nothing pads nothing
        sr.metrics.rmse(plain, sr.Dataset.from_arrays([0], [0], [3.0], n_users=2, n_items=3))
