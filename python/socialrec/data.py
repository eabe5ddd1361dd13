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
import warnings

import numpy as np
import scipy.sparse as sp

__all__ = ["Dataset"]

_DUPLICATE_POLICIES = ("error", "mean", "last")
_INT32_MAX = np.iinfo(np.int32).max
_FLOAT32_MAX = float(np.finfo(np.float32).max)


class _IndexRangeError(IndexError, ValueError):
    """An index outside its allowed range (both an ``IndexError`` and a ``ValueError``)."""


class _NotAnIndexError(TypeError, ValueError):
    """A value that is not an integer index (both a ``TypeError`` and a ``ValueError``)."""


# --------------------------------------------------------------------------------------------------------
# input conversion and validation helpers
# --------------------------------------------------------------------------------------------------------


def _one_d(x, name):
    """``x`` as a 1-D NumPy array (never a view that we later write into)."""
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be a 1-D array-like, got a single {type(x).__name__}")
    a = np.asarray(x)
    if a.ndim == 0:
        raise TypeError(f"{name} must be a 1-D array-like, got a scalar {a.item()!r}")
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    return a


def _first(mask):
    """Position of the first True in a boolean array."""
    return int(np.argmax(mask))


def _as_index_array(x, name):
    """Validate 0-based integer indices and return them as a new int64 array.

    Accepts integer arrays, float arrays whose values are integral, lists and object arrays of Python
    integers. Strings, booleans and fractional numbers raise a ``TypeError`` naming the first offending
    position; NaN/inf raise a ``ValueError``; negative indices and indices beyond int32 raise a
    ``ValueError`` that is also an ``IndexError``.
    """
    a = _one_d(x, name)
    if len(a) == 0:  # an empty array of any dtype is an empty index list
        return np.empty(0, dtype=np.int64)
    kind = a.dtype.kind
    hint = " (use Dataset.from_raw for raw ids)"
    if kind == "b":
        raise _NotAnIndexError(f"{name} is boolean; expected 0-based integer indices")
    if kind in "US":
        raise _NotAnIndexError(f"{name}[0] = {_plain(a[0])!r} is a string; expected 0-based integer indices{hint}")
    if kind == "O":
        for pos, v in enumerate(a):
            ok = isinstance(v, (numbers.Integral, float, np.floating)) and not isinstance(v, (bool, np.bool_))
            if not ok:
                raise _NotAnIndexError(f"{name}[{pos}] = {v!r} is not an integer index{hint}")
        a = np.array([float(v) if isinstance(v, (float, np.floating)) else int(v) for v in a])
        if a.dtype == object:  # Python ints beyond int64
            raise _IndexRangeError(f"{name} holds integers that do not fit an int32 index")
        kind = a.dtype.kind
    if kind not in "iuf":
        raise _NotAnIndexError(f"{name} has dtype {a.dtype}; expected 0-based integer indices")
    if kind == "f":
        bad = ~np.isfinite(a)
        if bad.any():
            pos = _first(bad)
            raise ValueError(f"{name}[{pos}] is {a[pos]}")
        frac = a != np.floor(a)
        if frac.any():
            pos = _first(frac)
            raise _NotAnIndexError(f"{name}[{pos}] = {_plain(a[pos])!r} is not an integer index")
    if len(a):
        neg = a < 0
        if neg.any():
            pos = _first(neg)
            raise _IndexRangeError(f"{name}[{pos}] = {a[pos]} is negative")
        big = a > _INT32_MAX
        if big.any():
            pos = _first(big)
            raise _IndexRangeError(f"{name}[{pos}] = {a[pos]} does not fit an int32 index")
    return a.astype(np.int64)  # always a copy


def _parses_as_float(v):
    try:
        float(v)
    except ValueError:
        return False
    return True


def _as_value_array(x, name):
    """Validate finite numeric values and return them as a new float64 array."""
    a = _one_d(x, name)
    if len(a) == 0:
        return np.empty(0, dtype=np.float64)
    kind = a.dtype.kind
    if kind in "US":
        bad = [pos for pos, v in enumerate(a[:1000]) if not _parses_as_float(v)]
        pos = bad[0] if bad else 0
        raise TypeError(f"{name}[{pos}] = {_plain(a[pos])!r} is not a number ({name} holds strings)")
    if kind == "c":
        raise TypeError(f"{name} is complex; expected real numbers")
    if kind == "O":
        for pos, v in enumerate(a):
            if isinstance(v, (str, bytes)) or not isinstance(v, numbers.Real):
                raise TypeError(f"{name}[{pos}] = {v!r} is not a number")
    elif kind not in "biuf":
        raise TypeError(f"{name} has dtype {a.dtype}; expected real numbers")
    out = a.astype(np.float64)
    bad = ~np.isfinite(out)
    if bad.any():
        pos = _first(bad)
        raise ValueError(f"{name}[{pos}] is {out[pos]}")
    big = np.abs(out) > _FLOAT32_MAX
    if big.any():
        pos = _first(big)
        raise ValueError(f"{name}[{pos}] = {_plain(out[pos])!r} does not fit float32")
    return out


def _check_count(n, name):
    """Validate ``n_users`` / ``n_items``: a non-negative int that fits int32 indices."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {n!r}")
    n = int(n)
    if n < 0:
        raise ValueError(f"{name} must be >= 0, got {n}")
    if n > _INT32_MAX + 1:
        raise ValueError(f"{name}={n} is too large: indices must fit int32")
    return n


def _check_range(idx, n, name, count_name):
    """Raise if any index is >= n."""
    if len(idx):
        over = idx >= n
        if over.any():
            pos = _first(over)
            raise _IndexRangeError(f"{name}[{pos}] = {idx[pos]} is out of range for {count_name}={n}")


def _check_lengths(**arrays):
    names = list(arrays)
    first = names[0]
    for other in names[1:]:
        if len(arrays[other]) != len(arrays[first]):
            raise ValueError(
                f"{first} has {len(arrays[first])} entries but {other} has {len(arrays[other])}"
            )


def _check_scale(rating_scale):
    """Validate a user-given rating scale and return it as a tuple of two Python floats."""
    try:
        if isinstance(rating_scale, (str, bytes)):  # "15" would unpack into 1.0 and 5.0
            raise TypeError
        lo, hi = rating_scale
        if isinstance(lo, (str, bytes)) or isinstance(hi, (str, bytes)):
            raise TypeError
        lo, hi = float(lo), float(hi)
    except (TypeError, ValueError):
        raise ValueError(f"rating_scale must be a pair (min, max) of numbers, got {rating_scale!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"rating_scale must be finite, got {rating_scale!r}")
    if lo > hi:
        raise ValueError(f"rating_scale min {lo} is larger than max {hi}")
    return (lo, hi)


def _scale_of(values, rating_scale):
    if rating_scale is not None:
        return _check_scale(rating_scale)
    if len(values) == 0:
        return (0.0, 0.0)
    return (float(np.min(values)), float(np.max(values)))


def _plain(v):
    """A NumPy scalar as the matching Python object (for messages)."""
    return v.item() if isinstance(v, np.generic) else v


def _readonly(a):
    a = np.asarray(a)
    a.flags.writeable = False
    return a


def _rows_of(indptr):
    """Row index of each stored entry of a CSR matrix, as int32 (CSR order)."""
    counts = np.diff(np.asarray(indptr, dtype=np.int64))
    return np.repeat(np.arange(len(counts), dtype=np.int32), counts)


def _csr(rows, cols, values, shape):
    """A canonical float32 CSR matrix from entries already sorted by (row, col) without duplicates."""
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
    m = sp.csr_matrix(
        (np.asarray(values, dtype=np.float32), np.asarray(cols, dtype=np.int32), indptr), shape=shape
    )
    m.has_sorted_indices = True
    m.has_canonical_format = True
    return m


def _canonical_copy(m, dtype=np.float32):
    """A canonical CSR copy of any scipy sparse matrix/array (duplicates summed, zeros kept)."""
    out = sp.csr_matrix(m, dtype=dtype, copy=True)
    out.sum_duplicates()  # sorts indices; never drops explicit zeros
    return out


def _dedupe(rows, cols, values, n_cols, duplicates, describe, where=None):
    """Sort entries by (row, col) and resolve duplicate pairs.

    Returns sorted, duplicate-free ``(rows, cols, values)``. ``describe(row, col)`` renders a pair for
    the ``duplicates="error"`` message, ``where(i, j)`` (optional) adds where input positions ``i`` and
    ``j`` come from (a file's lines).
    """
    key = rows * np.int64(n_cols) + cols
    if np.all(key[1:] > key[:-1]):  # already in CSR order without duplicates (common for loaded files)
        return rows, cols, values
    order = np.argsort(key, kind="stable")
    skey = key[order]
    same = skey[1:] == skey[:-1]
    if not same.any():
        return rows[order], cols[order], values[order]
    if duplicates == "error":
        later = order[1:][same]  # input positions that repeat an earlier pair
        j = int(later.min())
        k = key[j]
        i = int(order[np.searchsorted(skey, k)])  # first occurrence of that pair (stable sort)
        n_dup = int(same.sum())
        origin = f"({where(i, j)}) " if where is not None else ""
        raise ValueError(
            f"duplicate (user, item) pair {describe(rows[j], cols[j])} at positions {i} and {j} "
            f"{origin}({n_dup} repeated row{'s' if n_dup != 1 else ''} in total); "
            "pass duplicates='mean' or duplicates='last' to merge them"
        )
    starts = np.flatnonzero(np.concatenate(([True], ~same)))
    if duplicates == "mean":
        sums = np.add.reduceat(values[order], starts)
        counts = np.diff(np.append(starts, len(order)))
        keep = order[starts]
        return rows[keep], cols[keep], sums / counts
    # "last": stable sort keeps input order inside a group, so the group's last element is the latest
    ends = np.append(starts[1:], len(order)) - 1
    keep = order[ends]
    return rows[keep], cols[keep], values[keep]


def _check_duplicates_arg(duplicates):
    if duplicates not in _DUPLICATE_POLICIES:
        raise ValueError(f"duplicates must be one of {_DUPLICATE_POLICIES}, got {duplicates!r}")


def _build_trust(src, dst, values, n_users):
    """Canonical trust CSR from validated int64 src/dst and float64 values.

    Self-loops and zero-valued edges are dropped with a ``UserWarning``; of repeated edges the last one
    (in input order) is kept.
    """
    loops = src == dst
    zeros = values == 0
    _warn_dropped_trust(int(loops.sum()), int((zeros & ~loops).sum()), stacklevel=5)
    keep = ~(loops | zeros)
    src, dst, values = src[keep], dst[keep], values[keep]
    src, dst, values = _dedupe(src, dst, values, n_users, "last", None)
    return _csr(src, dst, values, (n_users, n_users))


def _warn_dropped_trust(n_loops, n_zero, stacklevel):
    """The ``UserWarning``s for self-loops and zero-valued edges dropped from a trust graph (also raised by
    the device-side cleaning of a CUDA fit, ``socialrec._gpu.device_trust``)."""
    if n_loops:
        warnings.warn(
            f"dropped {n_loops} self-loop{'s' if n_loops != 1 else ''} from the trust graph",
            UserWarning,
            stacklevel=stacklevel,
        )
    if n_zero:
        warnings.warn(
            f"dropped {n_zero} trust edge{'s' if n_zero != 1 else ''} with value 0 "
            "(trust[u, v] != 0 is what marks an edge)",
            UserWarning,
            stacklevel=stacklevel,
        )


def _check_trust_shape(shape, n_users):
    """A trust matrix must be n_users x n_users (the ratings' users)."""
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"trust must be square, got shape {shape}")
    if shape[0] != n_users:
        raise ValueError(
            f"trust has shape {shape} but ratings have {n_users} users; "
            f"trust must be {n_users} x {n_users}"
        )


def _clean_sparse_trust(trust, n_users):
    """Validate and copy a sparse trust matrix: square, matching size, finite; drop loops and zeros."""
    if not sp.issparse(trust):
        raise TypeError(f"trust must be a scipy sparse matrix or array, got {type(trust).__name__}")
    _check_trust_shape(trust.shape, n_users)
    t = _canonical_copy(trust, dtype=np.float64)
    _check_finite_sparse(t, "trust")
    src = _rows_of(t.indptr).astype(np.int64)
    return _build_trust(src, t.indices.astype(np.int64), t.data, n_users)


def _check_finite_sparse(m, name):
    bad = ~np.isfinite(m.data)
    if bad.any():
        pos = _first(bad)
        row = int(np.searchsorted(m.indptr, pos, side="right") - 1)
        raise ValueError(f"{name}[{row}, {int(m.indices[pos])}] is {m.data[pos]}")
    big = np.abs(m.data) > _FLOAT32_MAX
    if big.any():
        pos = _first(big)
        row = int(np.searchsorted(m.indptr, pos, side="right") - 1)
        raise ValueError(f"{name}[{row}, {int(m.indices[pos])}] = {_plain(m.data[pos])!r} does not fit float32")


def _object_array(values):
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _as_id_array(values):
    """A list of raw ids as a 1-D array.

    Numbers become a numeric array (an object array where a numeric one would round an integer id);
    anything else (strings included) an object array, so that no id is coerced into another type
    (3 vs "3") and strings keep trailing NUL characters.
    """
    kinds = {type(v) for v in values}
    numeric = all(issubclass(t, numbers.Real) and not issubclass(t, (bool, np.bool_)) for t in kinds)
    if numeric:
        try:
            a = np.asarray(values)
        except ValueError:
            return _object_array(values)
        if a.dtype.kind == "f" and any(issubclass(t, numbers.Integral) for t in kinds):
            # integers beyond 2**53 among floats, or beyond int64 among negatives, would be rounded
            exact = 2 ** (np.finfo(a.dtype).nmant + 1)
            if any(isinstance(v, numbers.Integral) and abs(int(v)) > exact for v in values):
                return _object_array(values)
        if a.ndim == 1:
            return a
    return _object_array(values)


def _raw_array(x, name):
    """Raw ids as a 1-D array; rejects None and NaN ids."""
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be a 1-D array-like of ids, got a single {type(x).__name__}")
    a = x if isinstance(x, np.ndarray) else _as_id_array(list(x))
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    if a.dtype.kind in "fcmM":
        bad = np.isnan(a)
        if bad.any():
            pos = _first(bad)
            v = _plain(a[pos]) if a.dtype.kind in "fc" else a[pos]  # NaT's .item() is None
            raise ValueError(f"{name}[{pos}] is {v!r}; ids must not be missing")
    elif a.dtype.kind == "O":
        for pos, v in enumerate(a):
            if _is_missing(v):
                raise ValueError(f"{name}[{pos}] is {v!r}; ids must not be missing")
    return a


def _is_missing(v):
    """None, a NaN of any type, NaT, pandas.NA: values unequal to themselves or that cannot say."""
    if v is None:
        return True
    try:
        return bool(v != v)
    except TypeError:  # pandas.NA: its comparisons give NA, whose truth value raises
        return True
    except ValueError:  # an array (unhashable, rejected as such later)
        return False


def _check_unique_ids(ids, name):
    """Raise unless every raw id is hashable and unique: the id map must be one-to-one."""
    if ids.dtype.kind != "O":
        order = np.argsort(ids, kind="stable")
        sids = ids[order]
        same = sids[1:] == sids[:-1]
        if same.any():
            j = int(order[1:][same].min())  # the earliest position that repeats an id
            i = int(order[np.searchsorted(sids, ids[j])])
            raise ValueError(f"{name} repeats the id {_plain(ids[j])!r} (positions {i} and {j}); "
                             "raw ids must be unique")
        return
    seen = {}
    for pos, v in enumerate(ids.tolist()):
        try:
            i = seen.setdefault(v, pos)
        except TypeError:
            raise TypeError(f"{name}[{pos}] = {v!r} is not hashable; raw ids must be hashable") from None
        if i != pos:
            raise ValueError(f"{name} repeats the id {v!r} (positions {i} and {pos}); raw ids must be unique")


def _map_ids(groups):
    """Map raw-id arrays to contiguous indices.

    ``groups`` is a list of lists of arrays. Ids of the first group get the first indices, ids first seen
    in the second group the next ones, and so on. Within a group, ids are numbered in ascending order
    when they can be sorted (all numbers, all strings, ...), in order of first appearance otherwise.

    Returns ``(ids, [[indices...], ...])`` with ids an array and each index array int64.
    """
    arrays = [a for g in groups for a in g if len(a)]
    kinds = {a.dtype.kind for a in arrays}
    if not (kinds <= set("iuf") or kinds == {"U"} or kinds == {"S"}) or _promotion_merges_ids(arrays):
        # mixed kinds: compare as Python objects, so that 3 and "3" stay different ids
        groups = [[a.astype(object) for a in g] for g in groups]
    try:
        return _map_ids_sorted(groups)
    except TypeError:  # ids that cannot be ordered
        return _map_ids_dict(groups)


def _promotion_merges_ids(arrays):
    """Whether numeric id arrays of different dtypes meet in a float type that rounds some integer id
    (uint64 with int64 ids, or integers beyond 2**53 with float ids, meet in float64)."""
    common = np.result_type(*arrays)
    if common.kind != "f":
        return False
    exact = 2 ** (np.finfo(common).nmant + 1)  # every integer up to this is a float of that type
    return any(a.dtype.kind in "iu" and len(a) and (int(a.min()) < -exact or int(a.max()) > exact)
               for a in arrays)


def _map_ids_sorted(groups):
    ids_parts = []
    for g in groups:
        nonempty = [a for a in g if len(a)]
        if not nonempty:
            continue
        u = np.unique(np.concatenate(nonempty))
        if ids_parts:
            u = u[~np.isin(u, np.concatenate(ids_parts))]
        ids_parts.append(u)
    ids = np.concatenate(ids_parts)
    sorter = np.argsort(ids, kind="stable")
    sorted_ids = ids[sorter]
    out = [
        [sorter[np.searchsorted(sorted_ids, a)].astype(np.int64) if len(a) else np.empty(0, np.int64)
         for a in g]
        for g in groups
    ]
    return ids, out


def _map_ids_dict(groups):
    table = {}
    ids = []
    out = []
    for g in groups:
        gi = []
        for a in g:
            idx = np.empty(len(a), dtype=np.int64)
            for pos, v in enumerate(a.tolist()):
                k = table.get(v)
                if k is None:
                    k = table[v] = len(ids)
                    ids.append(v)
                idx[pos] = k
            gi.append(idx)
        out.append(gi)
    return _as_id_array(ids), out


class _IdIndex:
    """Raw id -> index lookup for one id array, built lazily (a sort for numbers/strings, else a dict)."""

    def __init__(self, ids, what):
        self.ids = ids
        self.what = what
        self._sorter = None
        self._table = None

    def table(self):
        if self._table is None:
            self._table = {v: k for k, v in enumerate(self.ids.tolist())}
        return self._table

    def __call__(self, raw):
        """Scalar in, Python int out; array-like in, int32 array out; unknown ids raise KeyError."""
        scalar = isinstance(raw, (str, bytes)) or np.ndim(raw) == 0
        if isinstance(raw, tuple) and self.ids.dtype == object:
            try:
                scalar = raw in self.table()  # a tuple that is itself a known id
            except TypeError:
                pass
        if scalar:
            try:
                return int(self.table()[_plain(raw)])
            except (KeyError, TypeError):
                raise KeyError(f"unknown {self.what} id {_plain(raw)!r}") from None
        q = raw if isinstance(raw, np.ndarray) else _as_id_array(list(raw))
        q = q.ravel()
        ids = self.ids
        numeric = ids.dtype.kind in "iuf" and q.dtype.kind in "iuf" and not _promotion_merges_ids([ids, q])
        if numeric or (ids.dtype.kind in "US" and q.dtype == ids.dtype):
            if self._sorter is None:
                self._sorter = np.argsort(ids, kind="stable")
            sids = ids[self._sorter]
            pos = np.minimum(np.searchsorted(sids, q), len(sids) - 1)
            found = sids[pos] == q
            if not found.all():
                bad = _first(~found)
                raise KeyError(f"unknown {self.what} id {_plain(q[bad])!r} (at position {bad})")
            return self._sorter[pos].astype(np.int32)
        table = self.table()
        out = np.empty(len(q), dtype=np.int32)
        for pos, v in enumerate(q.tolist()):
            k = table.get(v)
            if k is None:
                raise KeyError(f"unknown {self.what} id {v!r} (at position {pos})")
            out[pos] = k
        return out


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
        self._user_index = _IdIndex(self.user_ids, "user")
        self._item_index = _IdIndex(self.item_ids, "item")

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
        u = _as_index_array(users, "users")
        i = _as_index_array(items, "items")
        v = _as_value_array(values, "values")
        _check_lengths(users=u, items=i, values=v)
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
            ts = _as_index_array(trust_src, "trust_src")
            td = _as_index_array(trust_dst, "trust_dst")
            _check_lengths(trust_src=ts, trust_dst=td)
            if trust_values is None:
                tv = np.ones(len(ts), dtype=np.float64)
            else:
                tv = _as_value_array(trust_values, "trust_values")
                _check_lengths(trust_src=ts, trust_values=tv)
        if n_users is None:
            n_users = int(max(u.max(), ts.max() if len(ts) else -1, td.max() if len(td) else -1)) + 1
            if user_ids is not None:
                n_users = max(n_users, len(user_ids))
        else:
            n_users = _check_count(n_users, "n_users")
            _check_range(u, n_users, "users", "n_users")
            _check_range(ts, n_users, "trust_src", "n_users")
            _check_range(td, n_users, "trust_dst", "n_users")
        if n_items is None:
            n_items = int(i.max()) + 1
            if item_ids is not None:
                n_items = max(n_items, len(item_ids))
        else:
            n_items = _check_count(n_items, "n_items")
            _check_range(i, n_items, "items", "n_items")
        user_ids = cls._check_ids(user_ids, n_users, "user_ids", "n_users")
        item_ids = cls._check_ids(item_ids, n_items, "item_ids", "n_items")

        scale = _scale_of(v, rating_scale)
        ru, ri, rv = _dedupe(u, i, v, n_items, duplicates, describe, where)
        ratings = _csr(ru, ri, rv, (n_users, n_items))
        trust = _build_trust(ts, td, tv, n_users)
        return cls._new(ratings, trust, user_ids, item_ids, scale)

    @staticmethod
    def _check_ids(ids, n, name, count_name):
        if ids is None:
            return np.arange(n, dtype=np.int64)
        ids = _raw_array(ids, name).copy()
        if len(ids) != n:
            raise ValueError(f"{name} has {len(ids)} entries but {count_name}={n}")
        _check_unique_ids(ids, name)
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
        ru = _raw_array(users, "users")
        ri = _raw_array(items, "items")
        v = _as_value_array(values, "values")
        _check_lengths(users=ru, items=ri, values=v)
        if len(v) == 0:
            raise ValueError("no ratings: users, items and values are empty")
        if (trust_src is None) != (trust_dst is None):
            raise ValueError("give both trust_src and trust_dst, or neither")
        groups = [[ru]]
        tv = None
        if trust_src is not None:
            ts = _raw_array(trust_src, "trust_src")
            td = _raw_array(trust_dst, "trust_dst")
            _check_lengths(trust_src=ts, trust_dst=td)
            if trust_values is not None:
                tv = _as_value_array(trust_values, "trust_values")
                _check_lengths(trust_src=ts, trust_values=tv)
            groups.append([ts, td])
        elif trust_values is not None:
            raise ValueError("trust_values given without trust_src / trust_dst")
        user_ids, uidx = _map_ids(groups)
        item_ids, (iidx,) = _map_ids([[ri]])
        u = uidx[0][0]
        i = iidx[0]
        ts_i = td_i = None
        if trust_src is not None:
            ts_i, td_i = uidx[1]
        return cls._from_index_arrays(
            u, i, v, ts_i, td_i, tv, len(user_ids), len(item_ids), duplicates, rating_scale,
            user_ids, item_ids, describe=lambda a, b: (_plain(user_ids[a]), _plain(item_ids[b])), where=where,
        )

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
            Holds copies; the inputs are never modified.
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
        r64 = _canonical_copy(ratings, dtype=np.float64)
        if r64.nnz == 0:
            raise ValueError("no ratings: the ratings matrix stores no entries")
        _check_finite_sparse(r64, "ratings")
        n_users, n_items = r64.shape
        _check_count(n_users, "n_users")
        _check_count(n_items, "n_items")
        scale = _scale_of(r64.data, rating_scale)
        r = sp.csr_matrix(r64, dtype=np.float32)
        r.has_canonical_format = True
        if trust is None:
            t = sp.csr_matrix((n_users, n_users), dtype=np.float32)
        else:
            t = _clean_sparse_trust(trust, n_users)
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
        r = _canonical_copy(ratings, dtype=np.float64)
        _check_finite_sparse(r, "ratings")
        r = sp.csr_matrix(r, dtype=np.float32)
        r.has_canonical_format = True
        return self._new(r, self.trust.copy(), self.user_ids, self.item_ids, self.rating_scale)

    def binarized(self, threshold=0.0):
        """Implicit feedback from counts or ratings: entries above ``threshold`` become 1, the rest are
        dropped. Same index space, id maps and trust graph; ``rating_scale`` becomes (1, 1).

        Use it before fitting the ranking models on counts (LastFM listens): ALS's confidence
        ``1 + alpha * r`` on raw counts in the hundreds of thousands swamps everything else.
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
        return _rows_of(r.indptr), r.indices.astype(np.int32), r.data.astype(np.float32)

    def trust_arrays(self):
        """The trust edges as parallel arrays in CSR order (by truster, then trustee).

        Returns
        -------
        src : numpy.ndarray of int32
        dst : numpy.ndarray of int32
        values : numpy.ndarray of float32
        """
        t = self.trust
        return _rows_of(t.indptr), t.indices.astype(np.int32), t.data.astype(np.float32)

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
