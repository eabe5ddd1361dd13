"""Hypothesis strategies for socialrec tests.

Import them from any test module (pytest puts ``tests/`` on ``sys.path``)::

    from hypothesis import given, settings
    from strategies import datasets, rating_arrays

    @settings(deadline=None, max_examples=25)
    @given(datasets(max_users=12, max_items=10))
    def test_something(ds): ...

Strategies
----------
rating_values
    Ratings on a 0.5 grid in [0.5, 5.0] (the FilmTrust / Epinions kind of scale).
rating_arrays
    Keyword arguments for :meth:`socialrec.Dataset.from_arrays`: ``users``, ``items``, ``values``,
    ``n_users``, ``n_items``; duplicate-free or with repeated (user, item) pairs.
trust_arrays
    ``(src, dst, values)`` edge arrays over a given number of users; optionally with self-loops and
    repeated edges.
datasets
    Small :class:`socialrec.Dataset` objects with trust graphs, including users without ratings
    (empty rows), users with trust edges but no ratings, isolated users and items nobody rated.
model_file_edits
    Lists of edits of a saved model file (dtypes, shapes, values, CSR offsets, members, metadata, zip
    headers and bytes), applied by ``model_files.apply_edits``.

Keep example counts small (``max_examples`` of 10-50): the suite runs on two cores.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import socialrec as sr

__all__ = ["rating_values", "rating_arrays", "trust_arrays", "datasets", "model_file_edits"]


def rating_values(low=0.5, high=5.0, step=0.5):
    """Ratings ``low + k * step`` in ``[low, high]`` (floats)."""
    n = int(round((high - low) / step))
    return st.integers(0, n).map(lambda k: low + k * step)


@st.composite
def rating_arrays(
    draw,
    min_users=1,
    max_users=8,
    min_items=1,
    max_items=8,
    min_ratings=1,
    max_ratings=30,
    duplicates=False,
    values=None,
):
    """Inputs for :meth:`Dataset.from_arrays` as a dict of NumPy arrays and sizes.

    Parameters
    ----------
    min_users, max_users, min_items, max_items : int
        Bounds of ``n_users`` / ``n_items``. Not every user or item need have a rating.
    min_ratings, max_ratings : int
        Bounds of the number of rows (before any duplicate rows are added).
    duplicates : bool or None
        ``False``: all (user, item) pairs distinct. ``True``: at least one pair repeated (with its own
        value). ``None``: either.
    values : hypothesis strategy, optional
        Strategy for one rating; default :func:`rating_values`.

    Returns
    -------
    dict
        ``users`` (int64), ``items`` (int64), ``values`` (float64), ``n_users``, ``n_items``.
    """
    values = rating_values() if values is None else values
    n_users = draw(st.integers(min_users, max_users))
    n_items = draw(st.integers(min_items, max_items))
    max_ratings = min(max_ratings, n_users * n_items)
    min_ratings = min(min_ratings, max_ratings)
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n_users - 1), st.integers(0, n_items - 1)),
            min_size=min_ratings,
            max_size=max_ratings,
            unique=True,
        )
    )
    if duplicates is None:
        duplicates = draw(st.booleans())
    if duplicates and pairs:
        repeated = draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=max(1, len(pairs))))
        pairs = pairs + repeated
        order = draw(st.permutations(range(len(pairs))))
        pairs = [pairs[k] for k in order]
    vals = draw(st.lists(values, min_size=len(pairs), max_size=len(pairs)))
    users = np.array([p[0] for p in pairs], dtype=np.int64)
    items = np.array([p[1] for p in pairs], dtype=np.int64)
    return dict(users=users, items=items, values=np.array(vals, dtype=np.float64), n_users=n_users,
                n_items=n_items)


@st.composite
def trust_arrays(draw, n_users, max_edges=30, self_loops=False, duplicates=False, weighted=False):
    """Directed trust edges among ``n_users`` users.

    Parameters
    ----------
    n_users : int
    max_edges : int
        At most this many distinct edges (plus repeats when ``duplicates``).
    self_loops : bool
        Allow ``u -> u`` edges (``Dataset`` drops them with a warning).
    duplicates : bool
        Repeat some edges (with their own values).
    weighted : bool
        Values in (0, 1] instead of all 1.0.

    Returns
    -------
    tuple of numpy.ndarray
        ``(src, dst, values)``: int64, int64, float64.
    """
    if n_users < 1:
        e = np.empty(0, dtype=np.int64)
        return e, e, np.empty(0)
    edge = st.tuples(st.integers(0, n_users - 1), st.integers(0, n_users - 1))
    if not self_loops:
        edge = edge.filter(lambda e: e[0] != e[1]) if n_users > 1 else st.nothing()
    edges = draw(st.lists(edge, max_size=max_edges, unique=True)) if n_users > 1 or self_loops else []
    if duplicates and edges:
        edges = edges + draw(st.lists(st.sampled_from(edges), min_size=1, max_size=len(edges)))
    if weighted:
        vals = draw(st.lists(st.integers(1, 10).map(lambda k: k / 10), min_size=len(edges),
                             max_size=len(edges)))
    else:
        vals = [1.0] * len(edges)
    src = np.array([e[0] for e in edges], dtype=np.int64)
    dst = np.array([e[1] for e in edges], dtype=np.int64)
    return src, dst, np.array(vals, dtype=np.float64)


@st.composite
def datasets(
    draw,
    min_users=1,
    max_users=10,
    min_items=1,
    max_items=10,
    min_ratings=1,
    max_ratings=40,
    max_edges=30,
    extra_users=3,
    trust=True,
    weighted_trust=False,
    values=None,
):
    """Small random :class:`socialrec.Dataset` objects with a trust graph.

    The rating part comes from :func:`rating_arrays` (no duplicates); then up to ``extra_users`` users
    without any rating are appended, and trust edges are drawn among *all* users, so the results include
    empty rating rows, users with trust but no ratings, users with neither (isolated), and items nobody
    rated. ``rating_scale`` is the data's range.

    Parameters
    ----------
    min_users, max_users : int
        Bounds of the users that may hold ratings.
    min_items, max_items : int
        Bounds of ``n_items``.
    min_ratings, max_ratings : int
        Bounds of the number of ratings (at least 1 is always drawn).
    max_edges : int
        Most trust edges.
    extra_users : int
        Most users appended without ratings.
    trust : bool
        Draw a trust graph (else the trust matrix is empty).
    weighted_trust : bool
        Trust values in (0, 1] rather than 1.
    values : hypothesis strategy, optional
        Strategy for one rating; default :func:`rating_values`.

    Returns
    -------
    socialrec.Dataset
    """
    arrays = draw(rating_arrays(min_users=min_users, max_users=max_users, min_items=min_items,
                                max_items=max_items, min_ratings=max(1, min_ratings),
                                max_ratings=max(1, max_ratings), values=values))
    n_users = arrays["n_users"] + draw(st.integers(0, extra_users))
    kw = {}
    if trust:
        src, dst, tv = draw(trust_arrays(n_users, max_edges=max_edges, weighted=weighted_trust))
        kw = dict(trust_src=src, trust_dst=dst, trust_values=tv)
    return sr.Dataset.from_arrays(arrays["users"], arrays["items"], arrays["values"], n_users=n_users,
                                  n_items=arrays["n_items"], **kw)


# dtypes a member of a model file may be rewritten to: other widths and signs, big-endian, non-numbers
FILE_DTYPES = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", ">i8", "float16",
               "float32", "float64", ">f4", ">f8", "bool", "complex64", "<U4", "object", "V8"]
# metadata entries an edit may replace (section, key); "" is the top level
META_FIELDS = [("fit", "n_users_"), ("fit", "n_items_"), ("params", "factors"), ("params", "dtype"),
               ("params", "biased"), ("", "class"), ("fit", "rating_scale_"), ("", "history"), ("ids", "user_ids_"),
               ("fit", "seed_"), ("fit", "best_epoch_"), ("", "format_version"), ("", "params"), ("", "fit")]


def _odd_numbers():
    """Numbers an attacker would write: boundaries of the integer types, NaN, infinities, tiny and huge."""
    return st.one_of(st.integers(-2**63, 2**64 - 1), st.floats(width=64),
                     st.sampled_from([0, -1, 1, 2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, 1e30, -1e30, 1e-45]))


def _json_values():
    return st.one_of(st.none(), st.booleans(), st.integers(-3, 64), st.integers(-2**63, 2**64), st.floats(),
                     st.text(max_size=4), st.lists(st.integers(-3, 50), max_size=3),
                     st.sampled_from(["float32", "float64", "float16", "BiasedMF", "SVDpp", "RSTE", "TrustSVD",
                                      "BPR", "ALS"]))


def model_file_edits(max_edits=3):
    """Lists of 1..``max_edits`` edits of a model file, each a tuple naming its kind first (see
    ``model_files.apply_edits``); member numbers are taken modulo the file's member count."""
    member = st.integers(0, 63)
    edit = st.one_of(
        st.tuples(st.just("dtype"), member, st.sampled_from(FILE_DTYPES)),
        st.tuples(st.just("resize"), member, st.integers(0, 90)),
        st.tuples(st.just("reshape"), member, st.sampled_from(["flat", "column", "scalar", "transpose", "empty"])),
        st.tuples(st.just("values"), member, st.integers(0, 2**20), _odd_numbers()),
        st.tuples(st.just("offsets"), st.sampled_from(["seen/indptr", "fit/trust_indptr_"]),
                  st.sampled_from(["reverse", "shuffle", "wrap", "zero", "spike"]), st.integers(0, 2**20),
                  _odd_numbers()),
        st.tuples(st.just("drop"), member),
        st.tuples(st.just("add"), st.sampled_from(["param/extra_factors", "param/user_bias", "param/trustee_factors",
                                                   "fit/trust_weight_", "ids/other", "meta2", "ids/item_ids_"]),
                  st.integers(0, 50)),
        st.tuples(st.just("meta"), st.sampled_from(META_FIELDS), _json_values()),
        st.tuples(st.just("zip"), st.sampled_from(["flip", "central_size", "local_size", "compressed_size",
                                                   "deflate", "duplicate"]),
                  st.integers(0, 2**20), st.integers(0, 2**32 - 1)),
    )
    return st.lists(edit, min_size=1, max_size=max_edits)
