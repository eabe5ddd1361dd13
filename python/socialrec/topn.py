"""Top-N selection for every model: ``recommend``, ``similar_items``, ``similar_users``.

For a block of users the scores ``user_vectors[block] @ item_vectors.T`` (+ item bias) are dense products
(BLAS, through NumPy), one tile of items at a time into a reused buffer; ``socialrec._core.topk_select``
merges each tile into every row's best ``n`` items in C++ (GIL released) right after the product wrote it,
leaving out the user's training items and -inf / NaN scores, ties going to the lower item index. With
``num_threads`` > 1 the blocks of users are shared among that many threads, each with a one-thread BLAS.
Memory is bounded by one tile per thread (``batch_size`` users x at most 64 MiB of scores), never by
users x items. ``socialrec.reference.ranking`` is the specification these functions must equal.
"""
from __future__ import annotations

import contextlib
import threading

import numpy as np

from . import _arrays, _core, _engine
from ._validate import check_n, index_array

__all__ = ["recommend", "similar", "select", "select_top"]

_BLOCK_USERS = 256         # users per dense product (BLAS is efficient from a few hundred rows on)
_TILE_BYTES = _engine.TILE_BYTES  # scores per tile and thread: at most 64 MiB (all items at once up to 65k items)


def _tiles(n_cols, itemsize, batch_size, tile_items):
    """(users per block, items per tile): a tile of scores stays within _TILE_BYTES."""
    users = _BLOCK_USERS if batch_size is None else check_n(batch_size, "batch_size")
    if tile_items is None:  # narrower tiles for larger batches: the bound holds for any batch_size
        tile_items = max(1, _TILE_BYTES // (itemsize * users))
    return users, max(1, min(check_n(tile_items, "tile_items"), n_cols))


_CONTROLLER = None
_BLAS_LOCK = threading.Lock()
_BLAS_HOLDERS = 0      # calls inside blas_threads right now (any thread)
_BLAS_LIMITER = None   # the limit of the first of them, which restores the counts found before it


@contextlib.contextmanager
def blas_threads(threads):
    """Context manager limiting the BLAS libraries NumPy loaded to ``threads`` threads (threadpoolctl).

    The limit is process-wide, so overlapping calls from several threads share one: the first to enter sets
    it, the last to leave restores the counts found by the first (each call restoring what it found would
    leave BLAS pinned whenever one call leaves before another that entered after it)."""
    global _CONTROLLER, _BLAS_HOLDERS, _BLAS_LIMITER
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        yield
        return
    with _BLAS_LOCK:
        if _CONTROLLER is None:
            _CONTROLLER = ThreadpoolController()
        if _BLAS_HOLDERS == 0:
            _BLAS_LIMITER = _CONTROLLER.limit(limits=int(threads), user_api="blas")
        _BLAS_HOLDERS += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _BLAS_HOLDERS -= 1
            if _BLAS_HOLDERS == 0:
                _BLAS_LIMITER.restore_original_limits()
                _BLAS_LIMITER = None


def _csr_pair(indptr, indices):
    return np.ascontiguousarray(indptr, dtype=np.int64), np.ascontiguousarray(indices, dtype=np.int32)


def select(scores, n, item_offset=None, columns=None, row_list=None, exclude=None, threads=1):
    """Row-wise top-``n`` of a dense score block in C++ (``socialrec.reference.ranking.select`` is its
    specification). Returns ``(ids int64, scores float32)`` of shape ``(rows, n)``."""
    n = check_n(n)
    scores = np.asarray(scores)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D, got shape {scores.shape}")
    scores = np.ascontiguousarray(scores, dtype=_float_dtype(scores.dtype, np.float64))
    best_ids = np.empty((scores.shape[0], n), np.int64)
    best_scores = np.empty((scores.shape[0], n), scores.dtype)
    _select_tile(scores, n, item_offset, columns, 0, row_list, _sorted_exclusion(exclude, row_list), best_ids,
                 best_scores, False, threads)
    return best_ids, best_scores.astype(np.float32, copy=False)


def select_top(scores, n, **kwargs):
    """Row-wise top-``n`` of a dense score block: ``(ids, scores)``, ties to the lower column, -inf and NaN
    scores never listed, -1 / -inf padding. The contract the CUDA kernel mirrors (``_gpu.select_top``)."""
    return select(scores, n, **kwargs)


def _float_dtype(dtype, other=np.float32):
    """The dtype scores are computed in: float64 for float64 input, float32 for float32, else ``other``."""
    if dtype == np.float64:
        return np.dtype(np.float64)
    return np.dtype(np.float32 if dtype == np.float32 else other)


def _select_tile(tile, n, item_offset, columns, column_start, row_list, exclude, best_ids, best_scores, merge,
                 threads, finish=True):
    _core.topk_select(
        tile, n,
        item_offset=None if item_offset is None else np.ascontiguousarray(item_offset, dtype=tile.dtype),
        columns=None if columns is None else np.ascontiguousarray(columns, dtype=np.int64),
        column_start=int(column_start),
        row_list=None if row_list is None else np.ascontiguousarray(row_list, dtype=np.int64),
        exclude_indptr=None if exclude is None else exclude[0],
        exclude_indices=None if exclude is None else exclude[1], check_sorted=False,
        best_ids=best_ids, best_scores=best_scores, merge=bool(merge), finish=bool(finish),
        threads=_engine.resolve_threads(threads))


def _sorted_exclusion(exclude, row_list):
    """``exclude`` as (int64 indptr, int32 indices) whose rows named by ``row_list`` are sorted (a sorted copy
    only when they are not: socialrec's own CSR matrices are canonical)."""
    if exclude is None or row_list is None:
        return None
    indptr, indices = _csr_pair(*exclude)
    if not _core.lists_sorted(indptr, indices, np.ascontiguousarray(row_list, dtype=np.int64)):
        import scipy.sparse as sp

        m = sp.csr_matrix((np.ones(len(indices), np.int8), indices, indptr),
                          shape=(len(indptr) - 1, int(indices.max()) + 1 if len(indices) else 0))
        m.sort_indices()
        indptr, indices = _csr_pair(m.indptr, m.indices)
    return indptr, indices


def _top_rows(query_vectors, rows, targets, n, *, item_offset=None, columns=None, row_list=None, exclude=None,
              threads=1, batch_size=None, tile_items=None):
    """Top-``n`` columns of ``query_vectors[rows] @ targets.T`` (+ item_offset) per row.

    Rows go in blocks of ``batch_size``; each block's product is computed one tile of items at a time into a
    reused buffer and merged into the block's lists right away, so memory stays at one tile per thread.
    With ``threads`` > 1 the blocks are shared among that many Python threads (NumPy's product and the C++
    selection both release the GIL), each running a single-threaded BLAS: alternating a multi-threaded BLAS
    with a multi-threaded selection on every tile would make two thread pools take turns on the cores.
    """
    dtype = _float_dtype(query_vectors.dtype)
    targets = np.ascontiguousarray(targets, dtype=dtype)
    n_rows, n_cols = len(rows), targets.shape[0]
    best_ids = np.full((n_rows, n), -1, np.int64)
    best_scores = np.full((n_rows, n), -np.inf, dtype)
    if batch_size is not None:  # a block never holds more rows than there are (batch_size=2**30, one user)
        batch_size = min(check_n(batch_size, "batch_size"), max(n_rows, 1))
    step, width = _tiles(n_cols, dtype.itemsize, batch_size, tile_items)
    threads = max(1, int(threads))
    if batch_size is None and threads > 1:  # enough blocks to keep every thread busy
        step = max(1, min(step, -(-n_rows // threads)))
    blocks = [(start, min(start + step, n_rows)) for start in range(0, n_rows, step)]
    exclude = _sorted_exclusion(exclude, row_list)

    def work(my_blocks):
        buffer = np.empty(step * width, dtype=dtype)
        for start, stop in my_blocks:
            queries = query_vectors[rows[start:stop]]
            lists = None if row_list is None else row_list[start:stop]
            for first in range(0, n_cols, width):
                last = min(first + width, n_cols)
                tile = buffer[:(stop - start) * (last - first)].reshape(stop - start, last - first)
                np.matmul(queries, targets[first:last].T, out=tile)
                _select_tile(tile, n, None if item_offset is None else item_offset[first:last],
                             None if columns is None else columns[first:last], first, lists, exclude,
                             best_ids[start:stop], best_scores[start:stop], first > 0, 1, last == n_cols)

    workers = min(threads, len(blocks))
    with blas_threads(1):
        if workers <= 1:
            work(blocks)
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=workers) as pool:
                for future in [pool.submit(work, blocks[w::workers]) for w in range(workers)]:
                    future.result()
    return best_ids, best_scores.astype(np.float32, copy=False)


def recommend(model, users, n=10, exclude_seen=True, items=None, batch_size=None, exclude=None, tile_items=None,
              row_exclude=None):
    """Top-``n`` items for each of ``users`` (indices; see ``Model.recommend``, which maps ids).

    ``exclude=(indptr, indices)`` replaces the model's training interactions as the excluded items
    (``metrics.ranking`` passes a ``train`` dataset this way); it applies only when ``exclude_seen``.
    ``row_exclude=(indptr, indices)``: a CSR with one row per entry of ``users``, items left out of that row's
    list on top of those (``recommend(exclude=...)`` per user).
    """
    s = model._scoring()
    users = index_array(users, model.n_users_, "users")
    n = check_n(n)
    if not isinstance(exclude_seen, (bool, np.bool_)):
        raise TypeError(f"exclude_seen must be True or False, got {exclude_seen!r}")
    user_vectors, item_vectors, item_bias = s["user_vectors"], s["item_vectors"], s["item_bias"]
    dtype = _float_dtype(user_vectors.dtype)
    user_vectors = np.ascontiguousarray(user_vectors, dtype=dtype)
    columns = None
    if items is not None:
        columns = np.unique(index_array(items, model.n_items_, "items"))
        item_vectors, item_bias = item_vectors[columns], item_bias[columns]
    # x_ui = global_bias + user_bias[u] + (item_bias[i] + p_u . q_i): the ranking needs only the last part,
    # which is also the score returned (as the CUDA back-end does).
    item_offset = np.ascontiguousarray(item_bias, dtype=dtype) if np.any(item_bias) else None
    if exclude_seen:
        exclude = (model.seen_indptr_, model.seen_indices_) if exclude is None else exclude
    else:
        exclude = None
    row_list = users
    if row_exclude is not None:  # one exclusion row per query row: the user's row merged into it
        row_list = np.arange(len(users), dtype=np.int64)
        exclude = _csr_pair(*row_exclude) if exclude is None else _csr_pair(
            *_arrays.union_rows(exclude[0], exclude[1], users, row_exclude[0], row_exclude[1], model.n_items_))
    return _top_rows(user_vectors, users, item_vectors, n, item_offset=item_offset, columns=columns,
                     row_list=row_list if exclude is not None else None, exclude=exclude,
                     threads=_engine.resolve_threads(model.num_threads), batch_size=batch_size,
                     tile_items=tile_items)


def similar(vectors, queries, n, threads=1, batch_size=None, tile_items=None):
    """Cosine top-``n`` neighbours of ``vectors[queries]`` among all rows of ``vectors``, excluding the query
    itself (a zero vector has cosine 0 with every row)."""
    n = check_n(n)
    vectors = np.asarray(vectors)
    dtype = _float_dtype(vectors.dtype)
    vectors = vectors.astype(dtype, copy=False)
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))
    unit = vectors / np.where(norms > 0, norms, 1).astype(dtype)[:, None]
    queries = np.asarray(queries, dtype=np.int64)
    # Each query's own row is its exclusion list: CSR row r holds the single id queries[r].
    exclude = (np.arange(len(queries) + 1, dtype=np.int64), queries.astype(np.int32))
    return _top_rows(unit, queries, unit, n, row_list=np.arange(len(queries), dtype=np.int64), exclude=exclude,
                     threads=threads, batch_size=batch_size, tile_items=tile_items)
