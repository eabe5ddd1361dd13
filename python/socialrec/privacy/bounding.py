"""Contribution bounding: at most ``m`` ratings and ``e`` outgoing trust edges per user.

The unit of privacy bounds what one unit may contribute. DP-SGD's per-unit clipping already bounds a user's
influence on the released parameters; keeping at most ``m`` ratings (and ``e`` edges) per user in addition
keeps a heavy user's clipped contribution from being spread thin over thousands of items and keeps the
user-side gradient steps stable. Which entries are kept is random and data-independent: each entry gets a
uniform-looking key from (seed, stream, row, column) alone (``entry_keys``; stream 1 for ratings, 2 for trust)
and each row keeps the ``m`` (or ``e``) with the smallest keys, so the same seed keeps the same entries, and what
one user keeps never depends on another user's data -- which a user-level guarantee's neighbouring data sets
(one user's data replaced, the id spaces public) need. (Until Dec 2026 the keys followed the entries' global
positions, so one user's data reshuffled every later user's choice: found by the private-ALS sensitivity test.)
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..data import Dataset

RATING_STREAM, TRUST_STREAM = 1, 2


def _keep_first(m, rows, order, limit):
    """The first ``limit`` entries of each row of CSR ``m`` in ``order`` (a permutation of the entries sorted by
    row; ``rows`` the row of each entry), in their CSR order."""
    rank = np.empty(m.nnz, dtype=np.int64)
    rank[order] = np.arange(m.nnz) - m.indptr[rows[order]]  # position of each entry inside its row's order
    keep = rank < limit
    out = sp.csr_matrix((m.data[keep], m.indices[keep], np.concatenate(([0], np.cumsum(np.minimum(
        np.diff(m.indptr), limit))))), shape=m.shape)
    out.has_canonical_format = True
    return out


def bound_contributions(data, max_ratings=None, max_edges=None, seed=0):
    """``data`` with at most ``max_ratings`` ratings and ``max_edges`` outgoing trust edges per user.

    Parameters
    ----------
    data : Dataset
    max_ratings, max_edges : int or None
        ``None`` keeps every entry of that kind.
    seed : int
        Chooses the entries kept (the same seed, the same entries).

    Returns
    -------
    Dataset
        A new dataset in the same id space (the input is not modified).
    """
    ratings = keep_per_row(data.ratings, max_ratings, seed, RATING_STREAM)
    trust = keep_per_row(data.trust, max_edges, seed, TRUST_STREAM)
    return Dataset._new(ratings, trust, data.user_ids, data.item_ids, data.rating_scale)


def entry_keys(matrix, seed, stream):
    """A uniform-looking uint64 key for every stored entry of CSR ``matrix`` that depends only on (seed,
    stream, row, column): the SplitMix64 finaliser (Steele, Lea, Flood, OOPSLA 2014) of their mix."""
    rows = np.repeat(np.arange(matrix.shape[0], dtype=np.uint64), np.diff(matrix.indptr))
    cols = matrix.indices.astype(np.uint64)
    with np.errstate(over="ignore"):
        x = (np.uint64(int(seed) & (2 ** 64 - 1)) * np.uint64(0x9E3779B97F4A7C15)
             ^ np.uint64(stream) * np.uint64(0xBF58476D1CE4E5B9)
             ^ rows * np.uint64(0x94D049BB133111EB) ^ cols * np.uint64(0xD6E8FEB86659FD93))
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x


def keep_per_row(matrix, limit, seed, stream):
    """A copy of CSR ``matrix`` with at most ``limit`` entries per row: each row's smallest ``entry_keys``
    (ties by column), so a row's choice depends on its own entries and the seed only (see module)."""
    m = sp.csr_matrix(matrix, copy=True)
    m.sort_indices()
    if limit is None or m.nnz == 0 or np.diff(m.indptr).max() <= limit:
        return m
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    order = np.lexsort((m.indices, entry_keys(m, seed, stream), rows))  # by row, then key, then column
    return _keep_first(m, rows, order, limit)
