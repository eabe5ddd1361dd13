"""Evaluation metrics: rating error (rmse, mae) and ranking quality (``ranking``)."""
from __future__ import annotations

import math

import numpy as np

from . import _core, _frames, _links
from ._align import model_space
from ._validate import check_n, is_real
from .data import Dataset

__all__ = ["rmse", "mae", "errors", "ranking", "ranking_per_user", "link_prediction", "RANKING_METRICS"]

RANKING_METRICS: tuple = ("precision", "recall", "ndcg", "map", "hit_rate", "auc")

# relevant=None on a rating model: test ratings in the upper 40% of its rating scale count as relevant
RELEVANT_FRACTION = 0.6


def _user_indices(model, users, ids):
    """``users=`` of a metric as user indices: raw ids of the data the model was fitted on, or indices with
    ``ids="index"``, checked as ``predict`` checks them (an unknown user raises, naming each)."""
    return model._query("user", users, "users", ids)


def errors(model, data, users=None, ids="raw"):
    """Prediction errors ``r_ui − r̂_ui`` on ``data``'s ratings (optionally only for ``users``: raw user ids of
    the data the model was fitted on, or indices with ``ids="index"``). ``data``: a Dataset in the model's id
    space (split from the data it was fitted on, or index-space data of its shape), or a pandas DataFrame of raw
    ids (``user``, ``item``, ``rating``), mapped through the model's ids: an id it does not know raises
    ``UnknownIdError``; a Dataset with other ids raises ``ValueError``."""
    if not (isinstance(data, Dataset) or _frames.is_frame(data)):
        raise TypeError(f"data must be a socialrec.Dataset or a pandas DataFrame of raw ids, got "
                        f"{type(data).__name__}")
    model._require_fitted()
    data = model_space(model, data, "data")
    u, i, v = data.user_item_arrays()
    if users is not None:
        keep = np.isin(u, _user_indices(model, users, ids))
        u, i, v = u[keep], i[keep], v[keep]
    if len(u) == 0:
        raise ValueError("no ratings to evaluate" + ("" if users is None else " for the given users"))
    return v.astype(np.float64) - model.predict(u, i, ids="index")  # data's index arrays


def rmse(model, data, users=None, ids="raw"):
    """Root mean squared error of ``model`` on ``data`` (a Dataset with held-out ratings); ``users`` as in
    :func:`errors`."""
    e = errors(model, data, users, ids)
    return float(np.sqrt(np.mean(e * e)))


def mae(model, data, users=None, ids="raw"):
    """Mean absolute error of ``model`` on ``data``; ``users`` as in :func:`errors`."""
    return float(np.mean(np.abs(errors(model, data, users, ids))))


def _csr_of(model, data, name):
    """``data``'s ratings (host CSR) in the model's id space (``_align.model_space``)."""
    return model_space(model, data, name).ratings.tocsr()


def _csr_pair(m):
    """(indptr int64, indices int32) of a host CSR matrix, C-contiguous: the form the metric kernels take."""
    return np.ascontiguousarray(m.indptr, dtype=np.int64), np.ascontiguousarray(m.indices, dtype=np.int32)


def relevance_threshold(model, relevant=None, values=None):
    """The smallest test value that counts as relevant under ``relevant`` (see :func:`ranking`), or None when
    every stored test entry counts: ``relevant`` itself when it is a number; for ``None``, on a model that
    predicts ratings with a training scale ``(r_min, r_max)``, ``r_min < r_max``, and test ``values`` not all
    1, the value ``r_min + RELEVANT_FRACTION (r_max − r_min)``, else (ranking models, 0/1 data) None."""
    if isinstance(relevant, str):
        if relevant != "all":
            raise ValueError(f"relevant must be None, 'all' or a number, got {relevant!r}")
        return None
    if relevant is not None:
        if not is_real(relevant):
            raise TypeError(f"relevant must be None, 'all' or a finite number, got {relevant!r}")
        return float(relevant)
    scale = getattr(model, "rating_scale_", None)
    if getattr(model, "_link", "identity") == "score" or scale is None or not scale[0] < scale[1]:
        return None
    if values is not None and np.all(values == 1):  # 0/1 data (binarised): no grades to threshold
        return None
    return float(scale[0]) + RELEVANT_FRACTION * (float(scale[1]) - float(scale[0]))


def _relevant_only(held_out, threshold):
    """``held_out`` (host CSR) keeping the entries with value >= ``threshold`` (all of them for None)."""
    if threshold is None:
        return held_out
    kept = held_out.copy()
    kept.data = np.where(kept.data >= threshold, 1.0, 0.0).astype(kept.data.dtype)
    kept.eliminate_zeros()
    return kept


def ranking_per_user(model, test, train=None, k=10, users=None, relevant=None, ids="raw"):
    """Per-user ranking metrics @k: ``(users, values)`` with ``values`` a ``(len(users), 6)`` float64 array whose
    columns are ``RANKING_METRICS`` (AUC is NaN where undefined). See :func:`ranking` for the definitions
    (``relevant`` included). ``users`` (in and out) are raw user ids of the data the model was fitted on, or
    indices with ``ids="index"``; the evaluated users come back in index order.

    The model makes the top lists and scores them (``Model._ranking_values``: on the host with
    ``list_metrics``, or on the device for a model on CUDA); this function picks the users and the excluded
    items."""
    model._require_fitted()
    k = check_n(k, "k")
    # A list holds at most n_items items: the lists are cut there (a larger k only pads them with -1) and
    # precision, the one value that depends on k beyond the list, is rescaled to hits / k at the end.
    width = min(k, max(int(model.n_items_), 1))
    held_out = _csr_of(model, test, "test")
    threshold = relevance_threshold(model, relevant, held_out.data)
    held_out = _relevant_only(held_out, threshold)  # T_u: the relevant test items
    evaluated = np.flatnonzero(np.diff(held_out.indptr) > 0)
    if users is not None:
        evaluated = np.intersect1d(evaluated, _user_indices(model, users, ids))
    if len(evaluated) == 0:
        raise ValueError("no user to evaluate: the test data has no "
                         + ("interactions" if threshold is None else f"relevant entries (value >= {threshold:g})")
                         + ("" if users is None else " for the given users"))
    exclude = None if train is None else _csr_pair(_csr_of(model, train, "train"))
    values = model._ranking_values(evaluated, _csr_pair(held_out), exclude, width)
    return model._ids_of("user", evaluated, ids), _precision_at(values, width, k)


def list_metrics(top, users, test, exclude, n_items, threads):
    """Per-list ranking metrics on the host (``socialrec._core.ranking_metrics``): the ``(rows, 6)`` float64
    values of the top lists ``top`` (rows x k item ids, -1 padded) of ``users``, with ``test`` and ``exclude``
    host CSR pairs (indptr int64, indices int32) of the held-out and the excluded items."""
    return _core.ranking_metrics(
        np.ascontiguousarray(top, dtype=np.int64), users, test[0], test[1], exclude_indptr=exclude[0],
        exclude_indices=exclude[1], n_items=n_items, threads=threads)


def _precision_at(values, width, k):
    """``values`` computed on lists of ``width`` ≤ k items, with precision hits / width turned into hits / k
    (exactly: the hit count is recovered as an integer). Every other metric is the same for both lengths
    once ``width`` is n_items: IDCG and MAP use min(k, |T_u|) and |T_u| ≤ n_items; the list covers C_u."""
    if width != k:
        values[:, 0] = np.rint(values[:, 0] * width) / k
    return values


def ranking(model, test, train=None, k=10, users=None, relevant=None, ids="raw"):
    """Ranking quality @k of ``model``'s top-k lists on ``test``'s held-out interactions.

    For each evaluated user u the model ranks the candidate items C_u = all items minus S_u (S_u: u's
    items in ``train``, or the model's own training interactions when ``train`` is None), ties to the lower
    item index, and L_u is its top-k list. T_u is u's set of relevant test items (``relevant`` below);
    ``hits = |L_u ∩ T_u|``. Per user:

    - ``precision`` = hits / k;
    - ``recall`` = ``hits / |T_u|``;
    - ``ndcg`` = DCG / IDCG with DCG = Σ_{r: L_u[r] ∈ T_u} 1 / log2(r + 2) (r = 0, 1, ...) and IDCG the
      same sum over the first ``min(k, |T_u|)`` positions (the PEERS.md LastFM protocol);
    - ``map`` (average precision) = Σ_{r: L_u[r] ∈ T_u} P@(r+1) / ``min(k, |T_u|)``;
    - ``hit_rate`` = 1 if hits > 0 else 0;
    - ``auc`` (AUC@k) = the fraction of pairs (p, q), p a positive candidate (T_u minus S_u) and q a
      negative one (C_u minus T_u), that the truncated ranking orders correctly, where the ranking is
      L_u followed by all other candidates tied: a pair counts 1 when p is in L_u above q (q later in L_u
      or outside it), 1/2 when both are outside L_u, 0 otherwise. With ``k ≥ |C_u|`` this is the exact AUC
      of the full ranking. Undefined (left out of the mean) for users with no positive or no negative
      candidate.

    Each value is the mean over the evaluated users: those with at least one relevant test item (restricted
    to ``users`` when given). Test items that are also in S_u stay in T_u (they cannot be hit). Test items that
    are not relevant are candidates like any unseen item: negatives, never hits.

    **Which test entries are relevant.** ``relevant=t`` (a number): the entries with value ``>= t``;
    ``relevant="all"``: every stored entry. ``relevant=None`` (default) depends on what the model's data are:

    - a model that predicts ratings (explicit feedback, ``rating_scale_ = (r_min, r_max)``, r_min < r_max):
      the ratings in the upper 40% of that scale, ``r >= r_min + 0.6 (r_max − r_min)``: 4 and 5 stars of
      1–5, 3.5 to 5 of 0.5–5, 3 to 4 of FilmTrust's 0.5–4, 7 to 10 of 1–10. A 1-star rating is a held-out
      *dislike*: counting it as a hit would reward a model for recommending what the user rated lowest;
    - a ranking model (BPR, SBPR, ALS, SocialALS: implicit feedback, where a stored value is a count, a
      click or 1) or 0/1 data (every stored test value is 1, e.g. ``binarized``): every stored entry,
      whatever its value (one listen is a positive).

    So 0/1 and count data behave as before, and explicit ratings need no ``binarized`` call. A ranking model
    trained on explicit ratings cannot tell them from counts: pass ``relevant=`` (e.g. 4) there.

    Parameters
    ----------
    model : fitted Model
    test : Dataset, scipy.sparse matrix or pandas DataFrame
        Held-out interactions: a Dataset in the model's id space (split from the data it was fitted on) or
        index-space data of its shape; a DataFrame of raw ids (``user``, ``item``, ``rating``) is mapped
        through the model's ids (an unknown id raises ``UnknownIdError``). A Dataset with other ids raises.
    train : Dataset, scipy.sparse matrix or pandas DataFrame, optional
        Items to exclude from each user's ranking (as ``test``); default the model's own training interactions.
    k : int
        List length (cut-off).
    users : array-like, optional
        Evaluate only these users (those of them with relevant test items): raw ids of the data the model
        was fitted on, or indices with ``ids="index"``.
    relevant : None, "all" or float, default None
        Which test entries count as relevant (above).
    ids : {"raw", "index"}
        How ``users`` is given.

    Returns
    -------
    dict with keys precision, recall, ndcg, map, hit_rate, auc (floats; auc is NaN when undefined for
    every evaluated user).
    """
    _, values = ranking_per_user(model, test, train=train, k=k, users=users, relevant=relevant, ids=ids)
    out = {}
    for j, name in enumerate(RANKING_METRICS):
        column = values[:, j]
        column = column[~np.isnan(column)]
        out[name] = float(np.mean(column)) if len(column) else math.nan
    return out


def link_prediction(model, test, train=None, k=10, *, closure=0.0, max_users=None, seed=0):
    """Link prediction: how well ``model`` ranks the held-out trust edges of ``test`` among all users.

    Candidates: for each truster ``u`` with at least one held-out edge in ``test.trust``, every user of the
    model's id space except ``u`` himself and his trustees in the training graph (``train.trust``, or the
    model's own training graph when ``train`` is None). No negative sampling: every candidate is scored
    (``model._link_scores``: the trust predictor of SoRec, TrustMF, TrustSVD, the friends-of-friends fallback
    of the other models, which scores users beyond two hops ``-inf``, or a baseline's score). The positives
    are ``u``'s held-out trustees.

    * ``auc``: per truster, the share of (held-out trustee, other candidate) pairs scored in the right order,
      ties counted half; averaged over the trusters.
    * ``ndcg``: binary NDCG@k of the top-``k`` candidates (ties to the lower index, as ``recommend_users``),
      ideal DCG over ``min(k, |held-out trustees|)``; averaged over the trusters.

    Parameters
    ----------
    model : a fitted model or ``sr.baselines`` scorer
    test : Dataset
        Held-out edges in ``test.trust`` (``sr.split.train_test_split(ds, test_size=0.0,
        trust_test_size=0.1)``), in the model's id space.
    train : Dataset, optional
        The training part (its trust graph's edges are no candidates).
    k : int
        The NDCG cut-off.
    closure : float, default 0.0
        ``recommend_users``' option: add ``closure`` times the Adamic–Adar score of the training graph (``train``'s,
        or the model's own) to its scores (the same candidates and protocol for every ``closure``).
    max_users : int, optional
        Score at most this many trusters, drawn uniformly without replacement by
        ``numpy.random.default_rng(seed).choice`` (for large graphs); None scores every one.
    seed : int

    Returns
    -------
    dict: ``auc``, ``ndcg`` (floats) and ``users`` (the trusters scored).
    """
    check_n(k, "k")
    if max_users is not None:
        check_n(max_users, "max_users")
    model._require_fitted()
    held = model_space(model, test, "test").trust.tocsr()
    known = model._known_trust() if train is None else model_space(model, train, "train").trust.tocsr()
    known = _links.binary(known)
    held = _links.binary(held)
    held = (held - held.multiply(known)).tocsr()  # an edge in both parts is known, not held out
    held.eliminate_zeros()
    users = np.flatnonzero(np.diff(held.indptr) > 0).astype(np.int64)
    if len(users) == 0:
        raise ValueError("test holds no held-out trust edge (split with trust_test_size > 0)")
    if max_users is not None and max_users < len(users):
        users = np.sort(np.random.default_rng(seed).choice(users, int(max_users), replace=False))
    scorer = _links.with_closure(model._link_scores, closure, known)
    aucs, ndcgs = [], []
    for start in range(0, len(users), _links.BATCH):
        block = users[start:start + _links.BATCH]
        scores = _links.excluded(scorer(block), block, known, True)
        top, _ = _links.top_k(scores, k)
        for r, u in enumerate(block):
            positives = held.indices[held.indptr[u]:held.indptr[u + 1]]
            candidates = np.ones(model.n_users_, dtype=bool)  # everyone but u and his training trustees
            candidates[u] = False
            candidates[known.indices[known.indptr[u]:known.indptr[u + 1]]] = False
            is_positive = np.zeros(model.n_users_, dtype=bool)
            is_positive[positives] = True
            row = np.where(np.isnan(scores[r]), -np.inf, scores[r])  # beyond a scorer's reach: last, tied
            aucs.append(_links.ranks_auc(row[candidates], is_positive[candidates]))
            ndcgs.append(_links.ndcg_at(top[r], positives, k))
    return {"auc": float(np.nanmean(aucs)), "ndcg": float(np.nanmean(ndcgs)), "users": int(len(users))}

