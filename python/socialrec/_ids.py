"""Raw ids: mapping user and item ids of any hashable type to contiguous indices, and back.

``map_ids`` numbers the raw ids of a ``Dataset.from_raw`` input; ``IdIndex`` looks raw ids up in a fitted id
array (``Dataset.user_index``, ``Model.recommend_raw``). Ids keep their type: 3 and "3" are different ids, and no
integer id is rounded through a float.
"""
from __future__ import annotations

import numbers

import numpy as np

from ._validate import first, plain


def _object_array(values):
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def as_id_array(values):
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


def raw_array(x, name):
    """Raw ids as a 1-D array; rejects None and NaN ids."""
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be a 1-D array-like of ids, got a single {type(x).__name__}")
    a = x if isinstance(x, np.ndarray) else as_id_array(list(x))
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    if a.dtype.kind in "fcmM":
        bad = np.isnan(a)
        if bad.any():
            pos = first(bad)
            v = plain(a[pos]) if a.dtype.kind in "fc" else a[pos]  # NaT's .item() is None
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


def check_unique_ids(ids, name):
    """Raise unless every raw id is hashable and unique: the id map must be one-to-one."""
    if ids.dtype.kind != "O":
        order = np.argsort(ids, kind="stable")
        sids = ids[order]
        same = sids[1:] == sids[:-1]
        if same.any():
            j = int(order[1:][same].min())  # the earliest position that repeats an id
            i = int(order[np.searchsorted(sids, ids[j])])
            raise ValueError(f"{name} repeats the id {plain(ids[j])!r} (positions {i} and {j}); "
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


def map_ids(groups):
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
    return as_id_array(ids), out


class IdIndex:
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
                return int(self.table()[plain(raw)])
            except (KeyError, TypeError):
                raise KeyError(f"unknown {self.what} id {plain(raw)!r}") from None
        q = (raw if isinstance(raw, np.ndarray) else as_id_array(list(raw))).ravel()
        out = self.find(q)
        if (out < 0).any():
            bad = first(out < 0)
            raise KeyError(f"unknown {self.what} id {plain(q[bad])!r} (at position {bad})")
        return out.astype(np.int32)

    def find(self, raw):
        """Index (int64) of each of an array-like of raw ids, -1 where an id is unknown (``__call__`` raises)."""
        q = (raw if isinstance(raw, np.ndarray) else as_id_array(list(raw))).ravel()
        ids = self.ids
        numeric = ids.dtype.kind in "iuf" and q.dtype.kind in "iuf" and not _promotion_merges_ids([ids, q])
        if numeric or (ids.dtype.kind in "US" and q.dtype == ids.dtype):
            if self._sorter is None:
                self._sorter = np.argsort(ids, kind="stable")
            sids = ids[self._sorter]
            pos = np.minimum(np.searchsorted(sids, q), len(sids) - 1)
            return np.where(sids[pos] == q, self._sorter[pos], -1).astype(np.int64)
        table = self.table()
        return np.fromiter((table.get(v, -1) for v in q.tolist()), dtype=np.int64, count=len(q))
