"""Canonical sparse matrices: the CSR builders of ``Dataset`` and the cleaning rules of a trust graph.

Canonical means sorted column indices and no duplicate entries; a trust graph also has no self-loops and no
stored zeros. ``clean_sparse_trust`` and ``warn_dropped_trust`` are the rules both the host path
(``Dataset.from_sparse``) and the device path of a CUDA fit (``socialrec._gpu.device_trust``) apply.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

from ._validate import check_finite_sparse, check_trust_shape


def rows_of(indptr):
    """Row index of each stored entry of a CSR matrix, as int32 (CSR order)."""
    counts = np.diff(np.asarray(indptr, dtype=np.int64))
    return np.repeat(np.arange(len(counts), dtype=np.int32), counts)


def csr(rows, cols, values, shape):
    """A canonical float32 CSR matrix from entries already sorted by (row, col) without duplicates."""
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
    m = sp.csr_matrix(
        (np.asarray(values, dtype=np.float32), np.asarray(cols, dtype=np.int32), indptr), shape=shape
    )
    m.has_sorted_indices = True
    m.has_canonical_format = True
    return m


def check_compressed(m):
    """ValueError unless a CSR/CSC input is well formed (indices inside the shape, offsets from 0 to nnz and
    non-decreasing): scipy checks only lengths when one is built from arrays, and its conversions assume the
    rest. Checked on a new matrix over the same arrays, so the caller's object is left as it is."""
    if m.format in ("csr", "csc"):
        type(m)((m.data, m.indices, m.indptr), shape=m.shape).check_format(full_check=True)


def canonical_copy(m, dtype=np.float32):
    """A canonical CSR copy of any scipy sparse matrix/array (duplicates summed, zeros kept)."""
    check_compressed(m)
    out = sp.csr_matrix(m, dtype=dtype, copy=True)
    out.sum_duplicates()  # sorts indices; never drops explicit zeros
    return out


def dedupe(rows, cols, values, n_cols, duplicates, describe, where=None):
    """Sort entries by (row, col) and resolve duplicate pairs.

    Returns sorted, duplicate-free ``(rows, cols, values)``. ``describe(row, col)`` renders a pair for
    the ``duplicates="error"`` message, ``where(i, j)`` (optional) adds where input positions ``i`` and
    ``j`` come from (a file's lines).
    """
    key = rows * np.int64(n_cols) + cols
    if np.all(key[1:] > key[:-1]):  # already in CSR order without duplicates (common for loaded files)
        return rows, cols, values
    order, skey = stable_order(key)
    same = skey[1:] == skey[:-1]
    if not same.any():  # rows and columns from the sorted keys: arithmetic instead of two random gathers
        srows = skey // n_cols
        return srows, skey - srows * n_cols, values[order]
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


def stable_order(key):
    """``(order, key[order])`` with ``order`` the stable ascending order of a non-negative int64 ``key``.

    ``argsort(kind="stable")`` of millions of int64 keys is a merge sort; when ``key * len(key) + position``
    fits int64 the same order comes from ``numpy.sort`` of those combined values (a vectorised quicksort,
    several times faster): equal keys stay in input order because their positions break the tie.
    """
    n = len(key)
    if n and int(key.max()) < (np.iinfo(np.int64).max - n) // max(n, 1):
        combined = key * np.int64(n) + np.arange(n, dtype=np.int64)
        combined.sort()
        skey = combined // n
        combined -= skey * n  # now the positions
        return combined, skey
    order = np.argsort(key, kind="stable")
    return order, key[order]


def build_trust(src, dst, values, n_users):
    """Canonical trust CSR from validated int64 src/dst and float64 values.

    Self-loops and zero-valued edges are dropped with a ``UserWarning``; of repeated edges the last one
    (in input order) is kept.
    """
    loops = src == dst
    zeros = values == 0
    warn_dropped_trust(int(loops.sum()), int((zeros & ~loops).sum()), stacklevel=5)
    keep = ~(loops | zeros)
    src, dst, values = src[keep], dst[keep], values[keep]
    src, dst, values = dedupe(src, dst, values, n_users, "last", None)
    return csr(src, dst, values, (n_users, n_users))


def warn_dropped_trust(n_loops, n_zero, stacklevel):
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


def shared_csr(m):
    """``m`` as a canonical float32 CSR that uses its arrays as they are, when it can do so safely: a CSR of
    float32 values and int32 column indices, both read-only (``np.load(path, mmap_mode="r")`` gives such
    arrays), already canonical (sorted column indices, no duplicate entries) and well formed; else None, and
    the caller copies. Read-only is what makes sharing safe: nothing can change the values through the
    dataset or through the caller's arrays. The row offsets are copied if writeable (``n_rows + 1`` of them)."""
    if not (sp.issparse(m) and m.format == "csr" and m.data.dtype == np.float32 and m.indices.dtype == np.int32
            and m.ndim == 2):
        return None
    if m.data.flags.writeable or m.indices.flags.writeable:
        return None
    check_compressed(m)  # indices in range, offsets from 0 to nnz and non-decreasing: else ValueError
    if not m.has_canonical_format:
        return None
    indptr = m.indptr.copy() if m.indptr.flags.writeable else m.indptr
    indptr.flags.writeable = False
    out = sp.csr_matrix((m.data, m.indices, indptr), shape=m.shape)
    out.has_sorted_indices = True
    out.has_canonical_format = True
    return out


def shared_trust(trust, n_users):
    """``shared_csr`` of a trust matrix that is clean already (square, ``n_users`` a side, no self-loop, no
    stored zero, finite), else None (``clean_sparse_trust`` copies and cleans it)."""
    t = shared_csr(trust) if sp.issparse(trust) and trust.shape == (n_users, n_users) else None
    if t is None or not np.isfinite(t.data).all() or (t.data == 0).any():
        return None
    return None if (rows_of(t.indptr) == t.indices).any() else t


def clean_sparse_trust(trust, n_users):
    """Validate and copy a sparse trust matrix: square, matching size, finite; drop loops and zeros."""
    if not sp.issparse(trust):
        raise TypeError(f"trust must be a scipy sparse matrix or array, got {type(trust).__name__}")
    check_trust_shape(trust.shape, n_users)
    t = canonical_copy(trust, dtype=np.float64)
    check_finite_sparse(t, "trust")
    src = rows_of(t.indptr).astype(np.int64)
    return build_trust(src, t.indices.astype(np.int64), t.data, n_users)
