"""``Model.recommend``'s query: ids in and out, exclusions per call or per user, and the unknown-user policy.

The scoring and selection are the model's ``_top_items`` (``topn.recommend`` on the host, ``_gpu.recommend``
for a model on CUDA); this module turns a call into what they take, in index space:

- users: raw ids (or indices under ``ids="index"``) -> indices; unknown ones raise, or under
  ``unknown="popular"`` get the most-rated training items (``popular_lists``);
- ``items`` (candidates) and a per-call ``exclude`` list -> one sorted array of candidate item indices (an
  excluded item is simply no candidate);
- a per-user ``exclude`` (a list of lists, one per queried user, or a dict user -> items) -> a CSR over the
  queried rows, merged with each user's training items by the back-end;
- results: item indices -> raw item ids typed as the model's id map (padding: ``_ids.fill_value``).
"""
from __future__ import annotations

import numpy as np

from .. import _arrays, _interop
from .._ids import as_id_array, unknown_ids
from .._validate import check_n
from ._queries import check_ids, host, id_space, results

UNKNOWN = ("error", "popular")


def recommend(model, users, n, exclude_seen, items, exclude, unknown, ids, batch_size):
    """``Model.recommend`` (see its docstring); the model is fitted."""
    check_ids(ids)
    n = check_n(n)
    if not isinstance(exclude_seen, (bool, np.bool_)):
        raise TypeError(f"exclude_seen must be True or False, got {exclude_seen!r}")
    if not isinstance(unknown, str) or unknown not in UNKNOWN:
        raise ValueError(f"unknown={unknown!r} must be 'error' (raise naming every unknown user) or 'popular' "
                         "(the most-rated training items for users the model has not seen)")
    items_space = id_space(model, "item")
    on_device = _interop.is_device_input(users)
    if (on_device and exclude is None and unknown == "error" and not id_space(model, "user").translates(ids)
            and getattr(model, "_device", "") == "cuda"):
        query, rows = None, users  # device indices go to the device as they are (checked there)
    else:
        query = id_space(model, "user").to_index(host(users, "users"), "users", ids, unknown_ok=unknown != "error")
        rows = query.indices
    columns = None
    if items is not None:
        columns = np.unique(items_space.to_index(host(items, "items"), "items", ids).indices)
    row_exclude = None
    if exclude is not None:
        flat, row_exclude = _exclusions(exclude, query, items_space, ids)
        if flat is not None and len(flat):
            columns = np.setdiff1d(np.arange(model.n_items_) if columns is None else columns, flat)
    known = None if query is None else query.known
    top, scores = _lists(model, rows, known, n, exclude_seen, columns, row_exclude, batch_size)
    return results(items_space, top, scores, ids, on_device)


def _lists(model, rows, known, n, exclude_seen, columns, row_exclude, batch_size):
    """The top-``n`` (indices, scores) of each row: the model's for the known users (``known`` None: all),
    ``popular_lists`` for the others."""
    scored = rows if known is None else rows[known]  # only the known users are scored
    if (columns is not None and len(columns) == 0) or len(scored) == 0:
        top = np.full((len(scored), n), -1, dtype=np.int64)  # no candidate item, or no known user
        scores = np.full((len(scored), n), -np.inf, dtype=np.float32)
    else:
        own = row_exclude if known is None or row_exclude is None else _take_rows(row_exclude, np.flatnonzero(known))
        top, scores = model._top_items(scored, n, exclude_seen, columns, own, batch_size)
    if known is None:
        return top, scores
    all_top = np.empty((len(rows), n), dtype=np.int64)
    all_scores = np.empty((len(rows), n), dtype=np.float32)
    all_top[known], all_scores[known] = host(top, "ids"), host(scores, "scores")
    popular_lists(model, all_top, all_scores, ~known, columns, row_exclude)
    return all_top, all_scores


def _is_list(v, object_ids):
    """Whether an element of ``exclude`` is one user's list of items (not an item id)."""
    if isinstance(v, tuple):
        return not object_ids  # tuples are ids only in an object id map
    return isinstance(v, (list, set, frozenset, np.ndarray)) or _interop.is_device_input(v)


def _exclusions(exclude, query, items_space, ids):
    """``(flat, rows)``: the item indices excluded for every user (or None), and a CSR ``(indptr int64,
    indices int32)`` over the queried rows of the items excluded per user (or None)."""
    object_ids = items_space.ids is not None and items_space.ids.dtype == object
    exclude = host(exclude, "exclude")
    keys = query.keys.tolist()
    if isinstance(exclude, dict):
        lists = []
        for key in keys:
            try:
                lists.append(exclude.get(key, ()))
            except TypeError:  # an unhashable key cannot be in the dict
                lists.append(())
        return None, _row_lists(lists, keys, items_space, ids)
    per_row = None
    if isinstance(exclude, np.ndarray):
        if exclude.ndim == 2:
            per_row = list(exclude)
    elif not isinstance(exclude, (str, bytes)) and hasattr(exclude, "__iter__"):
        values = list(exclude)
        if values and all(_is_list(v, object_ids) for v in values):
            per_row = [host(v, "exclude") for v in values]
    if per_row is None:
        return items_space.to_index(exclude, "exclude", ids).indices, None
    if len(per_row) != len(keys):
        raise ValueError(f"exclude has {len(per_row)} lists for {len(keys)} users; give one list per user (or "
                         "a dict user -> items, or one flat list for every user)")
    return None, _row_lists(per_row, keys, items_space, ids)


def _row_lists(lists, keys, items_space, ids):
    """One list of items per queried row (``keys``: the rows' users) -> a CSR of item indices (each row sorted,
    no repeats). Unknown items raise ``UnknownIdError`` naming each with its user."""
    lists = [list(v.tolist() if isinstance(v, np.ndarray) else v) for v in lists]
    lengths = np.array([len(v) for v in lists], dtype=np.int64)
    indptr = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    flat = [x for v in lists for x in v]
    found = items_space.to_index(as_id_array(flat) if flat else np.empty(0, np.int64), "exclude", ids,
                                 unknown_ok=True)
    if found.known is not None:
        bad = np.flatnonzero(~found.known)
        owners = np.searchsorted(indptr, bad, side="right") - 1
        err = unknown_ids("item", "exclude", found.keys[bad], bad)
        where = {}
        for v, o in zip(found.keys[bad].tolist(), owners.tolist()):
            where.setdefault(repr(v), keys[o])
        listed = ", ".join(f"{v} (user {u!r})" for v, u in list(where.items())[:20])
        more = f" and {len(where) - 20} more" if len(where) > 20 else ""
        err.args = (f"unknown item id{'s' if len(where) > 1 else ''} in exclude: {listed}{more}",)
        raise err
    rows = np.repeat(np.arange(len(lists), dtype=np.int64), lengths)
    n_items = max(items_space.n, 1)
    packed = np.unique(rows * n_items + found.indices)  # sorted by row, then item; repeats dropped
    counts = np.bincount(packed // n_items, minlength=len(lists))
    out_indptr = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum(counts, out=out_indptr[1:])
    return out_indptr, (packed % n_items).astype(np.int32)


def _take_rows(csr, rows):
    """The rows ``rows`` of a host CSR ``(indptr, indices)``, as a CSR."""
    indptr, indices = csr
    k, entry = _arrays.expand_rows(indptr, rows)
    return _arrays.offsets_of(k, len(rows)), indices[entry]


def popular_lists(model, top, scores, rows, columns, row_exclude):
    """Fill ``top`` / ``scores`` (host, in place) at the boolean ``rows`` with the ``unknown="popular"``
    fallback: the candidate items by number of training ratings (interactions), most first, ties to the lower
    index, leaving out the row's per-user exclusions; scores NaN (no model score), padding -1 / -inf."""
    n = top.shape[1]
    seen = np.asarray(host(model.seen_indices_, "seen_indices_"))
    counts = np.bincount(seen, minlength=model.n_items_) if len(seen) else np.zeros(model.n_items_, np.int64)
    candidates = np.arange(model.n_items_) if columns is None else np.asarray(columns)
    order = candidates[np.argsort(-counts[candidates], kind="stable")]  # most-rated first, ties: lower index
    k = min(n, len(order))
    top[rows, :k], top[rows, k:] = order[:k], -1  # every fallback row, then those with their own exclusions
    scores[rows, :k], scores[rows, k:] = np.nan, -np.inf
    if row_exclude is None:
        return
    indptr, indices = row_exclude
    for r in np.flatnonzero(rows & (np.diff(indptr) > 0)):
        excluded = indices[indptr[r]:indptr[r + 1]]
        head = order[:n + len(excluded)]
        listed = head[~np.isin(head, excluded)]
        k = min(n, len(listed))
        top[r, :k], top[r, k:] = listed[:k], -1
        scores[r, :k], scores[r, k:] = np.nan, -np.inf
