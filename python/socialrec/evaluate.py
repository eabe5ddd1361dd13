"""``evaluate`` (every metric of one fitted model) and ``cross_validate`` (k folds of a model class or instance)."""
from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np

from . import metrics, split
from ._align import model_space
from ._typing import Data, Ids, Metrics


SEGMENTS = ("all", "cold", "with_trustees", "cold_with_trustees")


def _predicts_ratings(model):
    return getattr(model, "_link", "identity") != "score"


def segment_users(train, cold_threshold=5):
    """Boolean masks over users for each of ``SEGMENTS``, read off ``train``.

    - ``all``: every user;
    - ``cold``: users with fewer than ``cold_threshold`` training ratings (``split.cold_start_users``);
    - ``with_trustees``: users who trust (follow) at least one other user in ``train.trust``;
    - ``cold_with_trustees``: both, the users a trust graph is meant to help most.
    """
    if isinstance(cold_threshold, bool) or not isinstance(cold_threshold, (int, np.integer)) or cold_threshold < 1:
        raise ValueError(f"cold_threshold={cold_threshold!r} must be a positive integer")
    n_users = train.ratings.shape[0]
    counts = np.diff(train.ratings.tocsr().indptr)
    cold = counts < cold_threshold
    trust = train.trust
    if trust is None or trust.nnz == 0:
        trusting = np.zeros(n_users, dtype=bool)
    else:
        trust = trust.tocsr()
        trusting = np.diff(trust.indptr) > 0
        if (trust.data == 0).any():  # stored zeros are no edges
            trusting = np.asarray((trust != 0).sum(axis=1)).ravel() > 0
    return {"all": np.ones(n_users, dtype=bool), "cold": cold, "with_trustees": trusting,
            "cold_with_trustees": cold & trusting}


def _rating_segments(model, test, masks):
    u, _, _ = test.user_item_arrays()
    e = metrics.errors(model, test)
    out = {}
    for name, mask in masks.items():
        picked = e[mask[u]]
        n = int(picked.size)
        out[name] = {"rmse": float(np.sqrt(np.mean(picked * picked))) if n else float("nan"),
                     "mae": float(np.mean(np.abs(picked))) if n else float("nan"), "n": n}
    return out


def _ranking_segments(model, test, train, k, masks, relevant=None):
    users, values = metrics.ranking_per_user(model, test, train=train, k=k, relevant=relevant, ids="index")
    out = {}
    for name, mask in masks.items():
        rows = values[mask[users]]
        seg = {"n": int(rows.shape[0])}
        for j, metric in enumerate(metrics.RANKING_METRICS):
            column = rows[:, j]
            column = column[~np.isnan(column)]
            seg[metric] = float(np.mean(column)) if len(column) else float("nan")
        out[name] = seg
    return out


def evaluate(model: Any, test: Data, train: Optional[Data] = None, k: int = 10, users: Optional[Ids] = None,
             ranking: bool = True, segments: bool = True, cold_threshold: int = 5, relevant: Any = None,
             ids: str = "raw") -> Metrics:
    """Every metric of ``model`` on ``test``.

    Parameters
    ----------
    model : fitted Model
    test : Dataset or pandas DataFrame
        Held-out ratings / interactions: a Dataset in the model's id space (split from the data it was fitted
        on; a Dataset with other ids raises ``ValueError``), or a DataFrame of raw ids mapped through the
        model's ids (an unknown id raises ``UnknownIdError``).
    train : Dataset or pandas DataFrame, optional
        Items excluded from each user's ranking (default: the model's own training interactions), and the
        data the segments are read from; as ``test``.
    k : int
        Cut-off of the ranking metrics.
    users : array-like, optional
        Restrict the evaluation to these users: raw ids of the data the model was fitted on, or indices with
        ``ids="index"``.
    ranking : bool
        Report the ranking metrics (``metrics.ranking``: precision, recall, ndcg, map, hit_rate, auc @k).
    segments : bool
        With ``train`` given, also report each segment of :func:`segment_users` under ``"segments"``.
    cold_threshold : int
        A user with fewer training ratings than this is cold (DESIGN: 5).
    relevant : None, "all" or float
        Which test entries the ranking metrics count as relevant (``metrics.ranking``; default: every entry
        for ranking models, the upper 40% of the rating scale for rating models).
    ids : {"raw", "index"}
        How ``users`` is given.

    Returns
    -------
    dict
        ``rmse`` and ``mae`` for models that predict ratings (ranking models score, they do not predict a
        rating), plus the ranking metrics when ``ranking``; and, when ``train`` is given and ``segments``,
        ``"segments"``: ``{"all", "cold", "with_trustees", "cold_with_trustees"}``, each a dict of the
        metrics on that segment's test ratings (rating models: ``rmse``, ``mae``; ranking models: the
        ranking metrics @k) and ``n``, the number of test ratings (rating models) or evaluated users
        (ranking models) in it. A segment with ``n == 0`` has NaN metrics. Segments ignore ``users``.
    """
    model._require_fitted()
    test = model_space(model, test, "test")  # other ids raise; a DataFrame is mapped through the model's ids
    train = None if train is None else model_space(model, train, "train")
    out = {}
    if _predicts_ratings(model):
        out["rmse"] = metrics.rmse(model, test, users=users, ids=ids)
        out["mae"] = metrics.mae(model, test, users=users, ids=ids)
    if ranking:
        out.update(metrics.ranking(model, test, train=train, k=k, users=users, relevant=relevant, ids=ids))
    if segments and train is not None:
        masks = segment_users(train, cold_threshold)
        if _predicts_ratings(model):
            out["segments"] = _rating_segments(model, test, masks)
        else:
            out["segments"] = _ranking_segments(model, test, train, k, masks, relevant)
    return out


def _model_factory(model, params):
    """``(make, name)``: ``make()`` builds a fresh model for a fold from a model class (``cls(**params)``) or
    from an instance (its class with ``{**instance.get_params(), **params}``: the instance's hyper-parameters,
    overridden by ``params``); the instance itself is never fitted."""
    if isinstance(model, type):
        return (lambda: model(**params)), model.__name__
    if callable(getattr(model, "get_params", None)) and callable(getattr(model, "fit", None)):
        base = {**model.get_params(), **params}
        return (lambda: type(model)(**base)), type(model).__name__
    raise TypeError(f"cross_validate expects a model class (sr.TrustSVD) or instance (sr.TrustSVD(factors=5)), "
                    f"got {type(model).__name__}")


def cross_validate(model_class: Any, data: Data, folds: int = 5, seed: Optional[int] = 0, k: int = 10,
                   ranking: bool = True, progress: bool = False, segments: bool = True, relevant: Any = None,
                   **params: Any) -> Metrics:
    """Fit a fresh model on each of ``folds`` folds (``split.kfold``) and evaluate on the held-out fold with
    :func:`evaluate` (each fold's training items are excluded from its rankings; ``ranking=False`` skips the
    ranking metrics). ``model_class`` is a model class, built as ``model_class(**params)``, or an instance
    (``sr.TrustSVD(factors=5)``), whose hyper-parameters are the base that ``params`` override (the instance
    itself is left unfitted). ``seed`` seeds the folds and, for a class, the models unless ``params`` set one
    (an instance keeps its own ``seed``). Returns
    ``{metric: {"mean", "std", "folds"}}``, ``fit_seconds`` included, and (unless ``segments=False``)
    ``"segments"``: ``{segment: {metric: {"mean", "std", "folds"}}}`` for the segments of :func:`evaluate`,
    each fold's segments read off its own training part (``n`` included, so the counts show). ``relevant``:
    which test entries the ranking metrics count (``metrics.ranking``)."""
    import time

    # checked here, so that the messages name ``folds`` rather than kfold's ``k`` (the ranking cut-off here)
    split._check_dataset(data)
    folds = split._check_int(folds, "folds", 2)
    if folds > data.nnz:
        raise ValueError(f"folds={folds} need at least {folds} ratings, the data has {data.nnz}")
    make, name = _model_factory(model_class, params if not isinstance(model_class, type) else {"seed": seed,
                                                                                              **params})
    results: Dict[str, Any] = {}
    per_segment: Dict[str, Any] = {}
    iterator = split.kfold(data, k=folds, seed=seed)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, total=folds, desc=f"{name} CV", unit="fold")
    for train, test in iterator:
        model = make()
        start = time.perf_counter()
        model.fit(train)
        seconds = time.perf_counter() - start
        scores = evaluate(model, test, train=train, k=k, ranking=ranking, segments=segments, relevant=relevant)
        scores["fit_seconds"] = seconds
        for seg, seg_scores in scores.pop("segments", {}).items():
            for name, value in seg_scores.items():
                per_segment.setdefault(seg, {}).setdefault(name, []).append(float(value))
        for name, value in scores.items():
            results.setdefault(name, []).append(float(value))
    out = {name: _summary(v) for name, v in results.items()}
    if per_segment:
        out["segments"] = {seg: {name: _summary(v) for name, v in d.items()} for seg, d in per_segment.items()}
    return out


def _summary(values):
    """mean and std over the folds, NaN folds (an empty segment) left out; ``folds`` keeps them all."""
    finite = [v for v in values if not np.isnan(v)]
    mean = float(np.mean(finite)) if finite else float("nan")
    std = float(np.std(finite)) if finite else float("nan")
    return {"mean": mean, "std": std, "folds": values}
