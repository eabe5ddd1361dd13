"""``evaluate`` (every metric of one fitted model) and ``cross_validate`` (k folds of a model class)."""
from __future__ import annotations

import numpy as np

from . import metrics, split


def _predicts_ratings(model):
    return getattr(model, "_link", "identity") != "score"


def evaluate(model, test, train=None, k=10, users=None, ranking=True):
    """Every metric of ``model`` on ``test``.

    Parameters
    ----------
    model : fitted Model
    test : Dataset
        Held-out ratings / interactions in the model's index space.
    train : Dataset, optional
        Items excluded from each user's ranking (default: the model's own training interactions).
    k : int
        Cut-off of the ranking metrics.
    users : array-like of int, optional
        Restrict the evaluation to these users.
    ranking : bool
        Report the ranking metrics (``metrics.ranking``: precision, recall, ndcg, map, hit_rate, auc @k).

    Returns
    -------
    dict
        ``rmse`` and ``mae`` for models that predict ratings (ranking models score, they do not predict a
        rating), plus the ranking metrics when ``ranking``.
    """
    out = {}
    if _predicts_ratings(model):
        out["rmse"] = metrics.rmse(model, test, users=users)
        out["mae"] = metrics.mae(model, test, users=users)
    if ranking:
        out.update(metrics.ranking(model, test, train=train, k=k, users=users))
    return out


def cross_validate(model_class, data, folds=5, seed=0, k=10, ranking=True, progress=False, **params):
    """Fit ``model_class(**params)`` on each of ``folds`` folds (``split.kfold``) and evaluate on the held-out
    fold with :func:`evaluate` (each fold's training items are excluded from its rankings; ``ranking=False``
    skips the ranking metrics). ``seed`` seeds the folds and, unless ``params`` set one, the models. Returns
    ``{metric: {"mean", "std", "folds"}}``, ``fit_seconds`` included."""
    import time

    # checked here, so that the messages name ``folds`` rather than kfold's ``k`` (the ranking cut-off here)
    split._check_dataset(data)
    folds = split._check_int(folds, "folds", 2)
    if folds > data.nnz:
        raise ValueError(f"folds={folds} need at least {folds} ratings, the data has {data.nnz}")
    results = {}
    iterator = split.kfold(data, k=folds, seed=seed)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, total=folds, desc=f"{model_class.__name__} CV", unit="fold")
    for train, test in iterator:
        model = model_class(**{"seed": seed, **params})
        start = time.perf_counter()
        model.fit(train)
        seconds = time.perf_counter() - start
        scores = evaluate(model, test, train=train, k=k, ranking=ranking)
        scores["fit_seconds"] = seconds
        for name, value in scores.items():
            results.setdefault(name, []).append(float(value))
    return {name: {"mean": float(np.mean(v)), "std": float(np.std(v)), "folds": v} for name, v in results.items()}
