"""Tests of socialrec.Dataset: construction, validation, id maps, views, pickling."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import socialrec as sr
from socialrec import Dataset
from strategies import datasets, rating_arrays, trust_arrays

SETTINGS = settings(deadline=None, max_examples=30)


def small(**kw):
    args = dict(users=[0, 1, 2, 2], items=[0, 1, 1, 0], values=[1.0, 2.0, 3.0, 4.0])
    args.update(kw)
    return Dataset.from_arrays(**args)


def assert_canonical(m, shape):
    assert isinstance(m, sp.csr_matrix)
    assert m.shape == shape
    assert m.dtype == np.float32
    for u in range(shape[0]):
        row = m.indices[m.indptr[u]:m.indptr[u + 1]]
        assert np.all(np.diff(row) > 0), "sorted, no duplicates"


# ------------------------------------------------------------------------------------------------------
# construction
# ------------------------------------------------------------------------------------------------------


def test_contract_example():
    u = np.array([0, 1, 2, 2]); i = np.array([0, 1, 1, 0]); v = np.array([1.0, 2.0, 3.0, 4.0])
    d = Dataset.from_arrays(u, i, v, trust_src=np.array([0]), trust_dst=np.array([1]), n_users=3, n_items=2)
    assert d.ratings.nnz == 4 and d.trust.nnz == 1
    np.testing.assert_array_equal(d.ratings.toarray(), [[1, 0], [0, 2], [4, 3]])
    assert d.trust[0, 1] == 1 and d.trust[1, 0] == 0
    assert (d.n_users, d.n_items, d.nnz, d.n_trust) == (3, 2, 4, 1)
    assert d.rating_scale == (1.0, 4.0) and all(type(x) is float for x in d.rating_scale)
    np.testing.assert_array_equal(d.user_ids, [0, 1, 2])
    np.testing.assert_array_equal(d.item_ids, [0, 1])
    assert_canonical(d.ratings, (3, 2))
    assert_canonical(d.trust, (3, 3))


@SETTINGS
@given(rating_arrays(duplicates=False), st.data())
def test_from_arrays_matches_entries(arrays, data):
    src, dst, tv = data.draw(trust_arrays(arrays["n_users"], weighted=True))
    d = Dataset.from_arrays(**arrays, trust_src=src, trust_dst=dst, trust_values=tv)
    assert_canonical(d.ratings, (arrays["n_users"], arrays["n_items"]))
    assert_canonical(d.trust, (arrays["n_users"],) * 2)
    dense = np.zeros((arrays["n_users"], arrays["n_items"]))
    dense[arrays["users"], arrays["items"]] = arrays["values"]
    np.testing.assert_array_equal(d.ratings.toarray(), dense.astype(np.float32))
    assert d.nnz == len(arrays["values"])
    t = np.zeros((arrays["n_users"],) * 2)
    t[src, dst] = tv
    np.testing.assert_array_equal(d.trust.toarray(), t.astype(np.float32))
    # arrays round trip in CSR order
    u, i, v = d.user_item_arrays()
    assert u.dtype == np.int32 and i.dtype == np.int32 and v.dtype == np.float32
    order = np.lexsort((arrays["items"], arrays["users"]))
    np.testing.assert_array_equal(u, arrays["users"][order])
    np.testing.assert_array_equal(i, arrays["items"][order])
    np.testing.assert_array_equal(v, arrays["values"][order].astype(np.float32))
    s, t_, w = d.trust_arrays()
    assert s.dtype == np.int32 and t_.dtype == np.int32 and w.dtype == np.float32
    assert len(s) == len(src)
    np.testing.assert_array_equal(d.trust.toarray()[s, t_], w)


def test_n_users_default_covers_trust_only_users():
    d = small(trust_src=[0, 5], trust_dst=[4, 0])
    assert d.n_users == 6 and d.n_items == 2
    assert d.ratings[5].nnz == 0 and d.trust[5, 0] == 1


def test_explicit_zero_ratings_are_kept():
    d = small(values=[0.0, 2.0, 0.0, 4.0])
    assert d.nnz == 4
    assert d.rating_scale == (0.0, 4.0)


def test_rating_scale_given():
    d = small(rating_scale=(0.5, 5))
    assert d.rating_scale == (0.5, 5.0)
    with pytest.raises(ValueError, match="rating_scale"):
        small(rating_scale=(5, 1))
    with pytest.raises(ValueError, match="rating_scale"):
        small(rating_scale=(1, np.nan))
    with pytest.raises(ValueError, match="rating_scale"):
        small(rating_scale=3)
    # a string is not a pair of numbers, even when its two characters are digits
    for bad in ("15", b"15", ("1", "5")):
        with pytest.raises(ValueError, match="rating_scale must be a pair"):
            small(rating_scale=bad)


def test_raw_ids_for_indices():
    d = small(user_ids=["a", "b", "c"], item_ids=[10, 20])
    assert d.user_index("c") == 2 and d.item_index(20) == 1
    with pytest.raises(ValueError, match="user_ids has 2 entries but n_users=3"):
        small(user_ids=["a", "b"], n_users=3)


def test_given_raw_ids_must_be_unique_and_hashable():
    # a repeated raw id made the id map ambiguous: user_index("a") silently answered the last of them
    with pytest.raises(ValueError, match=r"user_ids repeats the id 'a' \(positions 0 and 2\)"):
        small(user_ids=["a", "b", "a"])
    with pytest.raises(ValueError, match=r"item_ids repeats the id 20 \(positions 0 and 1\)"):
        small(item_ids=np.array([20, 20]))
    with pytest.raises(ValueError, match=r"item_ids repeats the id 1\.0 \(positions 0 and 1\)"):
        small(item_ids=[1.0, 1])  # equal as ids: the lookup tables would merge them
    with pytest.raises(ValueError, match=r"user_ids repeats the id 'x' \(positions 1 and 2\)"):
        Dataset.from_sparse(sp.csr_matrix(np.eye(3)), user_ids=np.array(["y", "x", "x"]))
    with pytest.raises(TypeError, match=r"user_ids\[0\] = \[1\] is not hashable"):
        small(user_ids=[[1], [2], [3]])
    with pytest.raises(TypeError, match=r"not hashable"):
        Dataset.from_raw([[1], [2]], ["x", "y"], [1, 2])
    assert small(user_ids=[3, "3", (3,)]).user_index("3") == 1


def test_missing_raw_ids_of_other_kinds_are_rejected():
    with pytest.raises(ValueError, match=r"users\[1\] is .*nan.*; ids must not be missing"):
        Dataset.from_raw(["a", np.float32("nan")], ["x", "y"], [1, 2])
    with pytest.raises(ValueError, match=r"items\[0\] is .*NaT.*; ids must not be missing"):
        Dataset.from_raw(["a", "b"], np.array(["NaT", "2020-01-01"], dtype="datetime64[D]"), [1, 2])
    pd = pytest.importorskip("pandas")
    with pytest.raises(ValueError, match=r"users\[1\] is <NA>; ids must not be missing"):
        Dataset.from_raw(pd.Series(["a", pd.NA], dtype="string"), ["x", "y"], [1, 2])
    with pytest.raises(ValueError, match=r"trust_dst\[0\] is <NA>; ids must not be missing"):
        Dataset.from_raw([1, 2], [1, 2], [1, 2], trust_src=[1], trust_dst=pd.Series([pd.NA], dtype="Int64"))


# ------------------------------------------------------------------------------------------------------
# validation
# ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw, exc, pattern",
    [
        (dict(values=[1.0, np.nan, 3.0, 4.0]), ValueError, r"values\[1\] is nan"),
        (dict(values=[1.0, 2.0, 3.0, np.inf]), ValueError, r"values\[3\] is inf"),
        (dict(values=[1.0, 2.0, -np.inf, 4.0]), ValueError, r"values\[2\] is -inf"),
        (dict(values=[1.0, 2.0, 1e39, 4.0]), ValueError, r"values\[2\] .*float32"),
        (dict(values=[1.0, "x", 3.0, 4.0]), TypeError, r"values\[1\] = 'x' is not a number"),
        (dict(values=[1.0, 2.0, 3.0]), ValueError, r"users has 4 entries but values has 3"),
        (dict(items=[0, 1, 1]), ValueError, r"users has 4 entries but items has 3"),
        (dict(users=[0, -1, 2, 2]), ValueError, r"users\[1\] = -1 is negative"),
        (dict(items=[0, 1, -3, 0]), IndexError, r"items\[2\] = -3 is negative"),
        (dict(users=[0, 1, 5, 2], n_users=3), ValueError, r"users\[2\] = 5 is out of range for n_users=3"),
        (dict(items=[0, 1, 1, 2], n_items=2), IndexError, r"items\[3\] = 2 is out of range for n_items=2"),
        (dict(users=[0, 1.5, 2, 2]), TypeError, r"users\[1\] = 1.5 is not an integer index"),
        (dict(users=np.array([0, 1, 2, 2.25])), TypeError, r"users\[3\] = 2.25 is not an integer index"),
        (dict(users=np.array([0, 1, np.nan, 2])), ValueError, r"users\[2\] is nan"),
        (dict(users=["a", "b", "c", "c"]), TypeError, r"users\[0\] = 'a' is a string.*from_raw"),
        (dict(items=[0, "b", 1, 0]), TypeError, r"items\[.\] .*(string|not an integer)"),
        (dict(users=[True, False, True, True]), TypeError, r"users is boolean"),
        (dict(users=np.zeros((2, 2), dtype=int)), ValueError, r"users must be 1-D"),
        (dict(users=3), TypeError, r"users must be a 1-D array-like"),
        (dict(users=[], items=[], values=[]), ValueError, r"no ratings"),
        (dict(duplicates="first"), ValueError, r"duplicates must be one of"),
        (dict(trust_src=[0, 1]), ValueError, r"both trust_src and trust_dst"),
        (dict(trust_src=[0, 1], trust_dst=[1]), ValueError, r"trust_src has 2 entries but trust_dst has 1"),
        (dict(trust_src=[0], trust_dst=[1], trust_values=[1, 2]), ValueError,
         r"trust_src has 1 entries but trust_values has 2"),
        (dict(trust_src=[0, 1], trust_dst=[1, 7], n_users=3), ValueError,
         r"trust_dst\[1\] = 7 is out of range for n_users=3"),
        (dict(trust_src=[0, -2], trust_dst=[1, 0]), ValueError, r"trust_src\[1\] = -2 is negative"),
        (dict(trust_src=[0, 1], trust_dst=[1, 0], trust_values=[1.0, np.nan]), ValueError,
         r"trust_values\[1\] is nan"),
        (dict(trust_values=[1.0]), ValueError, r"trust_values given without"),
        (dict(n_users=-1), ValueError, r"n_users must be >= 0"),
        (dict(n_items=2.5), TypeError, r"n_items must be an integer"),
        (dict(users=[0, 1, 2, 2**40]), ValueError, r"users\[3\] = 1099511627776 does not fit an int32"),
    ],
)
def test_validation(kw, exc, pattern):
    with pytest.raises(exc, match=pattern):
        small(**kw)


def test_float_and_object_indices_that_are_integral_are_accepted():
    d = small(users=np.array([0.0, 1.0, 2.0, 2.0]), items=np.array([0, 1, 1, 0], dtype=object))
    np.testing.assert_array_equal(d.ratings.toarray(), [[1, 0], [0, 2], [4, 3]])
    d = small(users=np.array([0, 1, 2, 2], dtype=np.uint8), values=np.array([1, 2, 3, 4], dtype=np.int16))
    assert d.ratings.dtype == np.float32 and d.nnz == 4


def test_duplicates_error_names_first_pair_and_positions():
    with pytest.raises(ValueError) as info:
        Dataset.from_arrays([0, 1, 2, 1, 0, 2], [0, 1, 2, 1, 0, 0], [1, 2, 3, 4, 5, 6])
    msg = str(info.value)
    assert "(1, 1)" in msg and "positions 1 and 3" in msg and "2 repeated rows" in msg


@SETTINGS
@given(rating_arrays(duplicates=True))
def test_duplicates_policies(arrays):
    with pytest.raises(ValueError, match="duplicate"):
        Dataset.from_arrays(**arrays)
    mean = Dataset.from_arrays(**arrays, duplicates="mean")
    last = Dataset.from_arrays(**arrays, duplicates="last")
    groups = {}
    for u, i, v in zip(arrays["users"], arrays["items"], arrays["values"]):
        groups.setdefault((u, i), []).append(v)
    assert mean.nnz == last.nnz == len(groups)
    for (u, i), vs in groups.items():
        assert mean.ratings[u, i] == pytest.approx(np.mean(vs), rel=1e-6)
        assert last.ratings[u, i] == np.float32(vs[-1])
    assert_canonical(mean.ratings, mean.ratings.shape)


def test_trust_self_loops_dropped_with_warning():
    with pytest.warns(UserWarning, match="dropped 2 self-loops"):
        d = small(trust_src=[0, 1, 2, 1], trust_dst=[0, 2, 2, 0])
    assert d.n_trust == 2 and d.trust.diagonal().sum() == 0


def test_trust_duplicates_keep_last_value_and_zero_edges_dropped():
    d = small(trust_src=[0, 1, 0], trust_dst=[1, 2, 1], trust_values=[0.5, 1.0, 0.25])
    assert d.n_trust == 2 and d.trust[0, 1] == np.float32(0.25)
    with pytest.warns(UserWarning, match="1 trust edge with value 0"):
        d = small(trust_src=[0, 1], trust_dst=[1, 2], trust_values=[0.0, 1.0])
    assert d.n_trust == 1 and d.trust[1, 2] == 1


def test_no_warning_without_self_loops():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        small(trust_src=[0, 1], trust_dst=[1, 2])


def test_inputs_not_modified_and_readonly_inputs_work():
    users = np.array([2, 0, 1, 2, 0]); items = np.array([1, 0, 1, 1, 1]); values = np.array([3.0, 1, 2, 5, 4])
    src = np.array([1, 0, 2, 2]); dst = np.array([1, 2, 0, 0]); tv = np.array([1.0, 2, 3, 4])
    arrays = [users, items, values, src, dst, tv]
    copies = [a.copy() for a in arrays]
    for a in arrays:
        a.flags.writeable = False
    with pytest.warns(UserWarning):
        d = Dataset.from_arrays(users, items, values, trust_src=src, trust_dst=dst, trust_values=tv,
                                duplicates="mean")
    for a, c in zip(arrays, copies):
        np.testing.assert_array_equal(a, c)
    assert d.ratings[2, 1] == 4.0 and d.trust[2, 0] == 4.0
    # the dataset's own arrays are independent of the inputs
    assert not np.shares_memory(d.ratings.data, values)


def test_strided_and_noncontiguous_inputs():
    table = np.array([[0, 0, 1.0], [1, 1, 2.0], [2, 1, 3.0], [2, 0, 4.0]])  # columns are strided views
    fortran = np.asfortranarray(np.arange(16).reshape(4, 4) % 3)
    d1 = Dataset.from_arrays(table[:, 0], table[:, 1], table[:, 2])
    d2 = Dataset.from_arrays(np.array([0, 9, 1, 9, 2, 9, 2, 9])[::2], np.array([0, 9, 1, 9, 1, 9, 0, 9])[::2],
                             np.array([1.0, 0, 2, 0, 3, 0, 4, 0])[::2])
    d3 = Dataset.from_arrays([0, 1, 2, 2], (0, 1, 1, 0), [1, 2, 3, 4])  # lists and tuples
    for d in (d1, d2, d3):
        np.testing.assert_array_equal(d.ratings.toarray(), [[1, 0], [0, 2], [4, 3]])
    d4 = Dataset.from_arrays(fortran[0], fortran[1], fortran[2] + 1.0, duplicates="last")
    assert d4.nnz == len({(a, b) for a, b in zip(fortran[0], fortran[1])})


def test_id_arrays_are_read_only():
    d = small()
    with pytest.raises(ValueError):
        d.user_ids[0] = 5


# ------------------------------------------------------------------------------------------------------
# raw ids
# ------------------------------------------------------------------------------------------------------


def test_from_raw_strings_and_order():
    d = Dataset.from_raw(["bob", "amy", "bob", "cat"], ["x", "y", "y", "x"], [1, 2, 3, 4],
                         trust_src=["amy", "zed", "dan"], trust_dst=["zed", "amy", "bob"])
    # rated users first (ascending), then users seen only in trust (ascending)
    assert d.user_ids.tolist() == ["amy", "bob", "cat", "dan", "zed"]
    assert d.item_ids.tolist() == ["x", "y"]
    assert d.user_index("bob") == 1 and isinstance(d.user_index("bob"), int)
    np.testing.assert_array_equal(d.user_index(["zed", "amy"]), [4, 0])
    assert d.user_index(np.array(["cat"])).dtype == np.int32
    assert d.ratings[d.user_index("bob"), d.item_index("y")] == 3
    assert d.trust[d.user_index("zed"), d.user_index("amy")] == 1
    assert d.ratings[3].nnz == 0 and d.ratings[4].nnz == 0
    with pytest.raises(KeyError, match="'eve'"):
        d.user_index("eve")
    with pytest.raises(KeyError, match="'q'"):
        d.item_index(["x", "q"])


def test_from_raw_integer_ids_keep_ascending_order():
    d = Dataset.from_raw([30, 10, 20, 10], [7, 5, 7, 9], [1, 2, 3, 4], trust_src=[40, 5], trust_dst=[10, 30])
    assert d.user_ids.tolist() == [10, 20, 30, 5, 40]
    assert d.item_ids.tolist() == [5, 7, 9]
    assert d.user_index(40) == 4 and d.user_index(np.int64(5)) == 3
    np.testing.assert_array_equal(d.user_index([30, 10]), [2, 0])
    with pytest.raises(KeyError, match="11"):
        d.user_index([10, 11])
    with pytest.raises(KeyError, match="11"):
        d.user_index(11)


def test_from_raw_mixed_types_use_first_appearance():
    d = Dataset.from_raw([3, "a", 3, (1, 2)], ["i", "j", "j", "i"], [1, 2, 3, 4])
    assert d.user_ids.tolist() == [3, "a", (1, 2)]
    assert d.user_index((1, 2)) == 2 and d.user_index("a") == 1


def test_from_raw_mixed_numeric_id_dtypes_keep_every_id():
    # ids of different numeric dtypes met in float64, where distinct large ids collapse into one
    hashed = np.array([2**63, 2**63 + 1], dtype=np.uint64)
    d = Dataset.from_raw(hashed, [0, 1], [1, 2], trust_src=np.array([5]), trust_dst=np.array([2**63 + 1]))
    assert d.n_users == 3 and d.user_ids.tolist() == [2**63, 2**63 + 1, 5]
    assert d.ratings[d.user_index(2**63 + 1), 1] == 2 and d.trust[2, d.user_index(2**63 + 1)] == 1
    big = np.array([2**53, 2**53 + 1])
    d = Dataset.from_raw(big, ["x", "y"], [1, 2], trust_src=np.array([0.5]), trust_dst=np.array([2.0**53]))
    assert d.n_users == 3 and d.user_ids.tolist() == [2**53, 2**53 + 1, 0.5]
    assert d.trust[2, 0] == 1 and d.user_index([2**53 + 1, 0.5]).tolist() == [1, 2]
    d = Dataset.from_raw([2**63 + 1, -1, 2**63], [0, 1, 2], [1, 2, 3])  # a list that numpy makes float64
    assert d.n_users == 3 and d.user_ids.tolist() == [-1, 2**63, 2**63 + 1]
    assert d.user_index([2**63 + 1, -1]).tolist() == [2, 0]
    # small ids of mixed dtypes still make one numeric array
    d = Dataset.from_raw(np.array([3, 1], dtype=np.uint64), [0, 1], [1, 2], trust_src=[1], trust_dst=[-2])
    assert d.user_ids.dtype.kind in "if" and d.user_ids.tolist() == [1, 3, -2]


def test_id_lookup_with_arrays_of_another_numeric_dtype():
    # searchsorted compared uint64 ids with int64 queries in float64: present ids beyond 2**53 were unknown
    hashed = np.array([2**62, 2**62 + 1, 2**62 + 2], dtype=np.uint64)
    d = Dataset.from_raw(hashed, [0, 1, 2], [1, 2, 3])
    assert d.user_index(np.array([2**62 + 2, 2**62], dtype=np.int64)).tolist() == [2, 0]
    assert d.user_index([2**62 + 1]).tolist() == [1]
    d = Dataset.from_raw(np.array([2**53, 2**53 + 1]), [0, 1], [1, 2])
    assert d.user_index(np.array([2**53 + 1], dtype=np.uint64)).tolist() == [1]
    with pytest.raises(KeyError, match=r"unknown user id 9007199254740994"):
        d.user_index(np.array([2**53 + 2], dtype=np.uint64))
    assert d.user_index(np.array([2.0**53])).tolist() == [0]
    assert d.user_index(np.array([], dtype=np.uint64)).tolist() == []


def test_from_raw_errors():
    with pytest.raises(ValueError, match=r"duplicate \(user, item\) pair \('bob', 'x'\) at positions 0 and 2"):
        Dataset.from_raw(["bob", "amy", "bob"], ["x", "y", "x"], [1, 2, 3])
    with pytest.raises(ValueError, match=r"users\[1\] is None"):
        Dataset.from_raw(["a", None], ["x", "y"], [1, 2])
    with pytest.raises(ValueError, match=r"items\[0\] is nan"):
        Dataset.from_raw(["a", "b"], [np.nan, 1.0], [1, 2])
    with pytest.raises(ValueError, match="no ratings"):
        Dataset.from_raw([], [], [])
    with pytest.raises(ValueError, match=r"values\[0\] is nan"):
        Dataset.from_raw(["a"], ["x"], [np.nan])
    with pytest.warns(UserWarning, match="1 self-loop"):
        d = Dataset.from_raw(["a"], ["x"], [1], trust_src=["a", "b"], trust_dst=["a", "a"])
    assert d.n_trust == 1 and d.n_users == 2


@SETTINGS
@given(st.lists(st.tuples(st.text(min_size=1, max_size=3), st.integers(-5, 5)), min_size=1, max_size=25))
def test_raw_id_round_trip(rows):
    users = [r[0] for r in rows]
    items = [r[1] for r in rows]
    d = Dataset.from_raw(users, items, np.arange(len(rows), dtype=float), duplicates="last")
    assert sorted(d.user_ids.tolist()) == sorted(set(users))
    assert d.user_ids[d.user_index(users)].tolist() == users
    assert d.item_ids[d.item_index(items)].tolist() == items
    assert [d.user_ids[d.user_index(u)] for u in users] == users
    for u, i in set(zip(users, items)):
        last = max(k for k, r in enumerate(rows) if r == (u, i))
        assert d.ratings[d.user_index(u), d.item_index(i)] == last


# ------------------------------------------------------------------------------------------------------
# sparse input, with_ratings
# ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "lil", "csr_array", "coo_array"])
def test_from_sparse_formats(fmt):
    dense = np.array([[1.0, 0, 2], [0, 0, 0], [0, 3, 0]])
    m = sp.csr_array(dense).tocoo() if fmt == "coo_array" else (
        sp.csr_array(dense) if fmt == "csr_array" else sp.csr_matrix(dense).asformat(fmt))
    t = sp.coo_matrix(([1.0, 1.0], ([0, 2], [2, 1])), shape=(3, 3))
    d = Dataset.from_sparse(m, trust=t, rating_scale=(1, 5))
    np.testing.assert_array_equal(d.ratings.toarray(), dense)
    assert_canonical(d.ratings, (3, 3))
    assert_canonical(d.trust, (3, 3))
    assert d.rating_scale == (1.0, 5.0) and d.n_trust == 2
    assert d.ratings[1].nnz == 0


def test_from_sparse_copies_keeps_zeros_and_does_not_modify_input():
    m = sp.csr_matrix((np.array([3.0, 0.0, 1.0]), np.array([2, 0, 1]), np.array([0, 2, 3])), shape=(2, 3))
    before = (m.data.copy(), m.indices.copy(), m.indptr.copy())
    d = Dataset.from_sparse(m)
    for a, b in zip(before, (m.data, m.indices, m.indptr)):
        np.testing.assert_array_equal(a, b)
    assert d.nnz == 3 and d.rating_scale == (0.0, 3.0)
    d.ratings.data[:] = 9
    assert m.data.max() == 3.0


def test_from_sparse_validation():
    r = sp.csr_matrix(np.array([[1.0, 0], [0, 2]]))
    bad = r.copy(); bad.data[1] = np.nan
    with pytest.raises(ValueError, match=r"ratings\[1, 1\] is nan"):
        Dataset.from_sparse(bad)
    with pytest.raises(TypeError, match="from_arrays"):
        Dataset.from_sparse(np.eye(2))
    with pytest.raises(ValueError, match="no ratings"):
        Dataset.from_sparse(sp.csr_matrix((2, 2)))
    with pytest.raises(ValueError, match="square"):
        Dataset.from_sparse(r, trust=sp.csr_matrix((2, 3)))
    with pytest.raises(ValueError, match="2 x 2"):
        Dataset.from_sparse(r, trust=sp.csr_matrix((3, 3)))
    t = sp.csr_matrix(np.array([[0, np.inf], [0, 0]]))
    with pytest.raises(ValueError, match=r"trust\[0, 1\] is inf"):
        Dataset.from_sparse(r, trust=t)
    with pytest.warns(UserWarning, match="1 self-loop"):
        d = Dataset.from_sparse(r, trust=sp.csr_matrix(np.array([[1.0, 1], [0, 0]])))
    assert d.n_trust == 1
    with pytest.raises(TypeError):
        Dataset.from_sparse(r, trust=np.eye(2))


def test_constructor_is_from_sparse():
    r = sp.csr_matrix(np.array([[1.0, 0], [0, 2]]))
    d = Dataset(r, trust=sp.csr_matrix(np.array([[0, 1.0], [0, 0]])))
    assert d.nnz == 2 and d.n_trust == 1


def test_with_ratings_keeps_index_space():
    d = Dataset.from_raw(["b", "a", "c"], ["x", "y", "x"], [1, 2, 3], trust_src=["a", "d"], trust_dst=["b", "a"],
                         rating_scale=(1, 5))
    sub = d.ratings.copy()
    sub.data[:] = 4
    new = d.with_ratings(sub[[0, 0, 1, 2, 3]].tocsr()[[0, 2, 3, 4]].tocoo())
    assert new.ratings.shape == d.ratings.shape
    assert new.user_ids is d.user_ids and new.item_ids is d.item_ids
    assert new.rating_scale == (1.0, 5.0)
    assert (new.trust != d.trust).nnz == 0 and new.trust is not d.trust
    assert_canonical(new.ratings, d.ratings.shape)
    empty = d.with_ratings(sp.csr_matrix(d.ratings.shape))
    assert empty.nnz == 0
    with pytest.raises(ValueError, match="shape"):
        d.with_ratings(sp.csr_matrix((2, 2)))


# ------------------------------------------------------------------------------------------------------
# strategies, pickling, repr
# ------------------------------------------------------------------------------------------------------


@SETTINGS
@given(datasets())
def test_strategy_datasets_are_valid_and_pickle(ds):
    assert_canonical(ds.ratings, (ds.n_users, ds.n_items))
    assert_canonical(ds.trust, (ds.n_users, ds.n_users))
    assert ds.nnz >= 1 and ds.trust.diagonal().sum() == 0
    back = pickle.loads(pickle.dumps(ds))
    assert (back.ratings != ds.ratings).nnz == 0 and (back.trust != ds.trust).nnz == 0
    np.testing.assert_array_equal(back.user_ids, ds.user_ids)
    np.testing.assert_array_equal(back.item_ids, ds.item_ids)
    assert back.rating_scale == ds.rating_scale
    assert back.user_index(ds.user_ids[-1]) == ds.n_users - 1


def test_strategy_covers_users_without_ratings():
    from hypothesis import find

    ds = find(datasets(), lambda d: np.any((np.diff(d.ratings.indptr) == 0)
                                           & (np.diff(d.trust.indptr) > 0)), settings=settings(deadline=None))
    assert ds.n_users > 1


def test_pickle_raw_ids_and_lookup():
    d = Dataset.from_raw(["b", "a"], ["x", "y"], [1, 2])
    d.user_index("a")  # builds the lookup cache
    back = pickle.loads(pickle.dumps(d))
    assert back.user_index("b") == 1 and back.item_ids.tolist() == ["x", "y"]
    assert not back.user_ids.flags.writeable


def test_repr():
    r = repr(small(trust_src=[0], trust_dst=[1]))
    assert r == "Dataset(n_users=3, n_items=2, ratings=4, trust_edges=1, rating_scale=(1, 4))"


def test_package_exports():
    assert sr.Dataset is Dataset


def test_binarized_keeps_index_space_and_drops_entries_at_or_below_threshold():
    ds = sr.Dataset.from_arrays([0, 0, 1, 2], [0, 1, 1, 0], [5.0, 0.5, 2.0, 1.0],
                                trust_src=[0], trust_dst=[1], n_users=3, n_items=2)
    b = ds.binarized(threshold=1.0)
    assert b.ratings.shape == ds.ratings.shape and b.rating_scale == (1.0, 1.0)
    assert b.ratings.nnz == 2 and set(b.ratings.data.tolist()) == {1.0}
    assert b.ratings[0, 0] == 1 and b.ratings[1, 1] == 1 and b.ratings[0, 1] == 0
    assert (b.trust != ds.trust).nnz == 0
    assert ds.ratings.nnz == 4, "the original is not modified"
    assert ds.binarized().ratings.nnz == 4


def test_binarized_threshold_must_be_a_number():
    ds = small()
    # NaN compared False with every value: the result was silently empty
    for bad in (np.nan, "3", None, [1.0]):
        with pytest.raises((ValueError, TypeError), match="threshold must be a number"):
            ds.binarized(threshold=bad)
    assert ds.binarized(threshold=np.float32(2.5)).nnz == 2
    assert ds.binarized(threshold=-np.inf).nnz == 4
