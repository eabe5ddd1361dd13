"""The ids rule of every query method (DESIGN §2b): raw ids of the fitted data by default, indices on request.

``predict``, ``recommend``, ``similar_items``, ``similar_users`` and the metrics' ``users=`` take and return the
**raw ids of the data the model was fitted on** (``Dataset.user_ids`` / ``item_ids``, kept as ``user_ids_`` /
``item_ids_``); ``ids="index"`` switches a call to internal indices. For a model fitted on a scipy/CuPy matrix
the raw ids are 0..n-1, so both readings agree. An id the model does not know raises ``UnknownIdError``
naming every unknown id of the query, unless the call's ``unknown=`` policy (``recommend``) says otherwise.

``IdSpace`` is one side (users or items) of a fitted model's id map. When the raw ids are 0..n-1 (an
"identity" map) or the call asks for indices, a query goes through ``_validate.index_array`` alone (the
validation every index caller always had, vectorised); otherwise raw ids are looked up by a binary search
(``_ids.IdIndex.find``) and results mapped back by one fancy index.
"""
from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from .. import _gpu, _interop
from .._ids import IdIndex, UnknownIdTypeError, fill_value, query_ids, string_array, unknown_ids
from .._validate import IndexRangeError, NotAnIndexError, index_array

IDS = ("raw", "index")


def check_ids(ids):
    """``ids`` of a query method: "raw" (the fitted data's ids, the default) or "index" (internal indices)."""
    if not isinstance(ids, str) or ids not in IDS:
        raise ValueError(f"ids={ids!r} must be 'raw' (the ids of the data the model was fitted on) or 'index' "
                         "(internal indices)")
    return ids


class Query(NamedTuple):
    """A query resolved to indices: ``indices`` (int64; -1 where ``known`` is False), ``known`` (a boolean mask,
    None when every id is known) and ``keys`` (the query's ids as given, one per row: raw ids or indices)."""

    indices: object
    known: object
    keys: object


class IdSpace:
    """Raw ids <-> indices for one side of a fitted model (``what``: "user" or "item")."""

    def __init__(self, ids, n, what):
        self.source = ids  # the model's own array, to notice a refit or a load
        self.ids = None if ids is None else np.asarray(ids)
        self.n = int(n)
        self.what = what
        a = self.ids
        # No map (a file saved before maps existed) or the ids 0..n-1: raw ids are indices.
        self.identity = a is None or (a.dtype.kind in "iu" and a.shape == (self.n,) and
                                      (self.n == 0 or (a[0] == 0 and a[-1] == self.n - 1)) and
                                      np.array_equal(a, np.arange(self.n)))
        # Lookups and results use a typed copy where one exists: string ids (kept as an object array by
        # Dataset.from_raw) as a NumPy string array, so that lookups are a binary search and results typed.
        self.typed = None if self.identity else _typed_ids(self.ids)
        self._index = None if self.identity else IdIndex(self.typed, what)

    def translates(self, ids):
        """Whether a call with ``ids`` maps raw ids (a raw-id call on a map other than 0..n-1)."""
        return ids == "raw" and not self.identity

    def to_index(self, values, name, ids, unknown_ok=False):
        """``values`` (raw ids, or indices under ``ids="index"``) as a ``Query``. Unknown ids raise
        ``UnknownIdError`` naming each of them, or with ``unknown_ok`` come back as -1 with ``known`` False."""
        if not self.translates(ids):
            return self._indices(values, name, ids, unknown_ok)
        q = query_ids(values, self.ids, name)
        pos = self._index.find(q)
        missing = pos < 0
        if not missing.any():
            return Query(pos, None, q)
        if not unknown_ok:
            raise unknown_ids(self.what, name, q[missing], np.flatnonzero(missing))
        return Query(pos, ~missing, q)

    def _indices(self, values, name, ids, unknown_ok):
        """Indices checked as every index caller's always were. Out-of-range values are unknown ids; so are, in
        a raw-id call, values that are no integers (a string: the ids of this model are 0..n-1)."""
        try:
            idx = index_array(values, self.n, name)
            return Query(idx, None, idx)
        except IndexRangeError as e:
            reason, not_integers = str(e), False
        except NotAnIndexError as e:
            if ids == "index":
                raise
            reason, not_integers = str(e), True
        a = query_ids(values, None, name)
        bad = ~_valid_indices(a, self.n)
        if not unknown_ok:
            raise self._unknown_indices(a, bad, name, reason, not_integers)
        idx = np.full(len(a), -1, dtype=np.int64)
        idx[~bad] = a[~bad].astype(np.int64)
        return Query(idx, ~bad, a)

    def _unknown_indices(self, a, bad, name, reason, not_integers):
        """The ``UnknownIdError`` of the values ``a[bad]`` that are no indices of this space: ``reason`` (the
        index validator's message about the first one) and every one of them; for values that are no integers
        also a ``TypeError``, as they always were."""
        if not_integers:
            err = unknown_ids(self.what, name, a[bad], np.flatnonzero(bad), cls=UnknownIdTypeError)
            err.args = (f"{err}; the {self.what} ids of this model are the integers 0..{self.n - 1} ({reason})",)
            return err
        err = unknown_ids(self.what, name, a[bad], np.flatnonzero(bad),
                          prefix=f"{reason}; every unknown {self.what} id:")
        if len(err.ids) == 1:
            err.args = (reason,)
        return err

    def to_raw(self, indices, ids):
        """Indices (-1: padding) as the ids a call with ``ids`` returns: the indices themselves for index calls
        and 0..n-1 maps, else the raw ids, typed as the map (padding: ``_ids.fill_value``)."""
        if not self.translates(ids):
            return indices
        out = self.typed[np.maximum(indices, 0)]
        pad = indices < 0
        if pad.any():
            out[pad] = fill_value(self.typed.dtype)
        return out


def _typed_ids(ids):
    """``ids`` as a NumPy string array when it is an object array of strings (``_ids.string_array``); else
    ``ids`` itself."""
    if ids.dtype == object and len(ids):
        values = ids.tolist()
        if all(issubclass(k, str) for k in set(map(type, values))):
            strings = string_array(values)
            if strings is not None:
                return strings
    return ids


def _valid_indices(a, n):
    """Which values of the 1-D array ``a`` are indices in [0, n): integers (or whole numbers), not booleans."""
    kind = a.dtype.kind
    if kind in "iu":
        return (a >= 0) & (a < n)
    if kind == "f":
        with np.errstate(invalid="ignore"):
            return np.isfinite(a) & (a == np.round(a)) & (a >= 0) & (a < n)
    if kind != "O":
        return np.zeros(len(a), dtype=bool)  # strings, booleans, dates
    out = np.zeros(len(a), dtype=bool)
    for pos, v in enumerate(a.tolist()):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            continue
        try:
            out[pos] = float(v).is_integer() and 0 <= v < n if not isinstance(v, numbers.Integral) else 0 <= v < n
        except (OverflowError, ValueError):
            pass
    return out


def id_space(model, side):
    """The model's ``IdSpace`` of ``side`` ("user" or "item"), built once per fitted id map."""
    ids = getattr(model, f"{side}_ids_", None)
    n = model.n_users_ if side == "user" else model.n_items_
    cache = model.__dict__.setdefault("_id_spaces", {})
    space = cache.get(side)
    if space is None or space.source is not ids or space.n != n:
        space = cache[side] = IdSpace(ids, n, side)
    return space


def host(x, name):
    """A host (NumPy) copy of a device array; anything else as it is."""
    if x is not None and _interop.is_device_input(x):
        return _gpu.to_host(_interop.as_cupy(x, name))
    return x


def results(space, top, scores, ids, on_device):
    """A top-n query's ``(ids, scores)`` as returned: ``top``'s indices mapped by ``space.to_raw`` (on the host
    when they are mapped), and both on the device when the query was (raw ids only when numeric)."""
    if space.translates(ids):
        top = space.to_raw(host(top, "ids"), ids)
    if on_device:
        if top.dtype.kind in "iuf" and not _gpu.is_cupy(top):
            top = _gpu.to_device(top)
        if not _gpu.is_cupy(scores):
            scores = _gpu.to_device(scores)
    return top, scores
