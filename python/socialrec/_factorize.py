"""Fast raw-id numbering for large inputs: factorize each id array once, then number only its distinct ids.

``map_ids`` (``_ids``) numbers raw ids by sorting or hashing the whole arrays in NumPy; on 3 million ratings
that costs seconds. Here every array is first reduced to ``(codes, uniques)`` -- ``uniques[codes]`` is the
array -- by the cheapest exact method, and ``map_ids`` then numbers the few distinct ids with its own rules
(so the ids and indices are the same as ``map_ids`` on the whole arrays gives):

* integers of a compact range (user ids 1..n): a presence table over the range, ``O(n + range)``;
* other integers and strings: pandas' hash table when pandas is already imported (it is whenever the data
  came from pandas), else ``numpy.unique(return_inverse=True)``;
* anything else (floats, objects of mixed types): ``None``, and the caller keeps ``map_ids`` on the arrays,
  whose equality rules for mixed types (3 vs "3") this module does not repeat.
"""
from __future__ import annotations

import sys

import numpy as np

from ._ids import map_ids

__all__ = ["factorize", "map_ids_factorized", "dense_codes"]

# a presence table may be this much longer than the array it numbers (plus a fixed allowance)
_DENSE_SLACK = 4
_DENSE_ALLOWANCE = 1 << 20


def dense_codes(a):
    """``(codes, uniques)`` of an integer array through a presence table over ``min .. max``; ``None`` when
    the range is too wide for one (more than 4 entries per element beyond a million)."""
    if len(a) == 0:
        return np.empty(0, np.int64), a[:0]
    lo, hi = a.min(), a.max()
    span = int(hi) - int(lo) + 1
    if span > _DENSE_SLACK * len(a) + _DENSE_ALLOWANCE:
        return None
    # offsets from the minimum, computed where they cannot wrap (int8 127 - (-128)) nor meet a float
    # (uint64 with an int64 scalar): uint64 stays unsigned, every other integer type widens to int64
    wide = np.uint64 if a.dtype == np.uint64 else np.int64
    lo = wide(lo)
    offsets = (a.astype(wide, copy=False) - lo).astype(np.intp, copy=False)  # fits: span is small
    present = np.zeros(span, dtype=bool)
    present[offsets] = True
    uniques = (np.flatnonzero(present).astype(wide) + lo).astype(a.dtype, copy=False)
    rank = np.cumsum(present, dtype=np.int64) - 1  # rank[d] = index of lo + d among the uniques
    return rank[offsets], uniques


def factorize(a):
    """``(codes, uniques)`` with ``uniques[codes] == a``, codes int64; ``None`` for dtypes left to ``map_ids``.

    ``a`` is a 1-D NumPy array of raw ids without missing values. Uniques are in ascending order or in order of
    first appearance; ``map_ids`` orders them either way.
    """
    kind = a.dtype.kind
    if kind in "iu":
        out = dense_codes(a)
        if out is not None:
            return out
    elif kind not in "US" and not (kind == "O" and _all_str(a)):
        return None
    pd = sys.modules.get("pandas")
    if pd is not None:
        codes, uniques = pd.factorize(a, use_na_sentinel=False)
        return codes.astype(np.int64, copy=False), np.asarray(uniques)
    uniques, codes = np.unique(a, return_inverse=True)
    return codes.astype(np.int64, copy=False).ravel(), uniques


def _all_str(a):
    # an object array of str only (the loop runs in C; a mixed array stops at its first non-str)
    return all(type(v) is str for v in a.tolist()) if len(a) else False


def map_ids_factorized(groups):
    """``map_ids(groups)`` computed through ``factorize``: the same ``(ids, indices)``, faster on large arrays.

    ``groups`` is ``map_ids``'s list of lists of raw-id arrays. When an array cannot be factorized here, the
    whole call falls back to ``map_ids`` itself.
    """
    factored = [[factorize(a) if len(a) else (np.empty(0, np.int64), a) for a in g] for g in groups]
    if any(f is None for g in factored for f in g):
        return map_ids(groups)
    return map_ids_of_codes(factored)


def map_ids_of_codes(factored):
    """``map_ids`` over groups of ``(codes, uniques)`` pairs: numbers the uniques, then gathers by code."""
    if len(factored) == 1 and len(factored[0]) == 1:
        codes, uniques = factored[0][0]
        if uniques.dtype.kind in "iu" and np.all(uniques[1:] > uniques[:-1]):
            return uniques, [[codes]]  # distinct integers in ascending order (a presence table's): numbered
    ids, index_of_unique = map_ids([[uniques for _, uniques in g] for g in factored])
    return ids, [[idx[codes] for (codes, _), idx in zip(g, gi)] for g, gi in zip(factored, index_of_unique)]
