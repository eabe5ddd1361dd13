"""Array helpers written once for NumPy and CuPy: ``xp`` is the array module (``numpy``, or ``cupy`` for the
structures a CUDA fit builds on the device).

Only functions that exist in both are used (CuPy's ``repeat`` takes no array of counts and its ``bincount``
needs a non-empty input, hence ``rows_of`` and ``bincount`` here). On NumPy each helper returns exactly what
the CPU path's own expression returns; on CuPy the integer results are the same and float sums may differ in
their last bits (parallel reductions add in another order).
"""
from __future__ import annotations

import numpy as np

# Pairs (entries of expanded rows) handled at once by ``chunks``: bounds the temporaries of the device
# builders (a few int64/float64 arrays per pair) to some hundred MiB.
PAIRS_PER_CHUNK = 1 << 22
# Entries per step of ``map_chunks`` (host): its float64 temporaries stay near 2 MiB whatever the data size.
ENTRIES_PER_CHUNK = 1 << 18


def map_chunks(fn, values, out):
    """``out[...] = fn(values)`` for an element-wise ``fn``, ``ENTRIES_PER_CHUNK`` entries at a time (1-D NumPy
    arrays or record fields; ``out`` may be ``values``, for a map in place): the same numbers as one call,
    without ``fn``'s temporaries for every entry at once (a float64 copy is 8 bytes per entry). Returns
    ``out``."""
    for start in range(0, len(values), ENTRIES_PER_CHUNK):
        stop = start + ENTRIES_PER_CHUNK
        out[start:stop] = fn(values[start:stop])
    return out


def rows_of(indptr, xp=np):
    """Row (int32) of each stored entry of a CSR matrix with offsets ``indptr``, in CSR order: what
    ``np.repeat(np.arange(n_rows), np.diff(indptr))`` gives."""
    indptr = xp.asarray(indptr)
    nnz = int(indptr[-1])
    return (xp.searchsorted(indptr, xp.arange(nnz, dtype=xp.int64), side="right") - 1).astype(xp.int32)


def offsets_of(rows, n_rows, xp=np):
    """CSR offsets (int64, ``n_rows + 1``) of entries sorted by row: ``cumsum(bincount(rows))`` with a 0 first."""
    return xp.searchsorted(xp.asarray(rows), xp.arange(n_rows + 1, dtype=xp.int64), side="left").astype(xp.int64)


def bincount(x, minlength, weights=None, xp=np):
    """``xp.bincount(x, weights, minlength)``, also for an empty ``x`` (CuPy's takes its maximum first)."""
    if int(x.size) == 0:
        return xp.zeros(minlength, dtype=xp.float64 if weights is not None else xp.int64)
    return xp.bincount(x, weights=weights, minlength=minlength)


def inverse_sqrt(counts, xp=np):
    """``counts ** -0.5`` as float64, 0 where a count is 0."""
    counts = xp.asarray(counts).astype(xp.float64)
    return xp.where(counts > 0, 1.0 / xp.sqrt(xp.maximum(counts, 1.0)), 0.0)


def sorted_member(keys, queries, xp=np):
    """``(found, position)``: whether each query occurs in the sorted, non-empty array ``keys``, and where."""
    position = xp.minimum(xp.searchsorted(keys, queries), int(keys.size) - 1)
    return keys[position] == queries, position


def chunks(cumulative, limit=None, xp=np):
    """Runs ``[(start, stop), ...]`` that cover items ``0 .. m - 1`` whose sizes add up to ``cumulative``
    (length ``m + 1``, from 0, non-decreasing), each run about ``limit`` in size at most (an item larger than
    ``limit`` is a run of its own; default ``PAIRS_PER_CHUNK``). Only the cut points reach the host."""
    limit = PAIRS_PER_CHUNK if limit is None else int(limit)
    m = int(cumulative.size) - 1
    total = int(cumulative[-1])
    if total <= limit:
        return [(0, m)] if m > 0 else []
    targets = xp.arange(limit, total, limit, dtype=xp.int64)
    cuts = xp.searchsorted(cumulative, targets, side="right") - 1
    cuts = cuts.get() if hasattr(cuts, "get") else cuts
    bounds = sorted({0, m, *(int(c) for c in cuts)})
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def expand_rows(indptr, rows, xp=np):
    """The stored entries of the CSR rows ``rows`` (repeats allowed), one after another: ``(k, entry)`` with
    ``k`` the position in ``rows`` and ``entry`` the index into the CSR's indices/data (each row's entries in
    CSR order)."""
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    ends = xp.cumsum(lengths)
    total = int(ends[-1]) if int(ends.size) else 0
    pair = xp.arange(total, dtype=xp.int64)
    k = xp.searchsorted(ends, pair, side="right")
    return k, starts[k] + (pair - (ends[k] - lengths[k]))


def union_rows(indptr, indices, rows, extra_indptr, extra_indices, n_cols, xp=np):
    """A CSR ``(indptr int64, indices int32)`` with one row per entry of ``rows``: row k holds the entries of
    row ``rows[k]`` of ``(indptr, indices)`` together with row k of ``(extra_indptr, extra_indices)``, sorted,
    each once (``n_cols``: the column count). ``recommend`` merges the items a call excludes per user with the
    users' training items this way."""
    rows = xp.asarray(rows, dtype=xp.int64)
    k, entry = expand_rows(xp.asarray(indptr, dtype=xp.int64), rows, xp)
    extra_indptr = xp.asarray(extra_indptr, dtype=xp.int64)
    own = rows_of(extra_indptr, xp).astype(xp.int64)
    n_cols = max(int(n_cols), 1)
    packed = xp.concatenate([k.astype(xp.int64) * n_cols + xp.asarray(indices)[entry].astype(xp.int64),
                             own * n_cols + xp.asarray(extra_indices).astype(xp.int64)])
    packed = xp.unique(packed)  # sorted by row, then column; repeats dropped
    return offsets_of(packed // n_cols, int(rows.size), xp), (packed % n_cols).astype(xp.int32)
