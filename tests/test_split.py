"""Tests of socialrec.split: partitions, kept index space and trust, and the PEERS.md protocols."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import socialrec as sr
from socialrec.split import (
    cold_start_users,
    kfold,
    leave_k_out,
    per_user_split,
    ratio_split,
    train_test_split,
)
from strategies import datasets

SETTINGS = settings(deadline=None, max_examples=25)


@pytest.fixture(scope="module")
def ds():
    return sr.datasets.synthetic(n_users=200, n_items=100, seed=5)


def entries(d):
    u, i, v = d.user_item_arrays()
    return set(zip(u.tolist(), i.tolist(), v.tolist()))


def assert_same_space(part, ds):
    assert part.ratings.shape == ds.ratings.shape
    assert part.ratings.dtype == np.float32 and isinstance(part.ratings, sp.csr_matrix)
    assert part.user_ids is ds.user_ids and part.item_ids is ds.item_ids
    assert part.rating_scale == ds.rating_scale
    assert (part.trust != ds.trust).nnz == 0 and part.trust.shape == ds.trust.shape


def assert_partition(parts, ds):
    sets = [entries(p) for p in parts]
    assert sum(len(s) for s in sets) == ds.nnz, "disjoint and complete"
    assert set().union(*sets) == entries(ds)
    for p in parts:
        assert_same_space(p, ds)


def csr_positions(ds, part):
    """Positions (in ds's CSR order) of the ratings of part."""
    key = lambda d: d.user_item_arrays()[0].astype(np.int64) * d.n_items + d.user_item_arrays()[1]
    return np.flatnonzero(np.isin(key(ds), key(part)))


# ------------------------------------------------------------------------------------------------------
# train_test_split, kfold
# ------------------------------------------------------------------------------------------------------


def test_train_test_split_protocol(ds):
    train, test = train_test_split(ds, test_size=0.2, seed=7)
    assert_partition([train, test], ds)
    n_test = round(0.2 * ds.nnz)
    assert test.nnz == n_test
    perm = np.random.default_rng(7).permutation(ds.nnz)
    np.testing.assert_array_equal(csr_positions(ds, test), np.sort(perm[:n_test]))
    again = train_test_split(ds, test_size=0.2, seed=7)[1]
    assert (again.ratings != test.ratings).nnz == 0
    assert entries(train_test_split(ds, test_size=0.2, seed=8)[1]) != entries(test)


def test_kfold_protocol(ds):
    folds = list(kfold(ds, k=5, seed=0))
    assert len(folds) == 5
    expected = np.array_split(np.random.default_rng(0).permutation(ds.nnz), 5)
    seen = np.zeros(ds.nnz, dtype=int)
    for (train, test), fold in zip(folds, expected):
        assert_partition([train, test], ds)
        pos = csr_positions(ds, test)
        np.testing.assert_array_equal(pos, np.sort(fold))
        seen[pos] += 1
    assert (seen == 1).all(), "each rating in exactly one test fold"


def test_kfold_is_lazy_and_validates_eagerly(ds):
    with pytest.raises(ValueError, match="k must be an integer >= 2"):
        kfold(ds, k=1)
    with pytest.raises(ValueError, match="need at least"):
        kfold(ds, k=ds.nnz + 1)
    gen = kfold(ds, k=3)
    assert next(iter(gen))[0].nnz > 0


@SETTINGS
@given(datasets(min_ratings=2), st.integers(2, 4), st.integers(0, 10))
def test_kfold_partition_property(d, k, seed):
    if d.nnz < k:
        return
    tests = [test for _, test in kfold(d, k=k, seed=seed)]
    assert sum(t.nnz for t in tests) == d.nnz
    assert set().union(*map(entries, tests)) == entries(d)
    for train, test in kfold(d, k=k, seed=seed):
        assert_partition([train, test], d)


# ------------------------------------------------------------------------------------------------------
# leave_k_out, per_user_split, ratio_split
# ------------------------------------------------------------------------------------------------------


@SETTINGS
@given(datasets(max_ratings=60), st.integers(1, 3), st.integers(0, 10))
def test_leave_k_out(d, k, seed):
    train, test = leave_k_out(d, k=k, seed=seed)
    assert_partition([train, test], d)
    n = np.diff(d.ratings.indptr)
    n_test = np.diff(test.ratings.indptr)
    np.testing.assert_array_equal(n_test, np.where(n > k, k, 0))


def test_leave_k_out_is_random_and_deterministic(ds):
    a = leave_k_out(ds, k=2, seed=0)[1]
    assert entries(a) == entries(leave_k_out(ds, k=2, seed=0)[1])
    assert entries(a) != entries(leave_k_out(ds, k=2, seed=1)[1])


def reference_per_user_split(d, test_size, min_ratings, seed):
    """PEERS.md LastFM protocol, written out with loops."""
    rng = np.random.default_rng(seed)
    test = set()
    train = set()
    for u in range(d.n_users):
        row = d.ratings[u]
        items = sorted(row.indices.tolist())
        if len(items) == 0:
            continue
        if len(items) < min_ratings:
            train.update((u, i) for i in items)
            continue
        perm = rng.permutation(len(items))
        n_test = round(test_size * len(items))
        chosen = {items[p] for p in perm[:n_test]}
        test.update((u, i) for i in chosen)
        train.update((u, i) for i in items if i not in chosen)
    seen = {i for _, i in train}
    return train, test, {(u, i) for u, i in test if i in seen}


def pairs(d):
    u, i, _ = d.user_item_arrays()
    return set(zip(u.tolist(), i.tolist()))


@SETTINGS
@given(datasets(max_users=12, max_ratings=80), st.sampled_from([0.2, 0.3, 0.5]), st.integers(0, 4),
       st.integers(0, 5))
def test_per_user_split_matches_protocol(d, test_size, min_ratings, seed):
    ref_train, ref_test, ref_test_seen = reference_per_user_split(d, test_size, min_ratings, seed)
    train, test = per_user_split(d, test_size=test_size, min_ratings=min_ratings, seed=seed,
                                 drop_unseen_items=False)
    assert pairs(train) == ref_train and pairs(test) == ref_test
    assert_partition([train, test], d)
    train2, test2 = per_user_split(d, test_size=test_size, min_ratings=min_ratings, seed=seed)
    assert pairs(train2) == ref_train and pairs(test2) == ref_test_seen
    assert_same_space(test2, d)


def test_per_user_split_drops_unseen_items():
    # item 1 is rated only by user 0; with test_size .5 and this seed it may land in test
    d = sr.Dataset.from_arrays([0, 0, 1, 1], [0, 1, 0, 2], [1.0, 2, 3, 4])
    for seed in range(20):
        train, test = per_user_split(d, test_size=0.5, min_ratings=2, seed=seed)
        train_items = set(train.user_item_arrays()[1].tolist())
        assert set(test.user_item_arrays()[1].tolist()) <= train_items
        full = per_user_split(d, test_size=0.5, min_ratings=2, seed=seed, drop_unseen_items=False)[1]
        assert test.nnz <= full.nnz
    # users below min_ratings (0 and 2) keep all their ratings in training; user 1 loses round(.4 * 5)
    d = sr.Dataset.from_arrays([0, 1, 1, 1, 1, 1, 2, 2, 2, 2], [0, 0, 1, 2, 3, 4, 1, 2, 3, 4], np.ones(10))
    train, test = per_user_split(d, test_size=0.4, min_ratings=5, seed=0)
    assert train.ratings[0].nnz == 1 and train.ratings[2].nnz == 4
    assert test.ratings[1].nnz == 2 and test.nnz == 2


def test_per_user_split_lastfm_protocol(shared_data):
    d = sr.datasets.load_lastfm(shared_data("lastfm"))
    train, test = per_user_split(d, test_size=0.2, min_ratings=5, seed=0)
    # PEERS.md: the mean is over the 1,871 evaluated users (those with a test item seen in training)
    assert (np.diff(test.ratings.indptr) > 0).sum() == 1871
    assert train.nnz + test.nnz <= d.nnz
    assert (np.diff(train.ratings.indptr) > 0).all()


@SETTINGS
@given(datasets(max_ratings=60), st.integers(0, 10), st.booleans())
def test_ratio_split(d, seed, per_user):
    train, valid, test = ratio_split(d, ratios=(0.8, 0.1, 0.1), seed=seed, per_user=per_user)
    assert_partition([train, valid, test], d)
    if per_user:
        n = np.diff(d.ratings.indptr)
        n_train = np.diff(train.ratings.indptr)
        assert (n_train[n > 0] >= 1).all(), "every user keeps a training rating"
        np.testing.assert_array_equal(np.diff(test.ratings.indptr), np.minimum(np.round(0.1 * n), np.maximum(n - 1, 0)))
    else:
        assert test.nnz == min(round(0.1 * d.nnz), d.nnz - 1)


def test_ratio_split_sizes(ds):
    train, valid, test = ratio_split(ds, seed=0, per_user=False)
    assert (test.nnz, valid.nnz) == (round(0.1 * ds.nnz), round(0.1 * ds.nnz))
    dense = sr.datasets.synthetic(n_users=100, n_items=100, density=0.3, seed=0)
    train, valid, test = ratio_split(dense, ratios=(8, 1, 1), seed=0)
    assert abs(test.nnz / dense.nnz - 0.1) < 0.02 and abs(train.nnz / dense.nnz - 0.8) < 0.04
    _, valid0, _ = ratio_split(ds, ratios=(0.9, 0, 0.1))
    assert valid0.nnz == 0


# ------------------------------------------------------------------------------------------------------
# cold_start_users, argument checks
# ------------------------------------------------------------------------------------------------------


@SETTINGS
@given(datasets(), st.integers(1, 6))
def test_cold_start_users(d, max_ratings):
    cold = cold_start_users(d, max_ratings=max_ratings)
    assert cold.dtype == np.int64
    expected = [u for u in range(d.n_users) if d.ratings[u].nnz < max_ratings]
    assert cold.tolist() == expected


def test_cold_start_users_include_users_without_ratings(ds):
    train, _ = train_test_split(ds, seed=0)
    cold = cold_start_users(train, max_ratings=5)
    counts = np.diff(train.ratings.indptr)
    assert set(np.flatnonzero(counts == 0)) <= set(cold.tolist())
    assert (counts[cold] < 5).all() and (np.delete(counts, cold) >= 5).all()


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda d: train_test_split(d, test_size=0), "test_size must be a number strictly between 0 and 1"),
        (lambda d: train_test_split(d, test_size=1.0), "test_size"),
        (lambda d: train_test_split(d, test_size="a"), "test_size"),
        (lambda d: train_test_split(d, test_size=1e-6), "empty test part"),
        (lambda d: leave_k_out(d, k=0), "k must be an integer >= 1"),
        (lambda d: per_user_split(d, test_size=1.5), "test_size"),
        (lambda d: per_user_split(d, min_ratings=-1), "min_ratings"),
        (lambda d: ratio_split(d, ratios=(0.8, 0.2)), "ratios"),
        (lambda d: ratio_split(d, ratios=(0, 0.5, 0.5)), "ratios"),
        (lambda d: ratio_split(d, ratios=(0.8, -0.1, 0.3)), "ratios"),
        (lambda d: cold_start_users(d, max_ratings=0), "max_ratings"),
        (lambda d: kfold(d, k=2.5), "k must be"),
    ],
)
def test_argument_validation(ds, call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call(ds)


def test_non_dataset_rejected():
    with pytest.raises(TypeError, match="Dataset"):
        train_test_split(sp.csr_matrix((2, 2)))


def test_splits_do_not_modify_input(ds):
    before = ds.ratings.copy(), ds.trust.copy()
    train_test_split(ds); list(kfold(ds, k=3)); leave_k_out(ds); per_user_split(ds); ratio_split(ds)
    assert (ds.ratings != before[0]).nnz == 0 and (ds.trust != before[1]).nnz == 0
