"""Top-N selection for every model: dense scores for a block of users, then selection with the seen-item
filter, ties broken by the lower item index. Memory is bounded by the batch, not by users x items."""
from __future__ import annotations

import numpy as np


def _check_n(n, name="n"):
    if not isinstance(n, (int, np.integer)) or isinstance(n, (bool, np.bool_)) or n <= 0:
        raise ValueError(f"{name}={n!r} must be a positive integer")
    return int(n)


def _batch_size(n_items, batch_size):
    if batch_size is not None:
        return _check_n(batch_size, "batch_size")
    return max(1, min(4096, (64 << 20) // (4 * max(n_items, 1))))


def select_top(scores, n):
    """Row-wise top-n of a dense score block: (indices, scores), ties to the lower column."""
    n_cols = scores.shape[1]
    k = min(n, n_cols)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    top = np.take_along_axis(scores, order, axis=1)
    if k < n:
        pad = n - k
        order = np.pad(order, ((0, 0), (0, pad)), constant_values=-1)
        top = np.pad(top, ((0, 0), (0, pad)), constant_values=-np.inf)
    order = np.where(np.isneginf(top), -1, order)
    return order.astype(np.int64), top.astype(np.float32)


def recommend(model, users, n=10, exclude_seen=True, items=None, batch_size=None):
    from .models.base import _index_array

    s = model._scoring()
    users = _index_array(users, model.n_users_, "users")
    n = _check_n(n)
    if not isinstance(exclude_seen, (bool, np.bool_)):
        raise TypeError(f"exclude_seen must be True or False, got {exclude_seen!r}")
    item_vectors, item_bias = s["item_vectors"], s["item_bias"]
    candidates = None
    if items is not None:
        candidates = np.unique(_index_array(items, model.n_items_, "items"))
        if len(candidates) == 0:
            raise ValueError("items is empty: give at least one candidate item (or items=None for all)")
        item_vectors, item_bias = item_vectors[candidates], item_bias[candidates]
    n_cols = item_vectors.shape[0]
    out_ids = np.full((len(users), n), -1, dtype=np.int64)
    out_scores = np.full((len(users), n), -np.inf, dtype=np.float32)
    step = _batch_size(n_cols, batch_size)
    for start in range(0, len(users), step):
        batch = users[start:start + step]
        scores = (s["user_vectors"][batch] @ item_vectors.T).astype(np.float32) + item_bias.astype(np.float32)
        if exclude_seen:
            _mask_seen(model, batch, scores, candidates)
        ids, top = select_top(scores, n)
        if candidates is not None:
            ids = np.where(ids >= 0, candidates[np.maximum(ids, 0)], -1)
        out_ids[start:start + len(batch)] = ids
        out_scores[start:start + len(batch)] = top
    return out_ids, out_scores


def _mask_seen(model, batch, scores, candidates):
    indptr, indices = model.seen_indptr_, model.seen_indices_
    counts = indptr[batch + 1] - indptr[batch]
    rows = np.repeat(np.arange(len(batch)), counts)
    cols = indices[np.concatenate([np.arange(indptr[u], indptr[u + 1]) for u in batch])] if len(batch) else []
    cols = np.asarray(cols, dtype=np.int64)
    if candidates is not None:
        pos = np.searchsorted(candidates, cols)
        keep = (pos < len(candidates)) & (candidates[np.minimum(pos, len(candidates) - 1)] == cols)
        rows, cols = rows[keep], pos[keep]
    scores[rows, cols] = -np.inf


def similar(vectors, queries, n):
    """Cosine top-n neighbours of ``vectors[queries]`` among all rows, excluding the query itself."""
    n = _check_n(n)
    norms = np.linalg.norm(vectors, axis=1)
    unit = vectors / np.where(norms > 0, norms, 1.0)[:, None]
    out_ids, out_scores = [], []
    step = _batch_size(len(vectors), None)
    for start in range(0, len(queries), step):
        q = queries[start:start + step]
        scores = (unit[q] @ unit.T).astype(np.float32)
        scores[np.arange(len(q)), q] = -np.inf
        ids, top = select_top(scores, n)
        out_ids.append(ids)
        out_scores.append(top)
    if not out_ids:
        return np.empty((0, n), np.int64), np.empty((0, n), np.float32)
    return np.concatenate(out_ids), np.concatenate(out_scores)
