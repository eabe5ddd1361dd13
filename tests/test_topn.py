"""Top-N: the C++ selection equals the NumPy argsort reference exactly (ties, exclusions, candidates, tiles,
threads); recommend / similar_* behave for every model; bad input raises clearly.

Exact comparisons of whole pipelines use integer-valued (or dyadic) factors, so that every dot product is
exact whatever BLAS path computes it (a matrix product and a vector product may round differently)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import socialrec as sr
from model_suite import CASES, tiny_data
from socialrec import _core, topn
from socialrec.reference import ranking as ref
from strategies import datasets

SETTINGS = settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])


# ----------------------------------------------------------------------------------------------------------
# the selection kernel itself
# ----------------------------------------------------------------------------------------------------------
@st.composite
def score_blocks(draw):
    """A score block with many ties, optional +-inf / NaN, item offsets, candidate ids and exclusion lists
    (hypothesis draws the shapes and switches, a seeded generator the bulk values)."""
    rows = draw(st.integers(1, 5))
    cols = draw(st.one_of(st.integers(0, 40), st.integers(200, 700)))  # past the fill phase: chunked scan
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scores = rng.integers(-3, 4, size=(rows, cols)).astype(dtype)
    if draw(st.booleans()):
        special = rng.random((rows, cols)) < 0.1
        scores[special] = rng.choice([np.inf, -np.inf, np.nan], size=special.sum())
    offset = rng.integers(-2, 3, size=cols).astype(dtype) / 2 if draw(st.booleans()) else None
    columns = None
    if draw(st.booleans()):
        columns = np.sort(rng.choice(2 * cols + 10, size=cols, replace=False)).astype(np.int64)
    ids = np.arange(cols) if columns is None else columns
    row_list = exclude = None
    if draw(st.booleans()) and cols:
        n_lists = draw(st.integers(1, 4))
        lists = [rng.choice(np.append(ids, 10**6), size=rng.integers(0, min(cols, 60) + 1)) for _ in range(n_lists)]
        indptr = np.concatenate([[0], np.cumsum([len(x) for x in lists])]).astype(np.int64)
        indices = np.concatenate(lists).astype(np.int32)  # unsorted, with repeats and an id beyond the columns
        exclude = (indptr, indices)
        row_list = rng.integers(0, n_lists, size=rows).astype(np.int64)
    n = draw(st.one_of(st.integers(1, 6), st.integers(1, cols + 4)))
    return dict(scores=scores, n=n, item_offset=offset, columns=columns, row_list=row_list, exclude=exclude)


def assert_same_lists(got, want):
    ids, scores = got
    want_ids, want_scores = want
    assert ids.dtype == np.int64 and scores.dtype == np.float32
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_array_equal(scores, want_scores)  # -inf padding compares equal


@SETTINGS
@given(score_blocks(), st.sampled_from([1, 2]))
def test_select_equals_argsort_reference(block, threads):
    assert_same_lists(topn.select(**block, threads=threads), ref.select(**block))


@SETTINGS
@given(score_blocks(), st.one_of(st.integers(1, 7), st.integers(30, 300)))
def test_select_in_tiles_equals_one_pass(block, width):
    """Merging tiles of columns one after another (lists kept unsorted in between) gives the one-pass lists."""
    scores, n = block["scores"], block["n"]
    rows, cols = scores.shape
    offset, columns = block["item_offset"], block["columns"]
    exclude = topn._sorted_exclusion(block["exclude"], block["row_list"])
    best_ids = np.full((rows, n), -1, np.int64)
    best_scores = np.full((rows, n), -np.inf, scores.dtype)
    for first in range(0, cols, width):
        last = min(first + width, cols)
        topn._select_tile(np.ascontiguousarray(scores[:, first:last]), n,
                          None if offset is None else offset[first:last],
                          None if columns is None else columns[first:last], first, block["row_list"], exclude,
                          best_ids, best_scores, first > 0, 1, finish=last == cols)
    assert_same_lists((best_ids, best_scores.astype(np.float32)), ref.select(**block))


def test_ties_go_to_the_lower_item_and_nan_or_minus_inf_never_qualify():
    scores = np.array([[1.0, 2.0, 2.0, np.nan, 2.0, -np.inf, 0.5, np.inf]], np.float32)
    ids, top = topn.select(scores, 5)
    assert ids.tolist() == [[7, 1, 2, 4, 0]]
    assert top.tolist() == [[np.inf, 2.0, 2.0, 2.0, 1.0]]
    ids, top = topn.select_top(scores, 8)
    assert ids.tolist() == [[7, 1, 2, 4, 0, 6, -1, -1]]
    assert np.isneginf(top[0, 6:]).all()


def test_kernel_rejects_bad_arguments():
    scores = np.zeros((2, 5), np.float32)
    ids, best = np.empty((2, 3), np.int64), np.empty((2, 3), np.float32)
    with pytest.raises(ValueError, match="n=0"):
        _core.topk_select(scores, 0, best_ids=ids, best_scores=best)
    with pytest.raises(ValueError, match="best_ids must have shape"):
        _core.topk_select(scores, 2, best_ids=ids, best_scores=best)
    with pytest.raises(TypeError, match="best_scores has dtype"):
        _core.topk_select(scores, 3, best_ids=ids, best_scores=best.astype(np.float64))
    with pytest.raises(ValueError, match="strictly increasing"):
        _core.topk_select(scores, 3, columns=np.array([0, 2, 2, 3, 4]), best_ids=ids, best_scores=best)
    with pytest.raises(ValueError, match="item_offset has 4 entries"):
        _core.topk_select(scores, 3, item_offset=np.zeros(4, np.float32), best_ids=ids, best_scores=best)
    indptr, indices = np.array([0, 2], np.int64), np.array([3, 1], np.int32)
    with pytest.raises(ValueError, match="sorted"):
        _core.topk_select(scores, 3, row_list=np.array([0, 0]), exclude_indptr=indptr, exclude_indices=indices,
                          best_ids=ids, best_scores=best)
    with pytest.raises(IndexError, match="outside"):
        _core.topk_select(scores, 3, row_list=np.array([0, 1]), exclude_indptr=indptr,
                          exclude_indices=np.sort(indices), best_ids=ids, best_scores=best)
    with pytest.raises(ValueError, match="go together"):
        _core.topk_select(scores, 3, row_list=np.array([0, 0]), best_ids=ids, best_scores=best)


# ----------------------------------------------------------------------------------------------------------
# dense product + selection in blocks and tiles
# ----------------------------------------------------------------------------------------------------------
@SETTINGS
@given(st.data())
def test_blocks_tiles_and_threads_equal_the_reference(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    n_rows, n_cols, k = data.draw(st.integers(1, 12)), data.draw(st.integers(1, 400)), data.draw(st.integers(1, 5))
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    queries = rng.integers(-2, 3, size=(n_rows + 3, k)).astype(dtype)
    targets = rng.integers(-2, 3, size=(n_cols, k)).astype(dtype)
    rows = rng.integers(0, n_rows + 3, size=n_rows)
    n = data.draw(st.one_of(st.integers(1, 5), st.integers(1, n_cols + 3)))
    got = topn._top_rows(queries, rows, targets, n, threads=data.draw(st.sampled_from([1, 2, 3])),
                         batch_size=data.draw(st.integers(1, 5)), tile_items=data.draw(st.integers(1, 500)))
    assert_same_lists(got, ref.select((queries[rows] @ targets.T).astype(dtype), n))


def integer_model(ds, seed, biased=True, dtype="float32", factors=3, threads=1):
    """A BiasedMF on ``ds`` whose parameters are small integers (exact scores on every BLAS path)."""
    model = sr.BiasedMF(factors=factors, epochs=0, biased=biased, dtype=dtype, num_threads=threads).fit(ds)
    rng = np.random.default_rng(seed)
    for name, value in model.parameters_.items():
        value[...] = rng.integers(-2, 3, size=value.shape)
    return model


@SETTINGS
@given(datasets(max_users=10, max_items=14, max_ratings=40), st.integers(0, 2**16), st.data())
def test_recommend_equals_reference(ds, seed, data):
    model = integer_model(ds, seed, biased=data.draw(st.booleans()),
                          dtype=data.draw(st.sampled_from(["float32", "float64"])),
                          threads=data.draw(st.sampled_from([1, 2])))
    users = np.array(data.draw(st.lists(st.integers(0, ds.n_users - 1), max_size=12)), dtype=np.int64)
    n = data.draw(st.integers(1, ds.n_items + 3))
    exclude_seen = data.draw(st.booleans())
    items = None
    if data.draw(st.booleans()):
        items = data.draw(st.lists(st.integers(0, ds.n_items - 1), max_size=ds.n_items))  # repeats allowed
    got = model.recommend(users, n=n, exclude_seen=exclude_seen, items=items,
                          batch_size=data.draw(st.one_of(st.none(), st.integers(1, 4))))
    assert got[0].shape == (len(users), n)
    assert_same_lists(got, ref.recommend(model, users, n=n, exclude_seen=exclude_seen, items=items))


def test_batched_recommend_equals_unbatched():
    ds = sr.datasets.synthetic(n_users=300, n_items=500, seed=1)
    model = integer_model(ds, 0, factors=8)
    users = np.arange(ds.n_users)
    whole = model.recommend(users, n=20)
    for batch_size, tile_items, threads in [(1, None, 1), (7, 33, 2), (64, 100, 1), (300, 499, 2)]:
        model.num_threads = threads
        got = topn.recommend(model, users, n=20, batch_size=batch_size, tile_items=tile_items)
        assert_same_lists(got, whole)
    one_by_one = [model.recommend([u], n=20) for u in users[:20]]
    assert_same_lists((np.vstack([x[0] for x in one_by_one]), np.vstack([x[1] for x in one_by_one])),
                      (whole[0][:20], whole[1][:20]))


def test_n_larger_than_available_items_pads():
    ds = sr.datasets.synthetic(n_users=30, n_items=12, seed=2)
    model = sr.BiasedMF(factors=3, epochs=2).fit(ds)
    ids, scores = model.recommend(np.arange(30), n=20)
    seen = np.diff(model.seen_indptr_)
    assert ((ids >= 0).sum(axis=1) == ds.n_items - seen).all()
    assert (ids[:, ds.n_items:] == -1).all() and np.isneginf(scores[:, ds.n_items:]).all()
    for u in range(30):
        kept = ids[u][ids[u] >= 0]
        assert len(set(kept)) == len(kept)
        assert not set(kept) & set(model.seen_indices_[model.seen_indptr_[u]:model.seen_indptr_[u + 1]])
        assert np.all(np.diff(scores[u][: len(kept)]) <= 0)
    ids, scores = model.recommend([0, 1], n=4, items=[])
    assert (ids == -1).all() and np.isneginf(scores).all()
    ids, scores = model.recommend([], n=4)
    assert ids.shape == (0, 4) and scores.shape == (0, 4)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_model_ranks_by_its_own_scores(case):
    data = tiny_data(ranking=case.ranking)
    model = case.make().fit(data)
    users = np.arange(model.n_users_)
    ids, scores = model.recommend(users, n=8)
    parts = model._scoring()
    for u in users:
        x = model._raw_scores(np.full(model.n_items_, u), np.arange(model.n_items_))  # float64 x_ui
        x -= float(parts["user_bias"][u]) + float(parts["global_bias"])  # returned: the item-dependent part
        x[model.seen_indices_[model.seen_indptr_[u]:model.seen_indptr_[u + 1]]] = -np.inf
        kept = ids[u][ids[u] >= 0]
        np.testing.assert_allclose(scores[u][: len(kept)], x[kept], rtol=1e-5, atol=1e-5)
        cutoff = np.sort(x)[::-1][len(kept) - 1] if len(kept) else np.inf
        assert np.all(x[kept] >= cutoff - 1e-5), "a listed item scores below an unlisted one"
        assert len(kept) == min(8, np.isfinite(x).sum())


def test_recommend_maps_raw_ids():
    ds = sr.Dataset.from_raw(["ann", "ann", "bob", "cid", "cid"], ["x", "y", "x", "z", "w"], [1, 2, 3, 4, 5])
    model = sr.BiasedMF(factors=2, epochs=3).fit(ds)
    raw, scores = model.recommend(["bob", "ann"], n=3)
    ids, same = model.recommend([ds.user_index("bob"), ds.user_index("ann")], n=3, ids="index")
    np.testing.assert_array_equal(scores, same)
    assert raw.dtype.kind == "U"  # typed: string ids come back as a string array, not objects padded with None
    for row_raw, row_ids in zip(raw, ids):
        assert [r for r, i in zip(row_raw, row_ids) if i >= 0] == [ds.item_ids[i] for i in row_ids if i >= 0]
        assert all(r == "" for r, i in zip(row_raw, row_ids) if i < 0)  # string ids pad with ""
    with pytest.raises(KeyError, match="dan"):
        model.recommend(["dan"])


def test_recommend_raw_is_a_deprecated_alias_of_recommend():
    ds = sr.Dataset.from_raw(["ann", "ann", "bob", "cid", "cid"], ["x", "y", "x", "z", "w"], [1, 2, 3, 4, 5])
    model = sr.BiasedMF(factors=2, epochs=3).fit(ds)
    with pytest.warns(DeprecationWarning, match="recommend"):
        raw, scores = model.recommend_raw(["bob", "cid"], n=2, items=["w", "y"], batch_size=1)
    same = model.recommend(["bob", "cid"], n=2, items=["w", "y"], batch_size=1)
    np.testing.assert_array_equal(raw, same[0])
    np.testing.assert_array_equal(scores, same[1])


def test_recommend_takes_raw_candidate_items_and_a_batch_size():
    ds = sr.Dataset.from_raw(["ann", "ann", "bob", "cid", "cid"], ["x", "y", "x", "z", "w"], [1, 2, 3, 4, 5])
    model = sr.BiasedMF(factors=2, epochs=3).fit(ds)
    raw, scores = model.recommend(["bob", "cid"], n=2, items=["w", "y"], batch_size=1)
    idx = [ds.item_index("w"), ds.item_index("y")]
    ids, same = model.recommend([ds.user_index("bob"), ds.user_index("cid")], n=2, items=idx, ids="index")
    np.testing.assert_array_equal(scores, same)
    assert [["" if i < 0 else ds.item_ids[i] for i in row] for row in ids] == raw.tolist()
    assert set(raw[0]) <= {"w", "y"} and raw[1].tolist() == ["y", ""]  # cid rated w: excluded, padded
    assert scores[1, 1] == -np.inf
    with pytest.raises(KeyError, match="q"):
        model.recommend(["bob"], items=["w", "q"])


# ----------------------------------------------------------------------------------------------------------
# similar items / users
# ----------------------------------------------------------------------------------------------------------
@SETTINGS
@given(st.integers(0, 2**16), st.integers(1, 12), st.sampled_from(["float32", "float64"]))
def test_similar_equals_reference(seed, n, dtype):
    ds = sr.datasets.synthetic(n_users=25, n_items=30, seed=3)
    model = sr.BiasedMF(factors=4, epochs=0, dtype=dtype).fit(ds)
    rng = np.random.default_rng(seed)
    for name in ("user_factors", "item_factors"):
        vectors = rng.choice([-1.0, 1.0], size=model.parameters_[name].shape)  # norm 2: exact cosines
        vectors[rng.random(len(vectors)) < 0.1] = 0.0                       # and some zero vectors
        model.parameters_[name][...] = vectors
    items = rng.integers(0, model.n_items_, size=10)
    got = model.similar_items(items, n=n)
    assert_same_lists(got, ref.similar(model.parameters_["item_factors"], items, n))
    assert not np.any(got[0] == items[:, None]), "an item is listed as similar to itself"
    users = rng.integers(0, model.n_users_, size=10)
    assert_same_lists(model.similar_users(users, n=n), ref.similar(model.parameters_["user_factors"], users, n))


# ----------------------------------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted():
    return sr.BiasedMF(factors=3, epochs=2).fit(sr.datasets.synthetic(n_users=20, n_items=15, seed=4))


@pytest.mark.parametrize("n", [0, -1, 2.5, True, "3", None])
def test_bad_n_raises(fitted, n):
    with pytest.raises(ValueError, match="n="):
        fitted.recommend([0], n=n)
    with pytest.raises(ValueError, match="n="):
        fitted.similar_items([0], n=n)


@pytest.mark.parametrize("users, error", [([20], IndexError), ([-1], IndexError), ([0.5], TypeError),
                                          (["a"], TypeError), ([[0, 1]], ValueError)])
def test_bad_users_raise(fitted, users, error):
    with pytest.raises(error, match="users"):
        fitted.recommend(users)
    with pytest.raises(error, match="users"):
        fitted.similar_users(users)


def test_bad_items_and_batch_raise(fitted):
    with pytest.raises(IndexError, match="items"):
        fitted.recommend([0], items=[15])
    with pytest.raises(IndexError, match="items"):
        fitted.similar_items([15])
    with pytest.raises(ValueError, match="batch_size"):
        fitted.recommend([0], batch_size=0)
    with pytest.raises(sr.NotFittedError):
        sr.BiasedMF().recommend([0])


def test_recommend_takes_a_single_raw_id_and_tuple_ids():
    ds = sr.Dataset.from_raw(["ann", "ann", "bob", "cid", "cid"], ["x", "y", "x", "z", "w"], [1, 2, 3, 4, 5])
    model = sr.BiasedMF(factors=2, epochs=3).fit(ds)
    one = model.recommend("bob", n=3)  # a scalar is one user, as in recommend(0, ids="index")
    many = model.recommend(["bob"], n=3)
    assert one[0].shape == (1, 3)
    np.testing.assert_array_equal(one[0], many[0])
    np.testing.assert_array_equal(one[1], many[1])
    with pytest.raises(KeyError, match="dan"):
        model.recommend("dan")
    pairs = sr.Dataset.from_raw([("a", 1), ("a", 1), ("b", 2)], ["x", "y", "x"], [1, 2, 3])
    model = sr.BiasedMF(factors=2, epochs=3).fit(pairs)
    raw, _ = model.recommend([("b", 2), ("a", 1)], n=2)
    ids, _ = model.recommend([pairs.user_index(("b", 2)), pairs.user_index(("a", 1))], n=2, ids="index")
    assert [[r for r in row if r != ""] for row in raw] == [[pairs.item_ids[i] for i in row if i >= 0]
                                                            for row in ids]
    assert model.recommend(("a", 1), n=2)[0].shape == (1, 2)


def test_a_large_batch_keeps_each_tile_within_64_mib():
    # recommend's docstring: each dense product covers at most 64 MiB of scores per thread, whatever the
    # batch_size; with 30,000 users per batch a tile may hold only ~560 items (1,024 would be 117 MiB).
    import tracemalloc

    rng = np.random.default_rng(0)
    n_users, n_items = 30_000, 2_048
    users, items = rng.integers(0, n_users, 60_000), rng.integers(0, n_items, 60_000)
    ds = sr.Dataset.from_arrays(users, items, np.ones(len(users)), n_users=n_users, n_items=n_items,
                                duplicates="last")
    model = sr.BiasedMF(factors=4, epochs=0, num_threads=1).fit(ds)
    everyone = np.arange(n_users)
    want = model.recommend(everyone[:50], n=5)
    tracemalloc.start()
    try:
        got = model.recommend(everyone, n=5, batch_size=n_users)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < (64 << 20) + (8 << 20), f"{peak / 2**20:.0f} MiB"
    assert_same_lists((got[0][:50], got[1][:50]), want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_select_takes_unpickled_scores(dtype):
    """A pickled array's dtype is a copy of NumPy's float32 / float64 object (equal, not identical); the
    C++ selection compares dtype objects by identity and refused (or, for float64, miscast) such scores."""
    import pickle

    scores = np.random.default_rng(0).standard_normal((5, 9)).astype(dtype)
    unpickled = pickle.loads(pickle.dumps(scores))
    assert unpickled.dtype == scores.dtype
    for a, b in zip(topn.select(scores, 3), topn.select(unpickled, 3)):
        assert np.array_equal(a, b)
