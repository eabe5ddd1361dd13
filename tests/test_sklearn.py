"""scikit-learn's estimator protocol (issue 16, trap 4): rating models in GridSearchCV / cross_val_score / clone
with (user, item) pairs as X, ratings as y and the trust graph as a fit parameter; fit tells fit(X, y) from
fit(ratings, trust); ranking models refuse (X, y) clearly; sr.cross_validate takes an instance."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp

import socialrec as sr
from socialrec.models._sklearn import sklearn_dataset

sklearn = pytest.importorskip("sklearn", reason="scikit-learn is not installed (pip install scikit-learn, or "
                                                "the 'test' extra)")
from sklearn.base import clone, is_regressor  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score  # noqa: E402

RATING = [sr.BiasedMF, sr.SVDpp, sr.TrustSVD, sr.SoRec, sr.SocialMF, sr.SoReg, sr.RSTE, sr.TrustMF]
RANKING = [sr.BPR, sr.SBPR, sr.ALS, sr.SocialALS]


@pytest.fixture(scope="module")
def ds():
    """Raw string ids (so that an index can never pass for an id) with a trust graph."""
    base = sr.datasets.synthetic(n_users=120, n_items=60, density=0.1, trust_per_user=4, seed=2)
    u, i, v = base.user_item_arrays()
    s, d, w = base.trust_arrays()
    return sr.Dataset.from_raw([f"u{x}" for x in u], [f"i{x}" for x in i], v, trust_src=[f"u{x}" for x in s],
                               trust_dst=[f"u{x}" for x in d])


@pytest.fixture(scope="module")
def xy(ds):
    return sr.to_xy(ds)


def test_to_xy_gives_raw_pairs_and_ratings(ds, xy):
    X, y = sr.to_xy(ds, shuffle=False)
    assert X.shape == (ds.nnz, 2) and y.shape == (ds.nnz,) and y.dtype == np.float64
    u, i, v = ds.user_item_arrays()
    assert list(X[:, 0]) == list(ds.user_ids[u]) and list(X[:, 1]) == list(ds.item_ids[i])
    np.testing.assert_array_equal(y, v)
    # shuffled by default, so that scikit-learn's unshuffled KFold does not hold out whole users
    Xs, ys = xy
    assert sorted(map(tuple, Xs.tolist())) == sorted(map(tuple, X.tolist())) and sorted(ys) == sorted(y)
    first_fold_users = set(Xs[: len(ys) // 5, 0])
    assert len(first_fold_users & set(Xs[len(ys) // 5:, 0])) > 0.5 * len(first_fold_users)


@pytest.mark.parametrize("cls", RATING, ids=lambda c: c.__name__)
def test_fit_x_y_trust_equals_fit_on_the_dataset(cls, ds, xy):
    """fit(X, y, trust=ds) builds the same training data as the Dataset: the same parameters, bit for bit."""
    X, y = xy
    a = cls(factors=3, epochs=3).fit(X, y, trust=ds)
    b = cls(factors=3, epochs=3).fit(ds)
    assert list(a.user_ids_) == list(b.user_ids_) and list(a.item_ids_) == list(b.item_ids_)
    for k in b.parameters_:
        np.testing.assert_array_equal(a.parameters_[k], b.parameters_[k], err_msg=k)


def test_fit_x_y_no_longer_puts_y_in_the_trust_slot(ds, xy):
    """Trap 4: fit(X, y) put y in the trust slot. Now y are the ratings and there is no trust graph."""
    X, y = xy
    model = sr.SocialMF(factors=3, epochs=2).fit(X, y)
    no_trust = sklearn_dataset(X, y)
    assert no_trust.n_trust == 0 and no_trust.nnz == len(y)
    expect = sr.SocialMF(factors=3, epochs=2).fit(no_trust)
    np.testing.assert_array_equal(model.parameters_["user_factors"], expect.parameters_["user_factors"])


@pytest.mark.parametrize("form", ["dataframe", "list", "edges", "edges3", "sparse"])
def test_x_and_trust_forms(ds, xy, form):
    pd = pytest.importorskip("pandas") if form == "dataframe" else None
    X, y = xy
    s, d, w = ds.trust_arrays()
    edges = np.stack([ds.user_ids[s], ds.user_ids[d]], axis=1)
    trust = ds
    if form == "dataframe":
        X = pd.DataFrame({"user": X[:, 0], "item": X[:, 1]})
        trust = pd.DataFrame({"truster": edges[:, 0], "trustee": edges[:, 1]})
    elif form == "list":
        X = [tuple(r) for r in X]
    elif form == "edges":
        trust = edges
    elif form == "edges3":
        trust = np.concatenate([edges, np.ones((len(edges), 1), dtype=object)], axis=1).astype(object)
    model = sr.TrustSVD(factors=3, epochs=2)
    if form == "sparse":  # integer ids: a square matrix indexed by them
        Xi = np.stack([ds.user_index(X[:, 0]), ds.item_index(X[:, 1])], axis=1)
        a = model.fit(Xi, y, trust=sp.csr_matrix(ds.trust))
        b = sr.TrustSVD(factors=3, epochs=2).fit(Xi, y, trust=np.stack([s, d], axis=1))
    else:
        a = model.fit(X, y, trust=trust)
        b = sr.TrustSVD(factors=3, epochs=2).fit(ds)
    for k in b.parameters_:
        np.testing.assert_array_equal(a.parameters_[k], b.parameters_[k], err_msg=k)


def test_the_old_forms_still_work(ds):
    r, t = ds.ratings, ds.trust
    a = sr.TrustSVD(factors=3, epochs=2).fit(r, t)        # positional trust graph
    b = sr.TrustSVD(factors=3, epochs=2).fit(r, trust=t)
    c = sr.TrustSVD(factors=3, epochs=2).fit(ds)
    for k in c.parameters_:
        assert np.array_equal(a.parameters_[k], c.parameters_[k]) and np.array_equal(b.parameters_[k],
                                                                                   c.parameters_[k]), k


def test_ambiguous_calls_raise_clearly(ds, xy):
    X, y = xy
    with pytest.raises(TypeError, match="a Dataset already holds the ratings"):
        sr.BiasedMF().fit(ds, y)
    with pytest.raises(TypeError, match="a csr_matrix already holds the ratings"):
        sr.BiasedMF().fit(ds.ratings.tocsr(), y)
    with pytest.raises(TypeError, match="trust graph twice"):
        sr.TrustSVD().fit(ds.ratings, ds.trust, trust=ds.trust)
    with pytest.raises(ValueError, match="X must be a 2-D array of 2 columns, got shape"):
        sr.BiasedMF().fit(np.zeros((len(y), 3)), y)
    with pytest.raises(ValueError, match=r"y must hold one rating per row of X \(%d\)" % len(y)):
        sr.BiasedMF().fit(X, y[:-1])


def test_an_edge_list_as_long_as_x_is_refused(xy):
    """scikit-learn slices every fit parameter of X's length along with X: such a graph could be a slice."""
    X, y = xy
    edges = np.stack([X[:, 0], np.roll(X[:, 0], 1)], axis=1)
    with pytest.raises(ValueError, match="as many edges as X has rows.*trust=<Dataset>"):
        sr.TrustSVD().fit(X, y, trust=edges)
    with pytest.raises(ValueError, match="square"):
        sr.TrustSVD().fit(X[:4], y[:4], trust=sp.csr_matrix((4, 7)))


@pytest.mark.parametrize("cls", RANKING, ids=lambda c: c.__name__)
def test_ranking_models_refuse_x_y_clearly(cls, xy):
    X, y = xy
    with pytest.raises(TypeError, match=f"{cls.__name__} is a ranking model.*predicts no rating"):
        cls().fit(X, y)
    with pytest.raises(TypeError, match="ranking model"):
        cls().score(X, y)
    assert not is_regressor(cls()) and cls().__sklearn_tags__().estimator_type is None


@pytest.mark.parametrize("cls", RATING, ids=lambda c: c.__name__)
def test_tags_clone_and_pickle(cls):
    model = cls(factors=3, epochs=2, seed=4)
    assert is_regressor(model)
    tags = model.__sklearn_tags__()
    assert tags.estimator_type == "regressor" and tags.target_tags.required and tags.input_tags.string
    twin = clone(model)
    assert type(twin) is cls and twin is not model and twin.get_params() == model.get_params()
    assert pickle.loads(pickle.dumps(twin)).get_params() == model.get_params()


def test_score_is_r2_of_the_predictions(ds, xy):
    X, y = xy
    model = sr.BiasedMF(factors=3, epochs=10).fit(X, y)
    assert list(model.user_ids_) == list(ds.user_ids) and list(model.item_ids_) == list(ds.item_ids)
    u, i = ds.user_index(X[:, 0]), ds.item_index(X[:, 1])
    p = model._apply_link(model._raw_scores(u, i))  # the model's prediction of the pairs, by index
    np.testing.assert_array_equal(model._predict_pairs(X), p)
    r2 = 1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2)
    assert model.score(X, y) == pytest.approx(r2, rel=1e-12)
    from sklearn.metrics import r2_score

    w = np.linspace(0.5, 2, len(y))
    assert model.score(X, y, sample_weight=w) == pytest.approx(r2_score(y, p, sample_weight=w), rel=1e-12)


def test_unseen_users_and_items_get_the_biases_of_the_known_side(ds, xy):
    X, y = xy
    model = sr.BiasedMF(factors=3, epochs=5).fit(X, y)
    s = model._scoring()
    lo, hi = model.rating_scale_
    known_item = X[0, 1]
    i = int(np.flatnonzero(model.item_ids_ == known_item)[0])
    p = model._predict_pairs(np.array([["nobody", known_item], ["nobody", "nothing"]], dtype=object))
    expected = np.clip([s["global_bias"] + s["item_bias"][i], s["global_bias"]], lo, hi)
    np.testing.assert_allclose(p, expected, rtol=1e-6)


def test_grid_search_and_cross_val_score_with_the_trust_graph(ds, xy):
    """Trap 4 as written (GridSearchCV over a socialrec model, default scoring) now runs: every fold and the
    refit train on the trust graph passed as a fit parameter."""
    X, y = xy
    seen = []

    class Recording(sr.TrustSVD):
        def fit(self, data, y=None, **kw):
            seen.append(kw.get("trust") is ds)
            return super().fit(data, y, **kw)

    search = GridSearchCV(Recording(epochs=5), {"factors": [2, 4]}, cv=KFold(3, shuffle=True, random_state=0))
    search.fit(X, y, trust=ds)
    assert seen == [True] * 7  # 2 settings x 3 folds + the refit
    assert search.best_params_["factors"] in (2, 4) and np.isfinite(search.best_score_)
    assert search.best_estimator_.fitted and search.best_estimator_.n_users_ == ds.n_users
    scores = cross_val_score(sr.TrustSVD(factors=3, epochs=5), X, y, cv=3, params={"trust": ds})
    assert scores.shape == (3,) and np.isfinite(scores).all()


def test_cross_validate_takes_an_instance(ds):
    """Trap 4: sr.cross_validate(sr.TrustSVD(factors=5), ds) raised 'TrustSVD' object is not callable."""
    model = sr.TrustSVD(factors=5, epochs=3, seed=3)  # cross_validate's seed=3 below: folds and, for a class, models
    a = sr.cross_validate(model, ds, folds=2, seed=3, ranking=False, segments=False)
    b = sr.cross_validate(sr.TrustSVD, ds, folds=2, seed=3, ranking=False, segments=False, factors=5, epochs=3)
    assert a["rmse"]["folds"] == b["rmse"]["folds"]
    assert not model.fitted  # the instance is a template
    c = sr.cross_validate(model, ds, folds=2, seed=3, ranking=False, segments=False, factors=2)  # params override
    d = sr.cross_validate(sr.TrustSVD, ds, folds=2, seed=3, ranking=False, segments=False, factors=2, epochs=3)
    assert c["rmse"]["folds"] == d["rmse"]["folds"] != a["rmse"]["folds"]
    e = sr.cross_validate(sr.TrustSVD(factors=5, epochs=3), ds, folds=2, seed=3, ranking=False, segments=False)
    assert e["rmse"]["folds"] != a["rmse"]["folds"]  # an instance keeps its own seed (0 here), not the folds'
    assert sr.TrustSVD(factors=5, epochs=3, seed=0).get_params() == sr.TrustSVD(factors=5, epochs=3).get_params()
    with pytest.raises(TypeError, match="model class .* or instance"):
        sr.cross_validate("TrustSVD", ds, folds=2)


def test_named_scorers_use_predict_of_pairs(ds, xy):
    """scikit-learn's named scorers call predict(X) with one argument: the pairs."""
    X, y = xy
    scores = cross_val_score(sr.TrustSVD(factors=3, epochs=5), X, y, cv=3, params={"trust": ds},
                             scoring="neg_root_mean_squared_error")
    assert np.all(np.isfinite(scores)) and np.all(scores < 0)
    model = sr.BiasedMF(factors=3, epochs=3).fit(X, y)
    np.testing.assert_allclose(model.predict(X[:20]), model.predict(X[:20, 0], X[:20, 1]))


@pytest.mark.parametrize("user_ids", [["a", "b", "c"], [10, 20, 30], [1, 2, 3]], ids=["strings", "sparse", "1-based"])
def test_a_sparse_trust_matrix_needs_x_users_to_be_its_indices(user_ids):
    # review finding 4: the matrix's rows 0..n-1 became phantom users next to X's raw ids
    users = np.array(user_ids * 2, dtype=object)
    X = np.column_stack([users, np.array(["i", "j"] * 3, dtype=object)])
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 3.0])
    n = 4 if user_ids == [1, 2, 3] else 3
    trust = sp.csr_matrix(([1.0, 1.0], ([0, 1], [1, 2])), shape=(n, n))
    with pytest.raises(ValueError, match=r"trust=<Dataset>.*\(truster, trustee"):
        sr.SocialMF(factors=2, epochs=1).fit(X, y, trust=trust)


def test_a_sparse_trust_matrix_on_index_users_is_their_graph():
    X = np.array([[0, 0], [1, 1], [2, 0], [0, 1], [1, 0], [2, 1]])
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 3.0])
    trust = sp.csr_matrix(([1.0, 1.0], ([0, 1], [1, 2])), shape=(3, 3))
    by_matrix = sr.SocialMF(factors=2, epochs=3, seed=0, num_threads=1).fit(X, y, trust=trust)
    by_rows = sr.SocialMF(factors=2, epochs=3, seed=0, num_threads=1).fit(X, y, trust=np.array([[0, 1], [1, 2]]))
    assert by_matrix.n_users_ == 3
    assert np.array_equal(by_matrix.predict(X), by_rows.predict(X))


def test_predict_of_pairs_uses_the_cached_id_maps(ds, xy, monkeypatch):
    # review finding 11: predict(X) / score built a new raw-id index (a sort of every id) on every call
    from socialrec import _ids

    X, y = xy
    model = sr.BiasedMF(factors=2, epochs=1, seed=0).fit(X, y)
    first = model.predict(X)

    def no_new_index(*args, **kwargs):
        raise AssertionError("a new IdIndex was built for a query of a fitted model")

    monkeypatch.setattr(_ids.IdIndex, "__init__", no_new_index)
    assert np.array_equal(model.predict(X), first)
    model.score(X, y)
