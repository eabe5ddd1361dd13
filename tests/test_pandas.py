"""pandas input (issue 16, trap 3): Dataset.from_pandas, DataFrames where a Dataset is taken, and the fast id
numbering behind both (``_factorize``: the same ids and indices as ``map_ids`` on the whole arrays)."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import socialrec as sr
from socialrec import _factorize, _ids, _sparse

pd = pytest.importorskip("pandas", reason="pandas is optional (pip install 'socialrec[pandas]')")


def _frames(n=400, seed=0):
    rng = np.random.default_rng(seed)
    ratings = pd.DataFrame({"user": rng.integers(0, 60, n) * 3 + 1000, "item": rng.integers(0, 40, n) * 7,
                            "rating": rng.integers(1, 6, n).astype(float)})
    ratings = ratings.drop_duplicates(["user", "item"], ignore_index=True)
    trust = pd.DataFrame({"truster": rng.integers(0, 70, 120) * 3 + 1000,
                          "trustee": rng.integers(0, 70, 120) * 3 + 1000,
                          "w": rng.uniform(0.5, 1.0, 120)})
    trust = trust[trust.truster != trust.trustee].drop_duplicates(["truster", "trustee"], keep="last")
    return ratings, trust


def _same(a, b):
    assert a.user_ids.tolist() == b.user_ids.tolist() and a.item_ids.tolist() == b.item_ids.tolist()
    assert (a.ratings != b.ratings).nnz == 0 and (a.trust != b.trust).nnz == 0
    assert a.rating_scale == b.rating_scale


def test_from_pandas_is_from_raw_of_the_columns():
    ratings, trust = _frames()
    ds = sr.Dataset.from_pandas(ratings, trust=trust, weight="w")
    _same(ds, sr.Dataset.from_raw(ratings.user.tolist(), ratings.item.tolist(), ratings.rating.tolist(),
                                  trust.truster.tolist(), trust.trustee.tolist(), trust.w.tolist()))
    assert ds.n_users > ratings.user.nunique()  # users seen only in the trust graph come last
    # string ids, pandas' string dtype, and categoricals (ids: the categories that occur)
    as_str = ratings.assign(user="u" + ratings.user.astype(str), item="i" + ratings.item.astype(str))
    t_str = trust.assign(truster="u" + trust.truster.astype(str), trustee="u" + trust.trustee.astype(str))
    want = sr.Dataset.from_raw(as_str.user.tolist(), as_str.item.tolist(), as_str.rating.tolist(),
                               t_str.truster.tolist(), t_str.trustee.tolist())
    _same(sr.Dataset.from_pandas(as_str, trust=t_str), want)
    _same(sr.Dataset.from_pandas(as_str.astype({"user": "string", "item": "string"}), trust=t_str), want)
    cats = as_str.assign(user=pd.Categorical(as_str.user, categories=[*sorted(set(as_str.user))[::-1], "never"]),
                         item=as_str.item.astype("category"))
    _same(sr.Dataset.from_pandas(cats, trust=t_str.astype("category")), want)


def test_from_pandas_column_names_implicit_data_and_errors():
    df = pd.DataFrame({"userID": [1, 1, 2], "movieID": [10, 11, 10], "genreID": [3, 17, 3], "stars": [4.0, 5.0, 2.0]})
    ds = sr.Dataset.from_pandas(df, user="userID", item="movieID", rating="stars")
    assert ds.rating_scale == (2.0, 5.0) and ds.item_ids.tolist() == [10, 11]
    implicit = sr.Dataset.from_pandas(df, user="userID", item="movieID", rating=None)
    assert implicit.ratings.data.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError) as info:
        sr.Dataset.from_pandas(df, user="userID", item="movieID")
    assert str(info.value) == ("the ratings DataFrame has no column 'rating' for the ratings (its columns: "
                               "'userID', 'movieID', 'genreID', 'stars'); name the column with rating=<column name> "
                               "(rating=None for implicit data)")
    with pytest.raises(ValueError, match=r"no column 'trustee' for the trustees .* name the column with "
                                         r"trustee=<column name>$"):
        sr.Dataset.from_pandas(df, trust=pd.DataFrame({"truster": [1], "to": [2]}), user="userID", item="movieID",
                               rating="stars")
    with pytest.raises(ValueError, match=r"^ratings\['userID'\] is missing at row 1 \(index 'b'\)"):
        sr.Dataset.from_pandas(df.assign(userID=[1, None, 2]).set_axis(list("abc")), user="userID",
                               item="movieID", rating="stars")
    with pytest.raises(ValueError, match=r"^ratings\['movieID'\] is missing at row 2"):
        sr.Dataset.from_pandas(df.astype({"movieID": "category"}).assign(movieID=pd.Categorical([10, 11, None])),
                               user="userID", item="movieID", rating="stars")
    with pytest.raises(ValueError, match=r"values\[0\] is nan"):
        sr.Dataset.from_pandas(df.assign(stars=[None, 5.0, 2.0]), user="userID", item="movieID", rating="stars")
    with pytest.raises(TypeError, match=r"ratings\['genreID'\] has dtype .*; expected numbers"):
        sr.Dataset.from_pandas(df.assign(genreID=["a", "b", "c"]), user="userID", item="movieID", rating="genreID")
    with pytest.raises(TypeError, match="ratings must be a pandas DataFrame, got dict$"):
        sr.Dataset.from_pandas(df.to_dict())
    with pytest.raises(ValueError, match=r"duplicate \(user, item\) pair \(1, 10\)"):
        sr.Dataset.from_pandas(pd.concat([df, df.iloc[:1]]), user="userID", item="movieID", rating="stars")


def test_a_missing_pandas_is_named_with_its_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pandas" else real(name, *a))
    with pytest.raises(TypeError, match=r"pandas is not installed: pip install pandas \(or pip install "
                                        r"\"socialrec\[pandas\]\"\)"):
        sr.Dataset.from_pandas([[1, 2, 3.0]])


def test_fit_takes_dataframes_with_the_default_column_names():
    ratings, trust = _frames()
    trust = trust.drop(columns="w")
    model = sr.TrustSVD(factors=3, epochs=2, seed=0).fit(ratings, trust=trust)
    reference = sr.TrustSVD(factors=3, epochs=2, seed=0).fit(sr.Dataset.from_pandas(ratings, trust=trust))
    assert np.array_equal(model.parameters_["user_factors"], reference.parameters_["user_factors"])
    assert model.user_ids_.tolist() == reference.user_ids_.tolist()
    with pytest.raises(ValueError, match=r"has no column 'user' for the user ids \(its columns: 'userID', "
                                         r"'item', 'rating'\).* needs the columns 'user', 'item', 'rating' .*"
                                         r"sr\.Dataset\.from_pandas\(df, trust=\.\.\., user=\.\.\."):
        sr.BiasedMF(epochs=1).fit(ratings.rename(columns={"user": "userID"}))
    with pytest.raises(TypeError, match="with a ratings DataFrame, trust must be a DataFrame of raw ids"):
        sr.TrustSVD(epochs=1).fit(ratings, trust=sr.Dataset.from_pandas(ratings).trust)


def test_from_raw_on_series_is_from_raw_on_lists():
    ratings, trust = _frames()
    _same(sr.Dataset.from_raw(ratings.user, ratings.item, ratings.rating, trust.truster, trust.trustee),
          sr.Dataset.from_raw(ratings.user.tolist(), ratings.item.tolist(), ratings.rating.tolist(),
                              trust.truster.tolist(), trust.trustee.tolist()))


@pytest.mark.parametrize("make", [
    lambda rng: [rng.integers(-5, 50, 300), rng.integers(40, 90, 80)],                 # dense integer range
    lambda rng: [rng.integers(0, 2**62, 300), rng.integers(0, 2**62, 30)],             # wide: hashed / unique
    lambda rng: [rng.integers(-128, 127, 300).astype(np.int8), np.array([127, -128], np.int8)],
    lambda rng: [np.array([2**63, 2**63 + 1, 5], np.uint64), np.array([2**63 + 1, 7], np.uint64)],
    lambda rng: [np.array([2**63, 2**63 + 1], np.uint64), np.array([5, -3])],           # meet as objects
    lambda rng: [rng.choice(np.array(["b", "a", "c\x00", "c"], dtype=object), 50), np.array(["z", "a"])],
    lambda rng: [rng.integers(0, 9, 40).astype(float), rng.integers(5, 12, 9)],          # floats: map_ids
    lambda rng: [np.array([3, "3", 1.5], dtype=object), np.array(["x", 3], dtype=object)],
])
def test_factorized_numbering_is_map_ids(make):
    rng = np.random.default_rng(0)
    a, b = make(rng)
    groups = [[a], [b, a[::-1].copy()]]
    ids, idx = _factorize.map_ids_factorized(groups)
    want_ids, want_idx = _ids.map_ids(groups)
    assert ids.dtype == want_ids.dtype and ids.tolist() == want_ids.tolist()
    assert all(np.array_equal(x, y) for g, h in zip(idx, want_idx) for x, y in zip(g, h))


def test_stable_order_is_a_stable_argsort():
    rng = np.random.default_rng(1)
    for key in (rng.integers(0, 50, 1000), rng.integers(0, 2**62, 1000), np.zeros(0, np.int64)):
        order, skey = _sparse.stable_order(key)
        assert np.array_equal(order, np.argsort(key, kind="stable")) and np.array_equal(skey, np.sort(key))


def _arrow_str(values):
    pytest.importorskip("pyarrow", reason="Arrow-backed string columns need pyarrow")
    return pd.Series(values, dtype=pd.StringDtype("pyarrow"))


@pytest.mark.parametrize("n", [300, 250_000])  # the second one is numbered in threads (_frames._THREADED_IDS)
def test_arrow_string_columns_number_as_object_columns(n):
    from socialrec import _frames

    rng = np.random.default_rng(1)
    users = np.char.add("u", rng.integers(0, n // 5 + 2, n).astype(str))
    items = np.char.add("i", rng.integers(0, n // 7 + 2, n).astype(str))
    frame = pd.DataFrame({"user": pd.Series(users, dtype=object), "item": pd.Series(items, dtype=object),
                          "rating": 1.0}).drop_duplicates(["user", "item"], ignore_index=True)
    arrow = frame.assign(user=_arrow_str(frame.user), item=_arrow_str(frame.item))
    assert _frames._arrow_strings(arrow.user) is not None and _frames._arrow_strings(frame.user) is None
    _same(sr.Dataset.from_pandas(arrow), sr.Dataset.from_pandas(frame))
    # several Arrow chunks (pd.concat keeps each part's chunk): the same numbering
    halves = pd.concat([arrow.iloc[: len(arrow) // 2], arrow.iloc[len(arrow) // 2:]], ignore_index=True)
    assert _frames._arrow_strings(halves.user).num_chunks == 2
    _same(sr.Dataset.from_pandas(halves), sr.Dataset.from_pandas(frame))


def test_a_missing_arrow_string_id_names_its_row():
    ratings = pd.DataFrame({"user": _arrow_str(["a", "b", None, "c"]), "item": _arrow_str(["x", "y", "z", "x"]),
                            "rating": [1.0, 2.0, 3.0, 4.0]}).set_axis([10, 11, 12, 13])
    with pytest.raises(ValueError, match=r"row 2 \(index 12\)"):
        sr.Dataset.from_pandas(ratings)
    trust = pd.DataFrame({"truster": _arrow_str(["a", "b"]), "trustee": _arrow_str(["b", None])})
    with pytest.raises(ValueError, match=r"trust\['trustee'\] is missing at row 1"):
        sr.Dataset.from_pandas(ratings.iloc[[0, 1, 3]], trust=trust)


def _awkward_strings(n, seed):
    """Ids that stress the C++ numbering: empty, NUL bytes, non-ASCII, lengths across the 8-byte word edge."""
    rng = np.random.default_rng(seed)
    pool = ["", "\x00", "\x00\x00", "a\x00b", "é", "日本", "x" * 7, "x" * 8, "x" * 9, "x" * 16, "y" * 17]
    pool += [f"id{k}" for k in range(n // 3)]
    return [pool[k] for k in rng.integers(0, len(pool), n)]


@pytest.mark.parametrize("large", [False, True])
@pytest.mark.parametrize("n", [1, 50, 40_000])  # 40,000 grows the hash table several times
def test_number_strings_is_factorize_in_order_of_first_appearance(large, n):
    pa = pytest.importorskip("pyarrow", reason="Arrow-backed string columns need pyarrow")
    from socialrec import _core, _frames

    values = _awkward_strings(n, seed=n)
    kind = pa.large_string() if large else pa.string()
    # three chunks, the middle one a slice of a longer array (its offsets do not start at the buffer's start)
    a, b = n // 3, 2 * n // 3
    chunks = [pa.array(values[:a], kind), pa.array(["pad"] * 5 + values[a:b], kind).slice(5), pa.array(values[b:], kind)]
    codes, first = _core.number_strings([_frames._string_buffers(c) for c in chunks if len(c)])
    want_codes, want_uniques = pd.factorize(pd.Series(values, dtype=object))
    assert codes.tolist() == want_codes.tolist()
    assert [values[k] for k in first] == list(want_uniques)


def test_number_strings_refuses_damaged_buffers():
    from socialrec import _core

    data = np.frombuffer(b"abcdef", np.uint8)
    with pytest.raises(ValueError, match="past the data buffer"):
        _core.number_strings([(np.array([0, 3, 7], np.int32), data)])
    with pytest.raises(ValueError, match="chunk 1: offsets decrease at 2"):
        _core.number_strings([(np.array([0, 1], np.int32), data), (np.array([0, 4, 2], np.int64), data)])
    with pytest.raises(ValueError, match="negative"):
        _core.number_strings([(np.array([-1, 2], np.int64), data)])
    with pytest.raises(TypeError, match="int32 .* or int64"):
        _core.number_strings([(np.array([0, 2], np.int16), data)])
    with pytest.raises(ValueError, match="n \\+ 1 entries"):
        _core.number_strings([(np.array([], np.int32), data)])
    assert [x.tolist() for x in _core.number_strings([])] == [[], []]
