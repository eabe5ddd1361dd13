"""Block layout and links of the blocked ALS fits (Spark MLlib's ALS bookkeeping, on NumPy arrays).

Users and items are cut into contiguous blocks of ids. A block's boundaries are boundaries of the chunks over
which the C++ half-step sums its Gramian (``_core.gramian_chunk_bounds``), so each block computes the partial
Gramians of whole chunks and the driver adds them in chunk order: the bits of the single-machine Gramian. A
side has at most 64 chunks (fewer below 16,384 rows: one per 256 rows), which bounds its blocks; each block's
rows are solved with the worker's threads.

Links. For a block p of one side and a block q of the other, ``needs[q]`` are the ids in q (local to q) that
p's rows reference (Spark's in-links of p; the same arrays, kept by q, are q's out-links to p). A block's
rows are re-indexed into the concatenation of the pieces q = 0, 1, ... it receives: the blocks are id ranges
in order, so that concatenation is in ascending id order and every row visits its entries in the
single-machine order (which makes its solve bit-identical).
"""
from __future__ import annotations

import numpy as np


def block_bounds(chunk_bounds, blocks):
    """``blocks + 1`` ids cutting a side into ``min(blocks, chunks)`` contiguous blocks on chunk boundaries."""
    chunks = len(chunk_bounds) - 1
    b = max(1, min(int(blocks), chunks))
    return np.asarray([chunk_bounds[(chunks * j) // b] for j in range(b + 1)], dtype=np.int64)


def block_of(ids, bounds):
    """The block of each id (``bounds`` from ``block_bounds``)."""
    return np.searchsorted(bounds, ids, side="right") - 1


def linked_rows(indptr, indices, values, other_bounds):
    """One block's CSR rows (global column ids) re-indexed against the blocks of the other side: returns
    ``(indptr, local_indices, values, needs)`` with ``needs = {q: ids local to block q, ascending}`` for every
    block q that the rows reference, and ``local_indices`` indexing the concatenation of those pieces."""
    needed = np.unique(indices)
    owner = block_of(needed, other_bounds)
    needs = {}
    for q in np.unique(owner):
        mine = needed[owner == q]
        needs[int(q)] = (mine - other_bounds[q]).astype(np.int64)
    local = np.searchsorted(needed, indices).astype(np.int32)
    return (np.ascontiguousarray(indptr, dtype=np.int64), local, np.ascontiguousarray(values, dtype=np.float32),
            needs)


def csr_block(matrix, first, last):
    """Rows [first, last) of a scipy CSR matrix as (indptr from 0, global column ids, values)."""
    start, end = matrix.indptr[first], matrix.indptr[last]
    return matrix.indptr[first:last + 1] - start, matrix.indices[start:end], matrix.data[start:end]


def concat_pieces(pieces, k, dtype):
    """The rows a block receives, concatenated in block order (an empty (0, k) matrix when none)."""
    if not pieces:
        return np.zeros((0, k), dtype=dtype)
    return np.ascontiguousarray(np.concatenate(pieces, axis=0))
