"""Raw ids: mapping user and item ids of any hashable type to contiguous indices, and back.

``map_ids`` numbers the raw ids of a ``Dataset.from_raw`` input; ``IdIndex`` looks raw ids up in a fitted id
array (``Dataset.user_index``, and every query method of a model through ``models/_queries.py``). Ids keep their
type: 3 and "3" are different ids, and no integer id is rounded through a float. ``UnknownIdError`` is what a
query raises for ids a fitted model does not know; ``fill_value`` pads raw-id results.
"""
from __future__ import annotations

import numbers
from itertools import repeat

import numpy as np

from ._validate import IndexRangeError, NotAnIndexError, first, plain

_LISTED = 20  # unknown ids spelled out in a message (all of them are in UnknownIdError.ids)


class UnknownIdError(KeyError, IndexRangeError):
    """Ids a fitted model does not know: raw ids absent from the data it was fitted on, or indices out of range.

    It is a ``KeyError`` (an id looked up in a map) as well as an ``IndexError`` and a ``ValueError`` (what an
    index out of range raises), so handlers written for either keep working. ``ids`` holds every unknown id of
    the query once, in order of first appearance; ``positions`` the position of each one's first occurrence.
    """

    def __init__(self, message, ids=(), positions=()):
        super().__init__(message)
        self.ids = list(ids)
        self.positions = list(positions)

    def __str__(self):  # KeyError would quote the message
        return str(self.args[0])


class UnknownIdTypeError(UnknownIdError, NotAnIndexError):
    """Unknown ids of another type than a model's integer ids 0..n-1 (a string, a fraction): an
    ``UnknownIdError`` that is also the ``TypeError`` such a value always raised as an index."""


def unknown_ids(what, name, values, positions, prefix=None, cls=UnknownIdError):
    """An ``UnknownIdError`` naming every distinct id of ``values`` (found at ``positions`` of the query
    ``name``); the message spells out the first ``_LISTED`` of them. ``prefix`` replaces the opening words."""
    first_seen = {}
    for v, p in zip(values.tolist() if isinstance(values, np.ndarray) else list(values), positions):
        try:
            first_seen.setdefault(v, int(p))
        except TypeError:  # an unhashable query value (a list where an id was expected)
            first_seen.setdefault(repr(v), int(p))
    pairs = list(first_seen.items())
    listed = ", ".join(f"{v!r} ({name}[{p}])" for v, p in pairs[:_LISTED])
    more = f" and {len(pairs) - _LISTED} more" if len(pairs) > _LISTED else ""
    head = prefix or f"unknown {what} id{'' if len(pairs) == 1 else 's'}"
    return cls(f"{head} {listed}{more}", [v for v, _ in pairs], [p for _, p in pairs])


def fill_value(dtype):
    """The id that pads a raw-id result row shorter than ``n`` (its score is -inf): -1 for signed integer ids,
    the largest value for unsigned ones, NaN for float ids, NaT for dates, "" (b"") for strings, None for
    object arrays (ids of mixed types)."""
    kind = np.dtype(dtype).kind
    if kind == "i":
        return -1
    if kind == "u":
        return np.iinfo(dtype).max
    if kind in "fc":
        return np.nan
    if kind in "mM":
        return np.datetime64("NaT") if kind == "M" else np.timedelta64("NaT")
    if kind == "U":
        return ""
    if kind == "S":
        return b""
    if kind == "b":
        return False
    return None


def query_ids(raw, ids, name):
    """The raw ids of a query as a 1-D array: one id (a string, a number, a tuple that is a known id of the
    object id map ``ids``, if given) is a query of one; nested sequences are rejected (one-dimensional)."""
    if isinstance(raw, np.ndarray):
        scalar = raw.ndim == 0
    else:  # (not np.ndim: that would convert a long list to an array first)
        scalar = isinstance(raw, (str, bytes)) or not hasattr(raw, "__iter__")
    if isinstance(raw, tuple) and ids is not None and ids.dtype == object:
        try:
            scalar = raw in set(ids.tolist())  # a tuple that is itself a known id
        except TypeError:
            pass
    if scalar:
        a = np.empty(1, dtype=object)
        a[0] = plain(raw)
        return as_id_array(a.tolist())
    if isinstance(raw, np.ndarray):
        if raw.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {raw.shape}")
        return raw
    values = list(raw)
    kinds = set(map(type, values))
    if any(issubclass(k, (list, np.ndarray, set, frozenset)) for k in kinds):
        raise ValueError(f"{name} must be one-dimensional ids, got a nested sequence")
    return as_id_array(values)


def string_array(values):
    """A list of Python strings as a NumPy string array (binary search, no per-id Python work), or None when
    that would change an id: NumPy drops trailing NUL characters, which shows as a shorter total length."""
    a = np.array(values, dtype=str)
    if int(np.char.str_len(a).sum()) != sum(map(len, values)):
        return None
    return a


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


def _get(table, v):
    try:
        return table.get(v, -1)
    except TypeError:
        return -1


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

    def __getstate__(self):  # the lookup structures are rebuilt on demand
        return {"ids": self.ids, "what": self.what, "_sorter": None, "_table": None}

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
        q = raw if isinstance(raw, np.ndarray) else as_id_array(list(raw))
        q = q.ravel()
        pos = self.find(q)
        missing = pos < 0
        if missing.any():
            bad = first(missing)
            raise KeyError(f"unknown {self.what} id {plain(q[bad])!r} (at position {bad})")
        return pos.astype(np.int32)

    def find(self, q):
        """The index of each raw id of the 1-D array ``q`` (int64), -1 where the id is unknown. Vectorised (a
        binary search) for numbers and strings; a dict lookup per id for object ids. Booleans are no ids."""
        ids = self.ids
        if len(ids) == 0 or len(q) == 0 or q.dtype.kind == "b":
            return np.full(len(q), -1, dtype=np.int64)
        numeric = ids.dtype.kind in "iuf" and q.dtype.kind in "iuf" and not _promotion_merges_ids([ids, q])
        if numeric or (ids.dtype.kind in "US" and q.dtype.kind == ids.dtype.kind):
            if self._sorter is None:  # (order, ids in that order), kept: a fold-in asks once per call
                order = np.argsort(ids, kind="stable")
                self._sorter = (order, ids[order])
            order, sids = self._sorter
            pos = np.minimum(np.searchsorted(sids, q), len(sids) - 1)
            return np.where(sids[pos] == q, order[pos], -1).astype(np.int64)
        table, values = self.table(), q.tolist()
        try:  # one dict lookup per id, in C
            out = np.fromiter(map(table.get, values, repeat(-1)), dtype=np.int64, count=len(values))
        except TypeError:  # an unhashable value: no id
            out = np.array([_get(table, v) for v in values], dtype=np.int64)
        if {bool, np.bool_} & set(map(type, values)):  # True == 1 as a dict key, but a boolean is no id
            out[[isinstance(v, (bool, np.bool_)) for v in values]] = -1
        return out
