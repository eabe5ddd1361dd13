"""The ids rule (DESIGN §2b, issue 16 trap 2 and 7): every query method takes and returns the raw ids of the data
the model was fitted on by default, ``ids="index"`` switches it to indices, unknown ids are errors that name
each of them unless ``unknown=`` says otherwise, and ``recommend`` takes ``exclude=`` (per call or per user) and
returns typed arrays.

The datasets here have raw ids that are not their indices: 1000 + 3k / 5000 + 7k (no raw id is an index), ids
1..n (raw id k is index k - 1: trap 2's off-by-one, where a raw id silently reached the next user), and strings.
"""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import socialrec as sr


def _ratings(seed=0, n_users=30, n_items=40, nnz=500):
    rng = np.random.default_rng(seed)
    u, i = rng.integers(0, n_users, nnz), rng.integers(0, n_items, nnz)
    keys = np.unique(u * n_items + i)
    u, i = keys // n_items, keys % n_items
    return u, i, rng.integers(1, 6, len(u)).astype(float)


def _dataset(kind):
    u, i, v = _ratings()
    if kind == "spaced":
        return sr.Dataset.from_raw(1000 + 3 * u, 5000 + 7 * i, v)
    if kind == "shifted":  # raw id k is index k - 1
        return sr.Dataset.from_raw(u + 1, i + 1, v)
    return sr.Dataset.from_raw(np.array([f"u{k:02d}" for k in u], dtype=object),
                               np.array([f"item-{k}" for k in i], dtype=object), v)


KINDS = ["spaced", "shifted", "strings"]


@pytest.fixture(scope="module", params=KINDS)
def fitted(request):
    ds = _dataset(request.param)
    return sr.BiasedMF(factors=4, epochs=5, seed=0).fit(ds), ds


def _some(ds, side, k=5):
    """k raw ids of ``side`` and their indices (not 0..k-1, so that a raw id equal to an index would show)."""
    ids = ds.user_ids if side == "user" else ds.item_ids
    idx = np.array([3, 7, 1, len(ids) - 1, 11])[:k]
    return [ids[j] for j in idx], idx


# ----------------------------------------------------------------------------------------------------------
# a raw id reaches the right user / item, in every method
# ----------------------------------------------------------------------------------------------------------
def test_predict_takes_raw_ids(fitted):
    model, ds = fitted
    raw_u, idx_u = _some(ds, "user")
    raw_i, idx_i = _some(ds, "item")
    got = model.predict(raw_u, raw_i)
    np.testing.assert_array_equal(got, model.predict(idx_u, idx_i, ids="index"))
    s = model._scoring()  # the score of those indices, computed here
    x = (np.einsum("ij,ij->i", s["user_vectors"][idx_u], s["item_vectors"][idx_i]).astype(np.float64)
         + s["user_bias"][idx_u] + s["item_bias"][idx_i] + s["global_bias"])
    np.testing.assert_allclose(got, np.clip(x, *model.rating_scale_), rtol=1e-6)


def test_recommend_takes_and_returns_raw_ids(fitted):
    model, ds = fitted
    raw_u, idx_u = _some(ds, "user")
    items, scores = model.recommend(raw_u, n=6)
    top, same = model.recommend(idx_u, n=6, ids="index")
    np.testing.assert_array_equal(scores, same)
    assert items.tolist() == [[ds.item_ids[j] for j in row] for row in top]
    for row, u in zip(items, idx_u):  # each row excludes that user's own training items
        seen = set(ds.item_ids[ds.ratings[u].indices].tolist())
        assert not seen & set(row.tolist())


@pytest.mark.parametrize("side", ["item", "user"])
def test_similar_takes_and_returns_raw_ids(fitted, side):
    model, ds = fitted
    call = model.similar_items if side == "item" else model.similar_users
    ids = ds.item_ids if side == "item" else ds.user_ids
    raw, idx = _some(ds, side)
    got, cosines = call(raw, n=4)
    top, same = call(idx, n=4, ids="index")
    np.testing.assert_array_equal(cosines, same)
    assert got.tolist() == [[ids[j] for j in row] for row in top]
    assert not any(q in row.tolist() for q, row in zip(raw, got)), "a query listed as similar to itself"


def test_metrics_users_are_raw_ids(fitted):
    model, ds = fitted
    raw_u, idx_u = _some(ds, "user", 3)
    keep = np.isin(ds.user_item_arrays()[0], idx_u)
    u, i, v = (a[keep] for a in ds.user_item_arrays())
    expected = np.sqrt(np.mean((v - model.predict(u, i, ids="index")) ** 2))
    assert sr.metrics.rmse(model, ds, users=raw_u) == pytest.approx(expected, rel=1e-12)
    assert sr.metrics.rmse(model, ds, users=idx_u, ids="index") == pytest.approx(expected, rel=1e-12)
    assert sr.metrics.mae(model, ds, users=raw_u) == sr.metrics.mae(model, ds, users=idx_u, ids="index")
    users, values = sr.metrics.ranking_per_user(model, ds, users=raw_u, k=5)
    assert sorted(users.tolist()) == sorted(raw_u)  # raw ids out, too
    index_users, same = sr.metrics.ranking_per_user(model, ds, users=idx_u, k=5, ids="index")
    assert users.tolist() == [ds.user_ids[j] for j in index_users]
    np.testing.assert_array_equal(values, same)
    assert sr.metrics.ranking(model, ds, users=raw_u, k=5) == sr.metrics.ranking(model, ds, users=idx_u, k=5,
                                                                                 ids="index")
    assert sr.evaluate(model, ds, users=raw_u, ranking=False)["rmse"] == pytest.approx(expected, rel=1e-12)


def test_an_index_is_not_a_raw_id():
    """Trap 2: on ids 1..n, raw id 3 is user index 2; passed as a raw id it must reach that user, and the index
    3 is only read as an index when the call says so."""
    ds = _dataset("shifted")
    model = sr.BiasedMF(factors=4, epochs=5, seed=0).fit(ds)
    assert ds.user_index(3) == 2 and ds.item_index(5) == 4
    np.testing.assert_array_equal(model.predict([3], [5]), model.predict([2], [4], ids="index"))
    assert not np.array_equal(model.predict([3], [5]), model.predict([3], [5], ids="index"))
    np.testing.assert_array_equal(model.similar_items([5], n=3)[0] - 1, model.similar_items([4], n=3, ids="index")[0])
    np.testing.assert_array_equal(model.recommend([1, 2, 3], n=3)[0] - 1,
                                  model.recommend([0, 1, 2], n=3, ids="index")[0])


def test_matrix_fitted_models_use_indices_either_way():
    ds = sr.datasets.synthetic(n_users=20, n_items=15, seed=4)
    model = sr.BiasedMF(factors=3, epochs=2).fit(ds.ratings)
    np.testing.assert_array_equal(model.recommend([0, 4], n=3)[0], model.recommend([0, 4], n=3, ids="index")[0])
    np.testing.assert_array_equal(model.predict([1, 2], [3, 4]), model.predict([1, 2], [3, 4], ids="index"))
    assert model.recommend([0], n=3)[0].dtype == np.int64


# ----------------------------------------------------------------------------------------------------------
# unknown ids
# ----------------------------------------------------------------------------------------------------------
def test_unknown_ids_are_all_named(fitted):
    model, ds = fitted
    known = ds.user_ids[0]
    strangers = [-5, "nobody", -5, -9]
    with pytest.raises(sr.UnknownIdError) as info:
        model.recommend([known] + strangers)
    assert info.value.ids == [-5, "nobody", -9] and info.value.positions == [1, 2, 4]
    for s in ("-5 (users[1])", "'nobody' (users[2])", "-9 (users[4])"):
        assert s in str(info.value)
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)
    with pytest.raises(sr.UnknownIdError, match=r"unknown item ids -1 \(items\[1\]\), -2 \(items\[2\]\)"):
        model.predict([known] * 3, [ds.item_ids[0], -1, -2])
    with pytest.raises(sr.UnknownIdError, match=r"unknown item id -3"):
        model.similar_items([ds.item_ids[0], -3])
    with pytest.raises(sr.UnknownIdError, match=r"unknown user id -4"):
        sr.metrics.rmse(model, ds, users=[known, -4])
    with pytest.raises(sr.UnknownIdError, match=r"every unknown user id: -1 \(users\[0\]\), 99999"):
        model.recommend([-1, 99999, 0], ids="index")


def test_matrix_fitted_model_names_every_out_of_range_id():
    model = sr.BiasedMF(factors=3, epochs=2).fit(sr.datasets.synthetic(n_users=20, n_items=15, seed=4))
    with pytest.raises(sr.UnknownIdError, match=r"users\[1\] = 20 is out of range \[0, 20\); every unknown user "
                                                r"id: 20 \(users\[1\]\), 25 \(users\[2\]\)") as info:
        model.recommend([0, 20, 25, 20])
    assert info.value.ids == [20, 25]
    with pytest.raises(KeyError, match=r"unknown user id 'bob' \(users\[0\]\); the user ids of this model are the "
                                       r"integers 0\.\.19"):
        model.recommend(["bob"])


def test_unknown_popular_recommends_to_the_others(fitted):
    model, ds = fitted
    raw_u, _ = _some(ds, "user", 2)
    stranger = "stranger" if ds.user_ids.dtype == object else -1
    items, scores = model.recommend([raw_u[0], stranger, raw_u[1]], n=5, unknown="popular")
    alone, alone_scores = model.recommend(raw_u, n=5)
    np.testing.assert_array_equal(items[[0, 2]], alone)
    np.testing.assert_array_equal(scores[[0, 2]], alone_scores)
    counts = np.bincount(model.seen_indices_, minlength=model.n_items_)
    popular = np.argsort(-counts, kind="stable")[:5]  # most-rated first, ties to the lower index
    assert items[1].tolist() == [ds.item_ids[j] for j in popular]
    assert np.isnan(scores[1]).all()
    # per-call and per-user exclusions apply to the fallback too
    items, _ = model.recommend([stranger], n=3, unknown="popular", exclude=[ds.item_ids[popular[0]]])
    assert items[0].tolist() == [ds.item_ids[j] for j in popular[1:4]]
    items, _ = model.recommend([stranger], n=3, unknown="popular", exclude={stranger: [ds.item_ids[popular[1]]]})
    assert items[0].tolist() == [ds.item_ids[j] for j in popular[[0, 2, 3]]]
    with pytest.raises(ValueError, match="unknown='nothing' must be"):
        model.recommend(raw_u, unknown="nothing")


# ----------------------------------------------------------------------------------------------------------
# exclude=
# ----------------------------------------------------------------------------------------------------------
def test_exclude_per_call(fitted):
    model, ds = fitted
    raw_u, idx_u = _some(ds, "user", 3)
    first, _ = model.recommend(raw_u, n=4)
    drop = [first[0][0], first[1][1]]
    items, scores = model.recommend(raw_u, n=4, exclude=drop)
    for row, full in zip(items, model.recommend(raw_u, n=8)[0]):
        assert row.tolist() == [x for x in full.tolist() if x not in drop][:4]
    top, same = model.recommend(idx_u, n=4, exclude=[ds.item_index(x) for x in drop], ids="index")
    np.testing.assert_array_equal(same, scores)
    assert items.tolist() == [[ds.item_ids[j] for j in row] for row in top]
    one, _ = model.recommend(raw_u[:1], n=4, exclude=drop[0])  # one id: a list of one
    assert drop[0] not in one[0].tolist()


@pytest.mark.parametrize("form", ["lists", "dict", "array"])
def test_exclude_per_user(fitted, form):
    model, ds = fitted
    raw_u, _ = _some(ds, "user", 3)
    full, _ = model.recommend(raw_u, n=8)
    drops = [[full[0][0], full[0][2]], [], [full[2][1]]]
    if form == "lists":
        exclude = drops
    elif form == "dict":
        exclude = {u: d for u, d in zip(raw_u, drops) if d}
        exclude["not a queried user"] = [full[1][0]]  # users outside the query exclude nothing
    else:
        exclude = np.array([full[0][:2], full[1][:0].tolist() + full[1][5:7].tolist(), full[2][1:3]])
        drops = [list(r) for r in exclude]
    items, _ = model.recommend(raw_u, n=4, exclude=exclude)
    for row, whole, drop in zip(items, full, drops):
        assert row.tolist() == [x for x in whole.tolist() if x not in drop][:4]


def test_exclude_errors(fitted):
    model, ds = fitted
    raw_u, _ = _some(ds, "user", 2)
    with pytest.raises(ValueError, match="exclude has 1 lists for 2 users"):
        model.recommend(raw_u, exclude=[[ds.item_ids[0]]])
    with pytest.raises(sr.UnknownIdError, match="unknown item id -7"):
        model.recommend(raw_u, exclude=[ds.item_ids[0], -7])
    with pytest.raises(sr.UnknownIdError, match=r"unknown item ids in exclude: -7 \(user .*\), -8"):
        model.recommend(raw_u, exclude=[[-7], [ds.item_ids[0], -8]])


def test_exclude_every_item_leaves_padding(fitted):
    model, ds = fitted
    raw_u, _ = _some(ds, "user", 2)
    items, scores = model.recommend(raw_u, n=3, exclude=list(ds.item_ids))
    assert np.isneginf(scores).all()
    assert items.dtype.kind in "iU" and (items == (-1 if items.dtype.kind == "i" else "")).all()


# ----------------------------------------------------------------------------------------------------------
# typed results, the ids argument, persistence
# ----------------------------------------------------------------------------------------------------------
def test_results_are_typed_with_a_documented_fill(fitted):
    model, ds = fitted
    raw_u, idx_u = _some(ds, "user", 2)
    items, scores = model.recommend(raw_u, n=model.n_items_ + 2)  # more than there are: padded
    assert items.dtype != object and scores.dtype == np.float32
    assert items.dtype.kind == ("U" if ds.item_ids.dtype == object else "i")
    top, _ = model.recommend(idx_u, n=model.n_items_ + 2, ids="index")
    pad = top < 0
    assert pad.any() and np.isneginf(scores[pad]).all() and np.isfinite(scores[~pad]).all()
    assert (items[pad] == (-1 if items.dtype.kind == "i" else "")).all()


def test_mixed_type_ids_keep_an_object_array_padded_with_none():
    ds = sr.Dataset.from_raw([3, "a", 3, "a", 7], [1, 1, "x", 2, 2], [1.0, 2, 3, 4, 5])
    model = sr.BiasedMF(factors=2, epochs=2).fit(ds)
    items, scores = model.recommend(["a", 3], n=3)
    assert items.dtype == object and items[0][-1] is None and scores[0][-1] == -np.inf
    assert model.recommend(3, n=1)[0][0][0] in (1, "x", 2)


def test_bad_ids_argument(fitted):
    model, ds = fitted
    for call in (lambda: model.predict([ds.user_ids[0]], [ds.item_ids[0]], ids="raw ids"),
                 lambda: model.recommend([ds.user_ids[0]], ids=None),
                 lambda: model.similar_users([ds.user_ids[0]], ids="indices"),
                 lambda: sr.metrics.rmse(model, ds, users=[ds.user_ids[0]], ids="idx")):
        with pytest.raises(ValueError, match="must be 'raw'"):
            call()


def test_the_map_survives_save_and_pickle(fitted, tmp_path):
    model, ds = fitted
    raw_u, _ = _some(ds, "user", 3)
    want = model.recommend(raw_u, n=4)
    model.save(tmp_path / "m.npz")
    for other in (sr.load(tmp_path / "m.npz"), pickle.loads(pickle.dumps(model))):
        got = other.recommend(raw_u, n=4)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
