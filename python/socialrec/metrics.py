"""Evaluation metrics: rating error (rmse, mae) and ranking quality (``ranking``)."""
from __future__ import annotations

import math

import numpy as np

__all__ = ["rmse", "mae", "errors", "ranking", "ranking_per_user", "RANKING_METRICS"]

RANKING_METRICS = ("precision", "recall", "ndcg", "map", "hit_rate", "auc")


def errors(model, data, users=None):
    """Prediction errors ``r_ui − r̂_ui`` on ``data``'s ratings (optionally only for ``users``: user indices,
    checked as ``predict`` checks them)."""
    from .data import Dataset
    from .models.base import _index_array

    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a socialrec.Dataset, got {type(data).__name__}")
    model._require_fitted()
    if data.ratings.shape != (model.n_users_, model.n_items_):
        raise ValueError(f"data has shape {data.ratings.shape}, the model was fitted on "
                         f"{(model.n_users_, model.n_items_)}: evaluate on a split of the training dataset")
    u, i, v = data.user_item_arrays()
    if users is not None:
        keep = np.isin(u, _index_array(users, model.n_users_, "users"))
        u, i, v = u[keep], i[keep], v[keep]
    if len(u) == 0:
        raise ValueError("no ratings to evaluate" + ("" if users is None else " for the given users"))
    return v.astype(np.float64) - model.predict(u, i)


def rmse(model, data, users=None):
    """Root mean squared error of ``model`` on ``data`` (a Dataset with held-out ratings)."""
    e = errors(model, data, users)
    return float(np.sqrt(np.mean(e * e)))


def mae(model, data, users=None):
    """Mean absolute error of ``model`` on ``data``."""
    return float(np.mean(np.abs(errors(model, data, users))))


def _csr_of(data, shape, name):
    from .models.base import as_dataset

    m = as_dataset(data).ratings
    if m.shape != shape:
        raise ValueError(f"{name} has shape {m.shape}, the model was fitted on {shape}: both must share one "
                         "index space")
    return m.tocsr()


def ranking_per_user(model, test, train=None, k=10, users=None):
    """Per-user ranking metrics @k: ``(users, values)`` with ``values`` a ``(len(users), 6)`` float64 array whose
    columns are ``RANKING_METRICS`` (AUC is NaN where undefined). See :func:`ranking` for the definitions."""
    from . import topn
    from ._engine import resolve_threads
    from ._gpu import to_host
    from .models.base import _index_array

    model._require_fitted()
    k = topn.check_n(k, "k")
    # A list holds at most n_items items: the lists are cut there (a larger k only pads them with -1) and
    # precision, the one value that depends on k beyond the list, is rescaled to hits / k at the end.
    width = min(k, max(int(model.n_items_), 1))
    shape = (model.n_users_, model.n_items_)
    held_out = _csr_of(test, shape, "test")
    evaluated = np.flatnonzero(np.diff(held_out.indptr) > 0)
    if users is not None:
        evaluated = np.intersect1d(evaluated, _index_array(users, model.n_users_, "users"))
    if len(evaluated) == 0:
        raise ValueError("no user to evaluate: the test data has no interactions"
                         + ("" if users is None else " for the given users"))
    if getattr(model, "_device", "cpu") == "cuda" and width <= _cuda_topk_limit():
        return evaluated, _precision_at(_ranking_per_user_cuda(model, held_out, evaluated, train, width), width, k)
    if train is None:
        # The model's own lists, its training items excluded (a CUDA model gets here only for k above the
        # device selection's limit: its host copy ranks them).
        lister = model._host_copy() if getattr(model, "_device", "cpu") == "cuda" else model
        top, _ = lister.recommend(evaluated, n=width)
        exclude = (to_host(model.seen_indptr_), to_host(model.seen_indices_))
    else:
        seen = _csr_of(train, shape, "train")
        exclude = (seen.indptr, seen.indices)
    exclude = (np.ascontiguousarray(exclude[0], dtype=np.int64), np.ascontiguousarray(exclude[1], dtype=np.int32))
    if train is not None:
        host = model._host_copy() if getattr(model, "_device", "cpu") != "cpu" else model
        top, _ = topn.recommend(host, evaluated, n=width, exclude=exclude)
    top = np.ascontiguousarray(to_host(top), dtype=np.int64)
    from . import _core

    values = _core.ranking_metrics(
        top, evaluated, held_out.indptr.astype(np.int64), held_out.indices.astype(np.int32),
        exclude_indptr=exclude[0], exclude_indices=exclude[1], n_items=model.n_items_,
        threads=resolve_threads(model.num_threads))
    return evaluated, _precision_at(values, width, k)


def _precision_at(values, width, k):
    """``values`` computed on lists of ``width`` ≤ k items, with precision hits / width turned into hits / k
    (exactly: the hit count is recovered as an integer). Every other metric is the same for both lengths
    once ``width`` is n_items: IDCG and MAP use min(k, |T_u|) and |T_u| ≤ n_items; the list covers C_u."""
    if width != k:
        values[:, 0] = np.rint(values[:, 0] * width) / k
    return values


def _cuda_topk_limit():
    from . import _backend

    return getattr(_backend.cuda_module(), "TOPK_MAX_N", 0)


def _ranking_per_user_cuda(model, held_out, evaluated, train, k):
    """ranking_per_user's values for a model on CUDA: top lists, exclusion and metrics on the device
    (``_gpu.ranking_metrics``, one warp per user); same definitions and values as the CPU path."""
    from . import _gpu

    cp = _gpu.cupy_module()
    users = cp.asarray(evaluated, dtype=cp.int64)
    if train is None:
        exclude = (model.seen_indptr_, model.seen_indices_)
        top, _ = model.recommend(users, n=k)
    else:
        seen = _csr_of(train, (model.n_users_, model.n_items_), "train")
        exclude = (cp.asarray(seen.indptr.astype(np.int64)), cp.asarray(seen.indices.astype(np.int32)))
        exclude = _gpu.sorted_csr(*exclude)
        top, _ = _gpu.recommend(model, users, n=k, exclude=exclude)
    test = (cp.asarray(held_out.indptr.astype(np.int64)), cp.asarray(held_out.indices.astype(np.int32)))
    return _gpu.ranking_metrics(top, users, test, exclude, model.n_items_).get()


def ranking(model, test, train=None, k=10, users=None):
    """Ranking quality @k of ``model``'s top-k lists on ``test``'s held-out interactions.

    For each evaluated user u the model ranks the candidate items C_u = all items minus S_u (S_u: u's
    items in ``train``, or the model's own training interactions when ``train`` is None), ties to the lower
    item index, and L_u is its top-k list. T_u is u's set of test items (every stored entry counts as
    relevant, whatever its value); hits = |L_u ∩ T_u|. Per user:

    - ``precision`` = hits / k;
    - ``recall`` = hits / |T_u|;
    - ``ndcg`` = DCG / IDCG with DCG = Σ_{r: L_u[r] ∈ T_u} 1 / log2(r + 2) (r = 0, 1, ...) and IDCG the
      same sum over the first min(k, |T_u|) positions (the PEERS.md LastFM protocol);
    - ``map`` (average precision) = Σ_{r: L_u[r] ∈ T_u} P@(r+1) / min(k, |T_u|);
    - ``hit_rate`` = 1 if hits > 0 else 0;
    - ``auc`` (AUC@k) = the fraction of pairs (p, q), p a positive candidate (T_u minus S_u) and q a
      negative one (C_u minus T_u), that the truncated ranking orders correctly, where the ranking is
      L_u followed by all other candidates tied: a pair counts 1 when p is in L_u above q (q later in L_u
      or outside it), 1/2 when both are outside L_u, 0 otherwise. With k ≥ |C_u| this is the exact AUC
      of the full ranking. Undefined (left out of the mean) for users with no positive or no negative
      candidate.

    Each value is the mean over the evaluated users: those with at least one test item (restricted to
    ``users`` when given). Test items that are also in S_u stay in T_u (they cannot be hit).

    Parameters
    ----------
    model : fitted Model
    test : Dataset or scipy.sparse matrix
        Held-out interactions, in the model's index space.
    train : Dataset or scipy.sparse matrix, optional
        Items to exclude from each user's ranking; default the model's own training interactions.
    k : int
        List length (cut-off).
    users : array-like of int, optional
        Evaluate only these users (those of them with test items).

    Returns
    -------
    dict with keys precision, recall, ndcg, map, hit_rate, auc (floats; auc is NaN when undefined for
    every evaluated user).
    """
    _, values = ranking_per_user(model, test, train=train, k=k, users=users)
    out = {}
    for j, name in enumerate(RANKING_METRICS):
        column = values[:, j]
        column = column[~np.isnan(column)]
        out[name] = float(np.mean(column)) if len(column) else math.nan
    return out
