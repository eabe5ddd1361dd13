"""Fuzzing (issue 7): the text loader and Dataset.from_arrays on random and near-valid input never crash and
raise only their documented exceptions; whatever they accept is a valid dataset.

Example counts: SOCIALREC_FUZZ_EXAMPLES (default 30 per test, the CI setting). A longer local run:
``SOCIALREC_FUZZ_EXAMPLES=3000 python -m pytest -q tests/test_fuzz.py``.
"""
from __future__ import annotations

import math
import os
import warnings

import numpy as np
import scipy.sparse as sp
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import socialrec as sr

EXAMPLES = int(os.environ.get("SOCIALREC_FUZZ_EXAMPLES", "30"))
FUZZ = settings(deadline=None, max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow,
                                                                            HealthCheck.function_scoped_fixture,
                                                                            HealthCheck.data_too_large])
FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_dataset(ds):
    """Invariants of every Dataset the library hands out."""
    assert isinstance(ds, sr.Dataset)
    r, t = ds.ratings, ds.trust
    assert sp.isspmatrix_csr(r) and sp.isspmatrix_csr(t)
    assert r.dtype == np.float32 and t.dtype == np.float32
    assert r.nnz >= 1 and np.all(np.isfinite(r.data)) and np.all(np.isfinite(t.data))
    assert t.shape == (ds.n_users, ds.n_users) and not t.diagonal().any()
    assert len(ds.user_ids) == ds.n_users and len(ds.item_ids) == ds.n_items
    lo, hi = ds.rating_scale
    assert math.isfinite(lo) and math.isfinite(hi) and lo <= hi
    r.check_format(full_check=True)
    t.check_format(full_check=True)
    # canonical: no duplicate (row, column) entries
    for m in (r, t):
        rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
        keys = rows.astype(np.int64) * max(m.shape[1], 1) + m.indices
        assert len(np.unique(keys)) == m.nnz


def load(path, **kw):
    """load_files with its documented failure modes allowed (ValueError naming the file)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # self-loops / zero-valued trust edges are dropped with a warning
        try:
            ds = sr.datasets.load_files(path, **kw)
        except ValueError as e:
            assert str(e), "an error without a message"
            return None
    check_dataset(ds)
    return ds


# ----------------------------------------------------------------------------------------------------------
# load_files
# ----------------------------------------------------------------------------------------------------------
@FUZZ
@given(content=st.binary(max_size=400), sep=st.sampled_from([None, ",", "\t", ";", " "]))
def test_load_files_on_random_bytes(tmp_path_factory, content, sep):
    path = tmp_path_factory.mktemp("fz") / "ratings.txt"
    path.write_bytes(content)
    load(path, sep=sep)


TOKENS = st.one_of(
    st.integers(-5, 50).map(str),
    st.integers(-2**70, 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "NaN", "-nan", "inf", "-Infinity", "1e400", "-1e39", "3.5e38", "1e-400", "0x10",
                     "1_000", "", " ", '"', '""', '"1,2"', "'", "\\", "#", "\x00", "\u00e9", "\u65e5\u672c",
                     "\U0001f600", "\ufeff", "user", "item", "rating", "\u00a0", "\u2028", "0", "-0", "+1",
                     "007", "1.0", "1.", ".5", "4.5"]),
    st.text(max_size=6),
)


@st.composite
def near_valid_files(draw):
    """Mostly well-formed rating files with random damage: tokens, column counts, separators, line ends."""
    sep = draw(st.sampled_from([" ", ",", "\t", ";", "  "]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    n_cols = draw(st.integers(2, 4))
    lines = []
    if draw(st.booleans()):
        lines.append(sep.join(["user", "item", "rating", "time"][:n_cols]))
    for _ in range(draw(st.integers(0, 12))):
        cols = n_cols + draw(st.sampled_from([0, 0, 0, 0, -1, 1, -2]))
        good = [str(draw(st.integers(0, 6))), str(draw(st.integers(0, 6))),
                str(draw(st.sampled_from([0.5, 1, 2, 3.5, 5])))] + ["0"] * 2
        row = [draw(TOKENS) if draw(st.integers(0, 9)) == 0 else good[c] for c in range(max(cols, 0))]
        lines.append(sep.join(row))
        if draw(st.integers(0, 9)) == 0:
            lines.append(draw(st.sampled_from(["", "   ", "\t"])))
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    prefix = "\ufeff" if draw(st.integers(0, 9)) == 0 else ""
    encoded = (prefix + text).encode("utf-8", errors="surrogatepass")
    if draw(st.integers(0, 9)) == 0 and encoded:
        pos = draw(st.integers(0, len(encoded) - 1))
        encoded = encoded[:pos] + draw(st.binary(min_size=1, max_size=3)) + encoded[pos + 1:]
    return encoded, (None if sep.strip() == "" else sep)


@FUZZ
@given(file=near_valid_files(), use_sep=st.booleans(),
       columns=st.sampled_from([None, (0, 1), (0, 1, 2), (1, 0, 2), (0, 2, 1), (0, 1, None), (0, 1, 3)]),
       header=st.sampled_from([None, True, False]),
       duplicates=st.sampled_from(["error", "mean", "last"]))
def test_load_files_on_near_valid_files(tmp_path_factory, file, use_sep, columns, header, duplicates):
    content, sep = file
    path = tmp_path_factory.mktemp("fz") / "ratings.txt"
    path.write_bytes(content)
    ds = load(path, sep=sep if use_sep else None, columns=columns, header=header, duplicates=duplicates)
    if ds is not None:
        lines = max(1, content.count(b"\n") + content.count(b"\r"))
        assert ds.nnz <= lines + 1


@FUZZ
@given(ratings=near_valid_files(), trust=near_valid_files())
def test_load_files_with_a_fuzzed_trust_file(tmp_path_factory, ratings, trust):
    folder = tmp_path_factory.mktemp("fz")
    (folder / "r.txt").write_bytes(ratings[0])
    (folder / "t.txt").write_bytes(trust[0])
    load(folder / "r.txt", trust=folder / "t.txt")


# ----------------------------------------------------------------------------------------------------------
# Dataset.from_arrays
# ----------------------------------------------------------------------------------------------------------
DTYPES = st.one_of(hnp.integer_dtypes(), hnp.unsigned_integer_dtypes(), hnp.floating_dtypes(),
                   hnp.complex_number_dtypes(), hnp.boolean_dtypes(), hnp.unicode_string_dtypes(max_len=3),
                   hnp.byte_string_dtypes(max_len=3), hnp.datetime64_dtypes(), hnp.timedelta64_dtypes(),
                   st.just(np.dtype(object)))


def arrays(n):
    """A random array: mostly length n and 1-D, sometimes another length, 0-D or 2-D; any dtype."""
    shape = st.one_of(st.just((n,)), st.just((n,)), st.just((n,)), hnp.array_shapes(min_dims=0, max_dims=2,
                                                                                     max_side=5))
    return st.one_of(
        hnp.arrays(DTYPES, shape),
        hnp.arrays(np.int64, (n,), elements=st.integers(-2, 8)),
        hnp.arrays(np.float64, (n,), elements=st.sampled_from([0.0, 1.0, 2.0, 3.5, -1.0, np.nan, np.inf, 1e39])),
        st.lists(st.one_of(st.integers(-2, 8), st.floats(), st.none(), st.text(max_size=2), st.booleans()),
                 min_size=n, max_size=n),
    )


@st.composite
def from_arrays_inputs(draw):
    n = draw(st.integers(0, 8))
    m = draw(st.integers(0, 5))
    kw = dict(users=draw(arrays(n)), items=draw(arrays(n)), values=draw(arrays(n)))
    if draw(st.booleans()):
        kw.update(trust_src=draw(arrays(m)), trust_dst=draw(arrays(m)))
        if draw(st.booleans()):
            kw["trust_values"] = draw(arrays(m))
    for name in ("n_users", "n_items"):
        if draw(st.booleans()):
            kw[name] = draw(st.one_of(st.integers(-2, 12), st.floats(0, 12), st.none(), st.just(2**40),
                                      st.booleans()))
    if draw(st.integers(0, 4)) == 0:
        kw["duplicates"] = draw(st.sampled_from(["error", "mean", "last", "first", None]))
    if draw(st.integers(0, 4)) == 0:
        kw["rating_scale"] = draw(st.sampled_from([(1, 5), (5, 1), (0, np.inf), None, "ab", (1, 2, 3)]))
    return kw


def _copy(x):
    return np.array(x, copy=True) if isinstance(x, np.ndarray) else x


@FUZZ
@given(kw=from_arrays_inputs())
# found by this test: an empty string array made the error message itself fail (IndexError on a[0])
@example(kw=dict(users=np.array([], np.int8), items=np.array([], "<U1"), values=np.array([], np.int8)))
@example(kw=dict(users=np.array([], np.int64), items=np.array([], np.int8), values=np.array([], "<U1")))
def test_from_arrays_on_random_arrays(kw):
    before = {k: _copy(v) for k, v in kw.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = sr.Dataset.from_arrays(**kw)
        except (TypeError, ValueError) as e:  # IndexError from here is also a ValueError
            assert str(e)
            ds = None
    for k, v in kw.items():  # inputs are never modified (bytes compared: NaN and NaT are not equal to themselves)
        if isinstance(v, np.ndarray):
            assert v.dtype == before[k].dtype and v.shape == before[k].shape
            if v.dtype == object:
                assert [id(x) for x in v.ravel()] == [id(x) for x in before[k].ravel()]
            else:
                assert v.tobytes() == before[k].tobytes()
    if ds is not None:
        check_dataset(ds)
        assert ds.nnz <= len(np.atleast_1d(kw["values"]))


@FUZZ
@given(kw=from_arrays_inputs())
# found by this test: finite epoch losses, then NaN predictions (the last epoch's updates blew up)
@example(kw=dict(users=np.array([0, 0, 0]), items=np.array([5, 0, 3]),
                 values=np.array([0, -7640656, -7640656], np.int32), rating_scale=(1, 5)))
def test_a_dataset_from_random_arrays_trains_or_is_refused(kw):
    """Whatever from_arrays accepts, a model trains on and predicts from (finite results)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = sr.Dataset.from_arrays(**kw)
        except (TypeError, ValueError):
            return
    model = sr.BiasedMF(factors=2, epochs=2, num_threads=1)
    try:
        model.fit(ds)
    except sr.DivergenceError:  # documented: ratings of any size are valid data, they may blow SGD up
        assert all(np.all(np.isfinite(v)) for v in model.parameters_.values())
    users = np.arange(ds.n_users)
    assert np.all(np.isfinite(model.predict(users, users % ds.n_items)))
    ids, _ = model.recommend(users, n=3)
    assert ids.shape == (ds.n_users, 3) and np.all(ids < ds.n_items)
