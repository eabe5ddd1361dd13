"""Evaluation metrics: rating error (rmse, mae) and ranking quality (``ranking``)."""
from __future__ import annotations

import numpy as np

__all__ = ["rmse", "mae", "errors"]


def errors(model, data, users=None):
    """Prediction errors ``r_ui − r̂_ui`` on ``data``'s ratings (optionally only for ``users``)."""
    from .data import Dataset

    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a socialrec.Dataset, got {type(data).__name__}")
    model._require_fitted()
    if data.ratings.shape != (model.n_users_, model.n_items_):
        raise ValueError(f"data has shape {data.ratings.shape}, the model was fitted on "
                         f"{(model.n_users_, model.n_items_)}: evaluate on a split of the training dataset")
    u, i, v = data.user_item_arrays()
    if users is not None:
        keep = np.isin(u, np.asarray(users))
        u, i, v = u[keep], i[keep], v[keep]
    if len(u) == 0:
        raise ValueError("no ratings to evaluate")
    return v.astype(np.float64) - model.predict(u, i)


def rmse(model, data, users=None):
    """Root mean squared error of ``model`` on ``data`` (a Dataset with held-out ratings)."""
    e = errors(model, data, users)
    return float(np.sqrt(np.mean(e * e)))


def mae(model, data, users=None):
    """Mean absolute error of ``model`` on ``data``."""
    return float(np.mean(np.abs(errors(model, data, users))))
