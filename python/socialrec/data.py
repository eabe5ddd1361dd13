"""The :class:`Dataset` container: a user-item rating matrix plus a directed trust graph.

A :class:`Dataset` holds

* ``ratings`` -- a canonical ``scipy.sparse.csr_matrix`` (``n_users x n_items``, float32, sorted indices,
  no duplicate entries; explicitly stored zeros are kept, they are real observations),
* ``trust`` -- a canonical ``csr_matrix`` (``n_users x n_users``, float32); ``trust[u, v] != 0`` means
  user ``u`` trusts / follows user ``v``. It has no self-loops and no explicitly stored zeros,
* ``user_ids`` / ``item_ids`` -- read-only NumPy arrays mapping an index to the raw id,
* ``rating_scale`` -- ``(min, max)`` as Python floats.

Index conventions (DESIGN.md section 3): user and item indices are contiguous, 0-based and fit in int32;
counts and offsets of ratings or edges are int64 wherever this module produces them. The ``indices`` and
``indptr`` arrays of the sparse matrices carry the index dtype scipy chooses (int32 unless a matrix holds
2^31 entries or more); cast ``indptr`` to int64 before handing it to a kernel that expects 64-bit offsets.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from . import _frames
from ._factorize import map_ids_factorized, map_ids_of_codes
from ._ids import IdIndex, check_unique_ids, raw_array
from ._sparse import (build_trust, canonical_copy, clean_sparse_trust, csr, dedupe, rows_of, shared_csr,
                      shared_trust)
from ._validate import (check_count, check_finite_sparse, check_lengths, check_range, check_scale, index_array, plain,
                        value_array)

__all__ = ["Dataset"]

_DUPLICATE_POLICIES = ("error", "mean", "last")


# --------------------------------------------------------------------------------------------------------
# helpers of the builders
# --------------------------------------------------------------------------------------------------------
def _scale_of(values, rating_scale):
    if rating_scale is not None:
        return check_scale(rating_scale)
    if len(values) == 0:
        return (0.0, 0.0)
    return (float(np.min(values)), float(np.max(values)))


def _readonly(a):
    a = np.asarray(a)
    a.flags.writeable = False
    return a


def _check_duplicates_arg(duplicates):
    if duplicates not in _DUPLICATE_POLICIES:
        raise ValueError(f"duplicates must be one of {_DUPLICATE_POLICIES}, got {duplicates!r}")


# --------------------------------------------------------------------------------------------------------
# Dataset
# --------------------------------------------------------------------------------------------------------


class Dataset:
    """Ratings of users on items, plus a directed trust graph between the same users.

    Build one with :meth:`from_arrays` (0-based integer indices), :meth:`from_raw` (raw ids of any
    hashable type), :meth:`from_sparse` (scipy sparse matrices), or a loader in
    :mod:`socialrec.datasets`. Calling ``Dataset(ratings, trust=None, rating_scale=None)`` is the same as
    :meth:`from_sparse`.

    Attributes
    ----------
    ratings : scipy.sparse.csr_matrix
        ``n_users x n_items``, float32, canonical (sorted column indices, no duplicate entries).
        Explicitly stored zeros are observations and are kept.
    trust : scipy.sparse.csr_matrix
        ``n_users x n_users``, float32, canonical; ``trust[u, v] != 0`` iff user ``u`` trusts / follows
        user ``v``. No self-loops, no stored zeros. An empty matrix when there is no trust data.
    user_ids, item_ids : numpy.ndarray
        Read-only; ``user_ids[u]`` is the raw id of user index ``u``. For datasets built from indices
        they equal ``arange(n_users)`` / ``arange(n_items)`` (int64).
    rating_scale : tuple of float
        ``(min, max)`` of the ratings, as given or as observed in the data.

    Notes
    -----
    Users that appear only in the trust graph are real users with no ratings (empty rows of
    ``ratings``). The sparse matrices use scipy's index dtype (int32 unless a matrix holds 2^31 entries
    or more). Treat all attributes as read-only: derive new datasets with :meth:`with_ratings`.
    A dataset pickles as its plain attributes.
    """

    def __init__(self, ratings, trust=None, rating_scale=None):
        other = type(self).from_sparse(ratings, trust=trust, rating_scale=rating_scale)
        self._assign(other.ratings, other.trust, other.user_ids, other.item_ids, other.rating_scale)

    # -- construction --------------------------------------------------------------------------------

    def _assign(self, ratings, trust, user_ids, item_ids, rating_scale):
        self.ratings = ratings
        self.trust = trust
        self.user_ids = _readonly(user_ids)
        self.item_ids = _readonly(item_ids)
        self.rating_scale = (float(rating_scale[0]), float(rating_scale[1]))
        self._user_index = IdIndex(self.user_ids, "user")
        self._item_index = IdIndex(self.item_ids, "item")

    @classmethod
    def _new(cls, ratings, trust, user_ids, item_ids, rating_scale):
        """Assemble a dataset from already validated, canonical parts (no copies, no checks)."""
        self = cls.__new__(cls)
        self._assign(ratings, trust, user_ids, item_ids, rating_scale)
        return self

    @classmethod
    def from_arrays(
        cls,
        users,
        items,
        values,
        trust_src=None,
        trust_dst=None,
        trust_values=None,
        n_users=None,
        n_items=None,
        duplicates="error",
        rating_scale=None,
        user_ids=None,
        item_ids=None,
    ):
        """Build a dataset from parallel arrays of 0-based integer indices.

        ``users``, ``items``, ``trust_src`` and ``trust_dst`` are always *indices*: integer arrays (any
        integer dtype), lists of ints, or float arrays whose values are whole numbers. Raw ids (strings,
        sparse integer ids you want renumbered) go through :meth:`from_raw` instead.

        Parameters
        ----------
        users, items : array-like of int, shape (n,)
            User and item index of each rating.
        values : array-like of float, shape (n,)
            The ratings. Must be finite and fit float32.
        trust_src, trust_dst : array-like of int, shape (m,), optional
            Directed trust edges ``trust_src[e] -> trust_dst[e]`` (user indices). Give both or neither.
        trust_values : array-like of float, shape (m,), optional
            Edge weights; default 1.0. Edges with weight 0 are dropped with a warning.
        n_users, n_items : int, optional
            Size of the index spaces. Default: one more than the largest index seen (for users, over
            ratings and trust). Users beyond the largest rating index are users without ratings.
        duplicates : {"error", "mean", "last"}
            What to do with repeated (user, item) pairs: raise naming the first repeated pair and its
            positions; average them; or keep the last one in input order.
        rating_scale : (float, float), optional
            ``(min, max)``; default is the range of ``values``. Values outside it are allowed.
        user_ids, item_ids : array-like, optional
            Raw ids for the indices (length ``n_users`` / ``n_items``, hashable, no id twice); default
            ``arange``.

        Returns
        -------
        Dataset

        Raises
        ------
        TypeError
            Non-integer indices (strings, booleans, fractional floats) or non-numeric values.
        ValueError
            NaN/inf values, negative or out-of-range indices (also an ``IndexError``), arrays of
            different lengths, no ratings, a bad ``duplicates`` value, a bad ``rating_scale``, a raw id
            given twice or missing (None, NaN).

        Notes
        -----
        Self-loops in the trust graph are dropped with a ``UserWarning``; of repeated trust edges the last
        one is kept. The inputs are never modified.
        """
        return cls._from_index_arrays(
            users, items, values, trust_src, trust_dst, trust_values, n_users, n_items, duplicates,
            rating_scale, user_ids, item_ids, describe=lambda u, i: (int(u), int(i)),
        )

    @classmethod
    def _from_index_arrays(
        cls, users, items, values, trust_src, trust_dst, trust_values, n_users, n_items, duplicates,
        rating_scale, user_ids, item_ids, describe, where=None,
    ):
        _check_duplicates_arg(duplicates)
        u = index_array(users, None, "users")
        i = index_array(items, None, "items")
        v = value_array(values, "values")
        check_lengths(users=u, items=i, values=v)
        if len(v) == 0:
            raise ValueError("no ratings: users, items and values are empty")
        if (trust_src is None) != (trust_dst is None):
            raise ValueError("give both trust_src and trust_dst, or neither")
        if trust_src is None:
            if trust_values is not None:
                raise ValueError("trust_values given without trust_src / trust_dst")
            ts = td = np.empty(0, dtype=np.int64)
            tv = np.empty(0, dtype=np.float64)
        else:
            ts = index_array(trust_src, None, "trust_src")
            td = index_array(trust_dst, None, "trust_dst")
            check_lengths(trust_src=ts, trust_dst=td)
            if trust_values is None:
                tv = np.ones(len(ts), dtype=np.float64)
            else:
                tv = value_array(trust_values, "trust_values")
                check_lengths(trust_src=ts, trust_values=tv)
        if n_users is None:
            n_users = int(max(u.max(), ts.max() if len(ts) else -1, td.max() if len(td) else -1)) + 1
            if user_ids is not None:
                n_users = max(n_users, len(user_ids))
        else:
            n_users = check_count(n_users, "n_users")
            check_range(u, n_users, "users", "n_users")
            check_range(ts, n_users, "trust_src", "n_users")
            check_range(td, n_users, "trust_dst", "n_users")
        if n_items is None:
            n_items = int(i.max()) + 1
            if item_ids is not None:
                n_items = max(n_items, len(item_ids))
        else:
            n_items = check_count(n_items, "n_items")
            check_range(i, n_items, "items", "n_items")
        user_ids = cls._check_ids(user_ids, n_users, "user_ids", "n_users")
        item_ids = cls._check_ids(item_ids, n_items, "item_ids", "n_items")

        scale = _scale_of(v, rating_scale)
        ru, ri, rv = dedupe(u, i, v, n_items, duplicates, describe, where)
        ratings = csr(ru, ri, rv, (n_users, n_items))
        trust = build_trust(ts, td, tv, n_users)
        return cls._new(ratings, trust, user_ids, item_ids, scale)

    @staticmethod
    def _check_ids(ids, n, name, count_name):
        if ids is None:
            return np.arange(n, dtype=np.int64)
        ids = raw_array(ids, name).copy()
        if len(ids) != n:
            raise ValueError(f"{name} has {len(ids)} entries but {count_name}={n}")
        check_unique_ids(ids, name)
        return ids

    @classmethod
    def from_raw(
        cls,
        users,
        items,
        values,
        trust_src=None,
        trust_dst=None,
        trust_values=None,
        duplicates="error",
        rating_scale=None,
    ):
        """Build a dataset from raw ids of any hashable type (ints, strings, ...).

        Users seen in the ratings get indices ``0 .. n_rated-1``, users seen only in the trust graph the
        following ones (they are real users without ratings). Within each of these two groups, and for
        items, indices follow the ascending order of the raw ids when the ids are of one sortable kind
        (all numbers or all strings), and the order of first appearance otherwise. So for integer ids,
        ascending index is ascending id among the rated users.

        Parameters
        ----------
        users, items : array-like, shape (n,)
            Raw user and item id of each rating. ``None`` and NaN are not valid ids.
        values : array-like of float, shape (n,)
            The ratings; finite, fit float32.
        trust_src, trust_dst : array-like, shape (m,), optional
            Raw user ids of directed trust edges (trustor, trustee).
        trust_values : array-like of float, shape (m,), optional
            Edge weights, default 1.0.
        duplicates : {"error", "mean", "last"}
            Policy for repeated (user, item) pairs; see :meth:`from_arrays`. The error names raw ids.
        rating_scale : (float, float), optional
            Default: the range of ``values``.

        Returns
        -------
        Dataset
            With ``user_ids`` / ``item_ids`` holding the raw ids; see :meth:`user_index`.
        """
        return cls._from_raw(users, items, values, trust_src, trust_dst, trust_values, duplicates, rating_scale)

    @classmethod
    def _from_raw(cls, users, items, values, trust_src, trust_dst, trust_values, duplicates, rating_scale,
                  where=None):
        """:meth:`from_raw`; ``where(i, j)`` adds the origin of rating rows ``i`` and ``j`` (a file's
        lines) to the ``duplicates="error"`` message."""
        _check_duplicates_arg(duplicates)
        users, items, values, trust_src, trust_dst, trust_values = (
            _frames.series_values(x) for x in (users, items, values, trust_src, trust_dst, trust_values))
        ru = raw_array(users, "users")
        ri = raw_array(items, "items")
        v = value_array(values, "values")
        check_lengths(users=ru, items=ri, values=v)
        if len(v) == 0:
            raise ValueError("no ratings: users, items and values are empty")
        if (trust_src is None) != (trust_dst is None):
            raise ValueError("give both trust_src and trust_dst, or neither")
        groups = [[ru]]
        tv = None
        if trust_src is not None:
            ts = raw_array(trust_src, "trust_src")
            td = raw_array(trust_dst, "trust_dst")
            check_lengths(trust_src=ts, trust_dst=td)
            if trust_values is not None:
                tv = value_array(trust_values, "trust_values")
                check_lengths(trust_src=ts, trust_values=tv)
            groups.append([ts, td])
        elif trust_values is not None:
            raise ValueError("trust_values given without trust_src / trust_dst")
        user_ids, uidx = map_ids_factorized(groups)
        item_ids, (iidx,) = map_ids_factorized([[ri]])
        return cls._from_numbered(user_ids, uidx, item_ids, iidx[0], v, tv, duplicates, rating_scale, where)

    @classmethod
    def _from_numbered(cls, user_ids, uidx, item_ids, i, v, tv, duplicates, rating_scale, where=None):
        """The last step of :meth:`from_raw` and :meth:`from_pandas`: ids numbered (``uidx`` as ``map_ids``
        returns it for the groups ``[[users], [trust_src, trust_dst]]``, the second one optional)."""
        u = uidx[0][0]
        ts_i = td_i = None
        if len(uidx) > 1:
            ts_i, td_i = uidx[1]
        return cls._from_index_arrays(
            u, i, v, ts_i, td_i, tv, len(user_ids), len(item_ids), duplicates, rating_scale,
            user_ids, item_ids, describe=lambda a, b: (plain(user_ids[a]), plain(item_ids[b])), where=where,
        )

    @classmethod
    def from_pandas(cls, ratings, trust=None, user="user", item="item", rating="rating", truster="truster",
                    trustee="trustee", weight=None, duplicates="error", rating_scale=None):
        """Build a dataset from pandas DataFrames of ratings and (optionally) trust edges, by column name.

        The result is the dataset :meth:`from_raw` builds from the same columns: raw ids of any dtype
        (integers, strings, categoricals -- whose ids are the categories that occur --, pandas' nullable and
        string dtypes), numbered in the same order. Ids are numbered by hashing or a presence table, never a
        Python loop: 3 million ratings take about 0.3 s with integer ids and 0.6 s with string ids on 2 cores
        (``bench/pandas_input.py``; string columns of pandas' Arrow-backed ``str`` dtype are numbered in C++).

        Parameters
        ----------
        ratings : pandas.DataFrame
            One row per rating.
        trust : pandas.DataFrame, optional
            One row per directed edge ``truster -> trustee`` (raw user ids, the same as in ``ratings``).
        user, item : str
            Column names of the user and item ids in ``ratings``.
        rating : str or None
            Column name of the ratings. ``None`` means implicit feedback: every row is an observation of
            value 1.0. A ``ratings`` frame without this column is an error (no column is guessed).
        truster, trustee : str
            Column names of the edge ends in ``trust``.
        weight : str, optional
            Column of edge weights in ``trust``; default: every edge weighs 1.0.
        duplicates : {"error", "mean", "last"}
            Policy for repeated (user, item) pairs; see :meth:`from_arrays`.
        rating_scale : (float, float), optional
            Default: the range of the ratings.

        Returns
        -------
        Dataset

        Raises
        ------
        ValueError
            A column that is not in the frame (the message lists the frame's columns), a missing id (naming
            the row), and everything :meth:`from_raw` refuses.
        TypeError
            Something that is not a DataFrame, a non-numeric rating or weight column.
        """
        for name, value in (("user", user), ("item", item), ("truster", truster), ("trustee", trustee)):
            if value is None:
                raise ValueError(f"{name} must name a column, got None")
        what = "ratings"
        u_col = _frames.column(ratings, user, "user ids", what, "user")
        i_col = _frames.column(ratings, item, "item ids", what, "item")
        if rating is None:
            v = np.ones(len(ratings), dtype=np.float64)
        else:
            hint = " (rating=None for implicit data)"
            try:
                r_col = _frames.column(ratings, rating, "ratings", what, "rating")
            except ValueError as e:
                raise ValueError(f"{e}{hint}") from None
            v = _frames.value_column(r_col, f"ratings[{rating!r}]")
        id_cols = [(u_col, f"ratings[{user!r}]"), (i_col, f"ratings[{item!r}]")]
        tv = None
        if trust is not None:
            what = "trust"
            s_col = _frames.column(trust, truster, "trusters", what, "truster")
            d_col = _frames.column(trust, trustee, "trustees", what, "trustee")
            id_cols += [(s_col, f"trust[{truster!r}]"), (d_col, f"trust[{trustee!r}]")]
            if weight is not None:
                tv = _frames.value_column(_frames.column(trust, weight, "edge weights", what, "weight"),
                                          f"trust[{weight!r}]")
        elif weight is not None:
            raise ValueError("weight given without a trust DataFrame")
        _check_duplicates_arg(duplicates)
        coded = _frames.id_columns(id_cols)  # user and item columns numbered in parallel where that pays
        groups = [[coded[0]]] + ([coded[2:4]] if trust is not None else [])
        user_ids, uidx = map_ids_of_codes(groups)
        item_ids, (iidx,) = map_ids_of_codes([[coded[1]]])
        if len(v) == 0:
            raise ValueError("no ratings: the ratings DataFrame has no rows")
        return cls._from_numbered(user_ids, uidx, item_ids, iidx[0], v, tv, duplicates, rating_scale)

    @classmethod
    def from_sparse(cls, ratings, trust=None, rating_scale=None, user_ids=None, item_ids=None):
        """Build a dataset from scipy sparse matrices (any format, ``spmatrix`` or ``sparray``).

        Parameters
        ----------
        ratings : scipy sparse matrix or array, shape (n_users, n_items)
            Stored entries are the ratings (explicit zeros included). Duplicate entries of a COO input
            are summed, as scipy defines.
        trust : scipy sparse matrix or array, shape (n_users, n_users), optional
            ``trust[u, v] != 0`` iff ``u`` trusts ``v``. Diagonal entries (self-loops) and stored zeros
            are dropped with a ``UserWarning``.
        rating_scale : (float, float), optional
            Default: the range of the stored ratings.
        user_ids, item_ids : array-like, optional
            Raw ids of the rows / columns (hashable, no id twice); default ``arange``.

        Returns
        -------
        Dataset
            Holds copies; the inputs are never modified. One exception, which never copies what cannot change:
            a ``csr_matrix`` of float32 values and int32 indices whose value and index arrays are read-only
            and already canonical (a trust matrix: also without self-loops and stored zeros) is used as it
            is. Memory-mapped ``.npy`` files are such arrays, so a large data set is not loaded twice (nor
            held in memory: the pages are the file's)::

                for name in ("data", "indices", "indptr"):      # once: ds.ratings is float32 / int32
                    np.save(f"{folder}/{name}.npy", getattr(ds.ratings, name))
                arrays = [np.load(f"{folder}/{name}.npy", mmap_mode="r") for name in ("data", "indices", "indptr")]
                ds = sr.Dataset.from_sparse(sp.csr_matrix(tuple(arrays), shape=shape))   # no copy of the ratings

            (Use ``csr_matrix``: scipy may give a ``csr_array`` built from these arrays int64 column indices,
            which is a copy.) The files must not change while the dataset is in use.
        """
        if not sp.issparse(ratings):
            raise TypeError(
                f"ratings must be a scipy sparse matrix or array, got {type(ratings).__name__} "
                "(use Dataset.from_arrays for (user, item, value) arrays)"
            )
        if ratings.ndim != 2:
            raise ValueError(f"ratings must be 2-D, got shape {ratings.shape}")
        if ratings.dtype.kind not in "biuf":
            raise TypeError(f"ratings has dtype {ratings.dtype}; expected real numbers")
        r = shared_csr(ratings)  # read-only canonical float32 input (memory-mapped .npy files): used, not copied
        if r is None:
            r = canonical_copy(ratings, dtype=np.float64)
        if r.nnz == 0:
            raise ValueError("no ratings: the ratings matrix stores no entries")
        check_finite_sparse(r, "ratings")
        n_users, n_items = r.shape
        check_count(n_users, "n_users")
        check_count(n_items, "n_items")
        scale = _scale_of(r.data, rating_scale)
        if r.dtype != np.float32:
            r = sp.csr_matrix(r, dtype=np.float32)
            r.has_canonical_format = True
        if trust is None:
            t = sp.csr_matrix((n_users, n_users), dtype=np.float32)
        else:
            t = shared_trust(trust, n_users)
            t = clean_sparse_trust(trust, n_users) if t is None else t
        user_ids = cls._check_ids(user_ids, n_users, "user_ids", "n_users")
        item_ids = cls._check_ids(item_ids, n_items, "item_ids", "n_items")
        return cls._new(r, t, user_ids, item_ids, scale)

    def with_ratings(self, ratings):
        """A new dataset with other ratings in the same index space.

        Keeps ``user_ids``, ``item_ids``, ``rating_scale`` and (a copy of) ``trust``. Used by the
        splitters in :mod:`socialrec.split`.

        Parameters
        ----------
        ratings : scipy sparse matrix or array, shape (n_users, n_items)
            Copied and made canonical. May be empty (a split can leave no test ratings).

        Returns
        -------
        Dataset
        """
        if not sp.issparse(ratings):
            raise TypeError(f"ratings must be a scipy sparse matrix or array, got {type(ratings).__name__}")
        if ratings.shape != self.ratings.shape:
            raise ValueError(f"ratings has shape {ratings.shape}, expected {self.ratings.shape}")
        r = canonical_copy(ratings, dtype=np.float64)
        check_finite_sparse(r, "ratings")
        r = sp.csr_matrix(r, dtype=np.float32)
        r.has_canonical_format = True
        return self._new(r, self.trust.copy(), self.user_ids, self.item_ids, self.rating_scale)

    def binarized(self, threshold=0.0):
        """Implicit feedback from counts or ratings: entries above ``threshold`` become 1, the rest are
        dropped. Same index space, id maps and trust graph; ``rating_scale`` becomes (1, 1).

        BPR and SBPR ignore the values; ALS and SocialALS weigh counts by their default log confidence
        (``confidence="log"``), while their ``confidence="linear"`` ``1 + alpha * r`` on raw counts in the
        hundreds of thousands swamps everything else: binarise for that rule.
        """
        if isinstance(threshold, (bool, np.bool_)) or not isinstance(threshold, numbers.Real):
            raise TypeError(f"threshold must be a number, got {threshold!r}")
        if np.isnan(threshold):
            raise ValueError("threshold must be a number, got nan")
        r = self.ratings.tocsr(copy=True)
        keep = r.data > threshold
        r.data = np.ones(int(keep.sum()), dtype=np.float32) if keep.all() else r.data
        if not keep.all():
            r.data[:] = np.where(keep, 1.0, 0.0)
            r.eliminate_zeros()
        return self._new(sp.csr_matrix(r, dtype=np.float32), self.trust.copy(), self.user_ids, self.item_ids,
                         (1.0, 1.0))

    # -- views ---------------------------------------------------------------------------------------

    @property
    def n_users(self):
        """Number of users (rows of ``ratings``; includes users with trust but no ratings)."""
        return self.ratings.shape[0]

    @property
    def n_items(self):
        """Number of items (columns of ``ratings``)."""
        return self.ratings.shape[1]

    @property
    def nnz(self):
        """Number of stored ratings."""
        return int(self.ratings.nnz)

    @property
    def n_trust(self):
        """Number of directed trust edges."""
        return int(self.trust.nnz)

    def user_item_arrays(self):
        """The ratings as parallel arrays in CSR order (by user, then item).

        Returns
        -------
        users : numpy.ndarray of int32
        items : numpy.ndarray of int32
        values : numpy.ndarray of float32
            Fresh arrays; writing into them does not touch the dataset.
        """
        r = self.ratings
        return rows_of(r.indptr), r.indices.astype(np.int32), r.data.astype(np.float32)

    def trust_arrays(self):
        """The trust edges as parallel arrays in CSR order (by truster, then trustee).

        Returns
        -------
        src : numpy.ndarray of int32
        dst : numpy.ndarray of int32
        values : numpy.ndarray of float32
        """
        t = self.trust
        return rows_of(t.indptr), t.indices.astype(np.int32), t.data.astype(np.float32)

    def user_index(self, raw):
        """Index of a raw user id (scalar in, int out) or of each of an array of raw ids (int32 array).

        Raises
        ------
        KeyError
            Naming the first unknown id.
        """
        return self._user_index(raw)

    def item_index(self, raw):
        """Index of a raw item id (scalar in, int out) or of each of an array of raw ids (int32 array).

        Raises
        ------
        KeyError
            Naming the first unknown id.
        """
        return self._item_index(raw)

    # -- protocol ------------------------------------------------------------------------------------

    def __getstate__(self):
        return {
            "ratings": self.ratings,
            "trust": self.trust,
            "user_ids": np.array(self.user_ids),
            "item_ids": np.array(self.item_ids),
            "rating_scale": self.rating_scale,
        }

    def __setstate__(self, state):
        self._assign(state["ratings"], state["trust"], state["user_ids"], state["item_ids"],
                     state["rating_scale"])

    def __repr__(self):
        lo, hi = self.rating_scale
        return (
            f"Dataset(n_users={self.n_users}, n_items={self.n_items}, ratings={self.nnz}, "
            f"trust_edges={self.n_trust}, rating_scale=({lo:g}, {hi:g}))"
        )


def as_dataset(data, trust=None):
    """A ``Dataset`` from a Dataset, scipy.sparse matrices, or pandas DataFrames (what ``fit``, ``loss`` and
    the metrics take).

    A ratings DataFrame goes through :meth:`Dataset.from_pandas` with its default column names (``user``,
    ``item``, ``rating``; ``trust``: a DataFrame with ``truster`` and ``trustee``); other names need
    ``Dataset.from_pandas`` itself, which the error says.
    """
    if isinstance(data, Dataset):
        if trust is not None:
            raise ValueError("pass trust only with a matrix; a Dataset carries its own trust graph")
        return data
    if _frames.is_frame(data):
        if trust is not None and not _frames.is_frame(trust):
            raise TypeError(f"with a ratings DataFrame, trust must be a DataFrame of raw ids too, got "
                            f"{type(trust).__name__}")
        try:
            return Dataset.from_pandas(data, trust=trust)
        except ValueError as e:
            if "has no column" not in str(e):
                raise
            raise ValueError(f"{e}. A DataFrame passed as data needs the columns 'user', 'item', 'rating' "
                             "(and a trust DataFrame 'truster', 'trustee'); for other names build the data with "
                             "sr.Dataset.from_pandas(df, trust=..., user=..., item=..., rating=...)") from None
    if sp.issparse(data) or isinstance(data, np.ndarray):
        return Dataset.from_sparse(data, trust=trust)
    raise TypeError(f"expected a socialrec.Dataset, a scipy.sparse matrix or a pandas DataFrame, "
                    f"got {type(data).__name__}")
