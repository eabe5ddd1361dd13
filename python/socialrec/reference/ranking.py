"""Executable specification of top-N selection and of the ranking metrics (plain NumPy, loops on purpose).

``socialrec.topn`` and ``socialrec.metrics.ranking`` must return exactly what these functions return:

- :func:`select`: the row-wise top-n of a score block by a stable argsort (ties to the lower item id),
  leaving out excluded items and -inf / NaN scores, padded with -1 / -inf;
- :func:`recommend`, :func:`similar`: the scores that the dense product gives, then :func:`select`;
- :func:`ranking_metrics`, :func:`ranking`: precision, recall, NDCG, MAP, hit rate and AUC @k per user
  (definitions in ``socialrec.metrics.ranking``), and their means, over the relevant test entries
  (:func:`relevant_entries`).
"""
from __future__ import annotations

import math

import numpy as np

from ._spec import module_for, spec_of

__all__ = ["select", "recommend", "similar", "ranking_metrics", "ranking", "METRICS"]

METRICS = ("precision", "recall", "ndcg", "map", "hit_rate", "auc")


def _row(indptr, indices, r):
    if indptr is None:
        return set()
    return set(int(x) for x in indices[indptr[r]:indptr[r + 1]])


def select(scores, n, item_offset=None, columns=None, row_list=None, exclude=None):
    """Row-wise top-``n`` of ``scores`` (+ ``item_offset``), best first.

    Parameters
    ----------
    scores : ndarray (rows, cols), float32 or float64
    n : int
    item_offset : ndarray (cols,), optional
        Added to every row (same dtype) before ranking.
    columns : ndarray (cols,) of int, optional
        Item id of each column, increasing (default: the column index).
    row_list, exclude : optional
        ``exclude = (indptr, indices)`` CSR of item ids; row ``r`` leaves out the ids of list
        ``row_list[r]``.

    Returns
    -------
    (ids int64, scores float32), shape (rows, n); -1 / -inf where fewer than n items qualify.
    """
    scores = np.asarray(scores)
    rows, cols = scores.shape
    ids_of = np.arange(cols, dtype=np.int64) if columns is None else np.asarray(columns, dtype=np.int64)
    out_ids = np.full((rows, n), -1, dtype=np.int64)
    out_scores = np.full((rows, n), -np.inf, dtype=np.float32)
    for r in range(rows):
        s = scores[r] if item_offset is None else scores[r] + item_offset  # same dtype as the kernel
        banned = set() if row_list is None else _row(exclude[0], exclude[1], int(row_list[r]))
        keep = np.array([s[c] > -np.inf and int(ids_of[c]) not in banned for c in range(cols)], dtype=bool)
        kept = np.flatnonzero(keep)
        order = kept[np.argsort(-s[kept], kind="stable")][:n]  # stable: equal scores keep the id order
        out_ids[r, :len(order)] = ids_of[order]
        out_scores[r, :len(order)] = s[order].astype(np.float32)
    return out_ids, out_scores


def recommend(model, users, n=10, exclude_seen=True, items=None, exclude=None):
    """Reference of ``model.recommend``: one user at a time, scores ``user_vectors[u] @ item_vectors.T`` (+ item
    bias) in the model's dtype, returned as float32. The vectors are the model's reference module's
    ``scoring(spec, model.parameters_)``; the seen items, the fitted ``seen_indptr_`` / ``seen_indices_``."""
    spec = spec_of(model)
    scoring = getattr(module_for(spec.name), "scoring", None)
    if scoring is None:
        raise NotImplementedError(f"socialrec.reference has no scoring rule for {spec.name} yet")
    user_vectors, item_vectors, item_bias = scoring(spec, model.parameters_)
    users = np.asarray(users, dtype=np.int64)
    columns = None
    if items is not None:
        columns = np.unique(np.asarray(items, dtype=np.int64))
        item_vectors, item_bias = item_vectors[columns], item_bias[columns]
    if exclude is None and exclude_seen:
        exclude = (model.seen_indptr_, model.seen_indices_)
    out_ids = np.full((len(users), n), -1, dtype=np.int64)
    out_scores = np.full((len(users), n), -np.inf, dtype=np.float32)
    for r, u in enumerate(users):
        row = (user_vectors[u][None, :] @ item_vectors.T).astype(item_vectors.dtype)
        ids, top = select(row, n, item_offset=item_bias if np.any(item_bias) else None, columns=columns,
                          row_list=None if exclude is None else [u], exclude=exclude)
        out_ids[r], out_scores[r] = ids[0], top[0]
    return out_ids, out_scores


def similar(vectors, queries, n):
    """Reference of ``similar_items`` / ``similar_users``: cosine of the rows of ``vectors`` (a zero row has
    cosine 0 with everything), excluding the query itself."""
    vectors = np.asarray(vectors)
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))
    unit = vectors / np.where(norms > 0, norms, 1).astype(vectors.dtype)[:, None]
    out_ids = np.full((len(queries), n), -1, dtype=np.int64)
    out_scores = np.full((len(queries), n), -np.inf, dtype=np.float32)
    for r, q in enumerate(queries):
        row = unit[q][None, :] @ unit.T
        ids, top = select(row, n, row_list=[0], exclude=(np.array([0, 1]), np.array([q])))
        out_ids[r], out_scores[r] = ids[0], top[0]
    return out_ids, out_scores


def ranking_metrics(top_ids, users, test, exclude, n_items):
    """Per-list metrics @k (k = ``top_ids.shape[1]``) as a (rows, 6) float64 array, columns ``METRICS``.

    ``test`` and ``exclude`` are ``(indptr, indices)`` CSR pairs indexed by user (``exclude`` may be None):
    T_u = the distinct test items of u, S_u = the distinct excluded items, candidates C_u = all items
    minus S_u, positives P_u = T_u minus S_u, negatives N_u = C_u minus P_u.
    """
    top_ids = np.asarray(top_ids)
    k = top_ids.shape[1]
    out = np.zeros((len(top_ids), len(METRICS)))
    for r, u in enumerate(users):
        relevant = set(i for i in _row(test[0], test[1], u) if 0 <= i < n_items)
        excluded = set() if exclude is None else set(i for i in _row(exclude[0], exclude[1], u) if 0 <= i < n_items)
        positives = relevant - excluded
        n_negative = n_items - len(excluded) - len(positives)
        listed = [int(i) for i in top_ids[r] if i >= 0]
        hit = [i in relevant for i in listed]
        hits = sum(hit)
        dcg = sum(1.0 / math.log2(j + 2) for j, h in enumerate(hit) if h)
        ideal = min(k, len(relevant))
        idcg = sum(1.0 / math.log2(j + 2) for j in range(ideal))
        ap = sum(sum(hit[:j + 1]) / (j + 1) for j, h in enumerate(hit) if h)
        # AUC: pairs (p, q) of a positive and a negative candidate; p above q counts 1, both outside the list
        # (tied) counts 1/2.
        pairs = 0.0
        for p in positives:
            for q in range(n_items):
                if q in excluded or q in positives:
                    continue
                rp = listed.index(p) if p in listed else None
                rq = listed.index(q) if q in listed else None
                if rp is not None and (rq is None or rp < rq):
                    pairs += 1.0
                elif rp is None and rq is None:
                    pairs += 0.5
        out[r] = [
            hits / k,
            hits / len(relevant) if relevant else 0.0,
            dcg / idcg if idcg > 0 else 0.0,
            ap / ideal if ideal > 0 else 0.0,
            1.0 if hits else 0.0,
            pairs / (len(positives) * n_negative) if positives and n_negative > 0 else math.nan,
        ]
    return out


# the models that learn from implicit feedback (a stored value is a count, a click or 1), by class name
IMPLICIT_FEEDBACK_MODELS = ("BPR", "SBPR", "ALS", "SocialALS")


def relevant_entries(model, test_csr, relevant=None):
    """``test_csr`` keeping its relevant entries only (values kept):

    - ``relevant`` a number t: the entries with value >= t; ``"all"``: every entry;
    - ``relevant`` None: every entry for the models of ``IMPLICIT_FEEDBACK_MODELS``, for a model whose
      fitted rating scale (r_min, r_max) has r_min == r_max and for a test matrix whose values are all 1 (0/1
      data); for any other model (it predicts ratings) the entries with value >= r_min + 0.6 (r_max - r_min),
      the upper 40% of the scale.
    """
    spec = spec_of(model)
    if isinstance(relevant, str) and relevant == "all":
        return test_csr
    if relevant is None:
        lo, hi = spec.rating_scale
        binary = all(float(v) == 1.0 for v in test_csr.data)
        if spec.name in IMPLICIT_FEEDBACK_MODELS or not lo < hi or binary:
            return test_csr
        relevant = lo + 0.6 * (hi - lo)
    coo = test_csr.tocoo()
    keep = [j for j in range(coo.nnz) if coo.data[j] >= relevant]
    kept = type(test_csr)((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=test_csr.shape).tocsr()
    kept.sort_indices()
    return kept


def ranking(model, test, train=None, k=10, users=None, relevant=None):
    """Reference of ``socialrec.metrics.ranking``: means over the evaluated users (AUC over those where it is
    defined); T_u holds u's relevant test items (``relevant_entries``)."""
    test_csr = relevant_entries(model, test.ratings.tocsr(), relevant)
    test_csr.sort_indices()
    counts = np.diff(test_csr.indptr)
    evaluated = np.flatnonzero(counts > 0)
    if users is not None:
        evaluated = np.intersect1d(evaluated, np.asarray(users, dtype=np.int64))
    if train is None:
        exclude = (model.seen_indptr_, model.seen_indices_)
    else:
        t = train.ratings.tocsr()
        exclude = (t.indptr, t.indices)
    top, _ = recommend(model, evaluated, n=k, exclude=exclude)
    per_user = ranking_metrics(top, evaluated, (test_csr.indptr, test_csr.indices), exclude, model.n_items_)
    means = {}
    for j, name in enumerate(METRICS):
        col = per_user[:, j]
        col = col[~np.isnan(col)]
        means[name] = float(np.mean(col)) if len(col) else math.nan
    return means
