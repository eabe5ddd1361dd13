"""Data scored against a fitted model (or a training set) is in its id space (DESIGN §2b ids rule, review of
issues 15/16): a Dataset with other ids is refused whatever its shape; a DataFrame of raw ids is mapped through
the fitted ids (never numbered afresh), and an id the model does not know is an ``UnknownIdError``;
index-space data of the model's shape keeps working."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import socialrec as sr

pd = pytest.importorskip("pandas", reason="pandas is optional (pip install 'socialrec[pandas]')")

TRAIN = {"user": [10, 10, 20, 20, 30, 30, 40, 40], "item": ["a", "b", "a", "c", "b", "c", "a", "c"],
         "rating": [1.0, 2.0, 3.0, 4.0, 5.0, 4.0, 3.0, 5.0]}


@pytest.fixture(scope="module")
def fitted():
    train = pd.DataFrame(TRAIN)
    return sr.BiasedMF(factors=2, epochs=5, seed=0).fit(train), train


def _other_ids_same_shape():
    """A Dataset of the model's shape (4 users, 3 items) whose users are other people (11, 21, 31, 41)."""
    return sr.Dataset.from_pandas(pd.DataFrame({"user": [11, 21, 31, 41], "item": ["a", "b", "c", "a"],
                                                "rating": [1.0, 2.0, 3.0, 4.0]}))


CALLS = {
    "rmse": lambda m, d: sr.metrics.rmse(m, d),
    "mae": lambda m, d: sr.metrics.mae(m, d),
    "ranking": lambda m, d: sr.metrics.ranking(m, d, relevant="all"),
    "ranking-train": lambda m, d: sr.metrics.ranking(m, sp.csr_matrix(np.eye(4, 3)), train=d, relevant="all"),
    "evaluate": lambda m, d: sr.evaluate(m, d),
    "evaluate-train": lambda m, d: sr.evaluate(m, sp.csr_matrix(np.eye(4, 3)), train=d),
    "loss": lambda m, d: m.loss(d),
}


@pytest.mark.parametrize("call", list(CALLS.values()), ids=list(CALLS))
def test_dataset_with_other_ids_of_the_same_shape_is_refused(fitted, call):
    model, _ = fitted
    other = _other_ids_same_shape()
    assert other.ratings.shape == (model.n_users_, model.n_items_)
    with pytest.raises(ValueError, match="other user or item ids"):
        call(model, other)


def test_a_dataframe_is_mapped_through_the_model_ids(fitted):
    model, train = fitted
    # users 30 and 10 are indices 2 and 0 of the model; numbered afresh they would be 1 and 0
    test = pd.DataFrame({"user": [30, 10], "item": ["a", "c"], "rating": [2.0, 3.0]})
    want = np.array([2.0, 3.0]) - model.predict([30, 10], ["a", "c"])
    assert sr.metrics.rmse(model, test) == pytest.approx(np.sqrt(np.mean(want ** 2)), rel=1e-12)
    assert sr.metrics.mae(model, test) == pytest.approx(np.mean(np.abs(want)), rel=1e-12)
    out = sr.evaluate(model, test, train=train, relevant="all")
    assert out["rmse"] == pytest.approx(np.sqrt(np.mean(want ** 2)), rel=1e-12)
    assert out["segments"]["all"]["n"] == 2
    ds_test = sr.Dataset.from_arrays(model.user_ids_.tolist().index(30) * np.ones(1, int), [0], [2.0],
                                     n_users=4, n_items=3)  # index space: user 30 rated item "a"
    assert model.loss(pd.DataFrame({"user": [30], "item": ["a"], "rating": [2.0]})) == \
        pytest.approx(model.loss(ds_test), rel=1e-12)


@pytest.mark.parametrize("call", [CALLS["rmse"], CALLS["evaluate"], CALLS["loss"]], ids=["rmse", "evaluate", "loss"])
def test_an_unknown_id_in_a_dataframe_raises_naming_it(fitted, call):
    model, _ = fitted
    # the reviewer's case: unknown user 4 next to known ones was scored as another user
    test = pd.DataFrame({"user": [20, 50], "item": ["b", "a"], "rating": [2.0, 3.0]})
    with pytest.raises(sr.UnknownIdError, match="50") as e:
        call(model, test)
    assert e.value.ids == [50]


def test_index_space_data_of_the_model_shape_still_works(fitted):
    model, _ = fitted
    test = sp.csr_matrix(([2.0, 3.0], ([2, 0], [0, 2])), shape=(4, 3))
    want = np.array([2.0, 3.0]) - model.predict([2, 0], [0, 2], ids="index")
    assert sr.metrics.rmse(model, sr.Dataset.from_sparse(test)) == pytest.approx(np.sqrt(np.mean(want ** 2)))


def test_validation_with_other_ids_is_refused_and_a_frame_is_mapped():
    train = pd.DataFrame(TRAIN)
    with pytest.raises(ValueError, match="validation has other user or item ids"):
        sr.BiasedMF(factors=2, epochs=2, seed=0).fit(train, validation=_other_ids_same_shape())
    val = pd.DataFrame({"user": [40, 20], "item": ["b", "b"], "rating": [4.0, 1.0]})
    model = sr.BiasedMF(factors=2, epochs=3, seed=0).fit(train, validation=val)
    assert model.history[-1]["val_rmse"] == pytest.approx(sr.metrics.rmse(model, val), rel=1e-12)
    with pytest.raises(sr.UnknownIdError, match="'z'"):
        sr.BiasedMF(factors=2, epochs=2, seed=0).fit(train, validation=val.assign(item=["b", "z"]))


def test_tune_validation_with_other_ids_is_refused():
    pytest.importorskip("optuna", reason="Optuna is the optional extra socialrec[tune]")
    train = sr.Dataset.from_pandas(pd.DataFrame(TRAIN))
    with pytest.raises(ValueError, match="validation has other user or item ids"):
        sr.tune(sr.BiasedMF, train, n_trials=1, validation=_other_ids_same_shape())


def test_a_model_without_id_maps_checks_the_shape_only():
    # a model file saved before id maps existed has user_ids_ = item_ids_ = None: its ids are the indices
    ds = sr.datasets.synthetic(n_users=20, n_items=10, seed=0)
    model = sr.BiasedMF(factors=2, epochs=2, seed=0).fit(ds)
    model.user_ids_ = model.item_ids_ = None
    other = sr.Dataset.from_sparse(ds.ratings, user_ids=np.arange(20) + 100)
    assert sr.metrics.rmse(model, other) == pytest.approx(sr.metrics.rmse(model, ds), rel=1e-12)
    u, i, v = ds.user_item_arrays()
    frame = pd.DataFrame({"user": u, "item": i, "rating": v})
    assert sr.metrics.rmse(model, frame) == pytest.approx(sr.metrics.rmse(model, ds), rel=1e-12)
    with pytest.raises(sr.UnknownIdError, match="20"):
        sr.metrics.rmse(model, pd.DataFrame({"user": [20], "item": [0], "rating": [1.0]}))
