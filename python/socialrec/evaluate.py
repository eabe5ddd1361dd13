"""``evaluate`` (every metric of one fitted model) and ``cross_validate`` (k folds of a model class)."""
from __future__ import annotations

import numpy as np

from . import metrics, split


def evaluate(model, test, train=None, k=10, users=None):
    """All metrics of ``model`` on ``test``: rmse and mae, plus the ranking metrics @k when ``train`` is given
    (its items are excluded from the ranking). ``users`` restricts the evaluation to those users."""
    out = {"rmse": metrics.rmse(model, test, users=users), "mae": metrics.mae(model, test, users=users)}
    if train is not None and hasattr(metrics, "ranking"):
        out.update(metrics.ranking(model, test, train=train, k=k, users=users))
    return out


def cross_validate(model_class, data, folds=5, seed=0, k=10, ranking=False, progress=False, **params):
    """Fit ``model_class(**params)`` on each of ``folds`` folds (``split.kfold``) and evaluate on the held-out
    fold. ``seed`` seeds the folds and, unless ``params`` set one, the models. Returns
    ``{metric: {"mean", "std", "folds"}}`` plus ``fit_seconds``."""
    import time

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
        scores = evaluate(model, test, train=train if ranking else None, k=k)
        scores["fit_seconds"] = seconds
        for name, value in scores.items():
            results.setdefault(name, []).append(float(value))
    return {name: {"mean": float(np.mean(v)), "std": float(np.std(v)), "folds": v} for name, v in results.items()}
