"""scikit-learn's estimator protocol for the rating models (issue 16): ``fit(X, y, trust=...)``, ``score``,
``__sklearn_tags__``; ``Model`` inherits it from ``SklearnMixin``.

A rating model is a scikit-learn regressor over (user, item) pairs:

- ``X``: an ``(n, 2)`` array, a list of pairs or a 2-column DataFrame of **raw** (user id, item id); ``y``: the
  ``n`` ratings. ``fit(X, y)`` builds the training ``Dataset`` with ``Dataset.from_raw``, so the model's id maps
  are those raw ids.
- The trust graph is a **fit parameter**, ``fit(X, y, trust=...)``: scikit-learn passes fit parameters to every
  fit of ``GridSearchCV`` (each fold's and the refit) and of ``cross_val_score(..., params={"trust": ...})``,
  and ``clone`` copies only hyper-parameters, so a graph given this way survives both without being a
  hyper-parameter (which ``save``, ``repr`` and ``sr.tune`` would have to carry). ``trust`` is a ``Dataset``
  (its trust graph, in its raw ids: the safe form, see below), an ``(m, 2)``/``(m, 3)`` array or DataFrame of
  raw (truster, trustee[, weight]) edges, or a square scipy sparse matrix whose indices are the user ids (only
  when ``X``'s user ids are exactly the integers 0..n-1 of the matrix; otherwise it is refused).
  scikit-learn slices every fit parameter that has as many rows as ``X`` along with ``X``; an edge list of
  exactly ``len(X)`` rows is therefore refused with a message (pass the ``Dataset`` instead).
- ``score(X, y)`` is the coefficient of determination R² of the predictions, as for every scikit-learn
  regressor (``RegressorMixin.score``), so ``GridSearchCV`` and ``cross_val_score`` maximise it by default.
  Named scorers (``scoring="neg_root_mean_squared_error"``) work too: they call ``predict(X)`` with one
  argument, which ``Model.predict`` scores as ``score`` does (``_predict_pairs``).
- Pairs whose user or item the model has not seen (usual in a cross-validation fold) are scored as a user or
  item without data: zero factors and zero bias, i.e. the global bias plus the known side's bias, through the
  model's link (Surprise's rule for its SVD).

Ranking models (BPR, SBPR, ALS, SocialALS) predict no rating: a 1-D ``y`` raises a ``TypeError`` that says so.
sklearn is imported only by ``__sklearn_tags__`` (it is not a dependency of socialrec).
"""
from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np
import scipy.sparse as sp

from .._ids import as_id_array, raw_array
from .._interop import is_device_input
from ..data import Dataset
from ._queries import id_space


def to_xy(dataset: Any, shuffle: bool = True, seed: Optional[int] = 0) -> Tuple[Any, np.ndarray]:
    """``(X, y)`` of a ``Dataset`` for scikit-learn: ``X`` the ``(nnz, 2)`` raw (user id, item id) pairs of its
    ratings (an object array unless both id arrays share a numeric or string dtype), ``y`` the ratings
    (float64). Fit with ``fit(X, y, trust=dataset)`` to train on the dataset's trust graph too.

    The rows come in a random order (``numpy.random.default_rng(seed)``) unless ``shuffle=False`` (CSR order:
    by user): scikit-learn's ``cv=5`` is a KFold without shuffling, which on user-sorted rows would hold out
    whole users in every fold (and score them from the biases only)."""
    if not isinstance(dataset, Dataset):
        raise TypeError(f"to_xy expects a socialrec.Dataset, got {type(dataset).__name__}")
    u, i, v = dataset.user_item_arrays()
    if shuffle:
        order = np.random.default_rng(seed).permutation(len(u))
        u, i, v = u[order], i[order], v[order]
    users, items = np.asarray(dataset.user_ids)[u], np.asarray(dataset.item_ids)[i]
    dtype = users.dtype if users.dtype == items.dtype and users.dtype.kind in "iuU" else object
    X = np.empty((len(u), 2), dtype=dtype)
    X[:, 0], X[:, 1] = users, items
    return X, v.astype(np.float64)


def _columns(X, name, width):
    """The columns of a 2-D array-like (ndarray, DataFrame, list of rows) as 1-D arrays that keep each
    column's own id type; a TypeError/ValueError naming ``name`` when it is not ``width`` columns wide."""
    if hasattr(X, "iloc") and hasattr(X, "columns"):  # a DataFrame (pandas is never imported here)
        if X.shape[1] != width:
            raise ValueError(f"{name} must have {width} columns, got {X.shape[1]}: {list(X.columns)}")
        return [X.iloc[:, j].to_numpy() for j in range(width)]
    if isinstance(X, np.ndarray):
        if X.ndim != 2 or X.shape[1] != width:
            raise ValueError(f"{name} must be a 2-D array of {width} columns, got shape {X.shape}")
        return [X[:, j] for j in range(width)]
    rows = list(X)
    if any(np.ndim(r) != 1 or len(r) != width for r in rows):
        raise ValueError(f"{name} must be rows of {width} values")
    return [as_id_array([r[j] for r in rows]) for j in range(width)]


def _trust_edges(trust, users):
    """(trusters, trustees, weights or None) as raw-id arrays, from any ``trust`` form of ``fit(X, y, trust=)``;
    ``users``: the raw user ids of ``X``'s rows."""
    n_rows = len(users)
    if isinstance(trust, Dataset):
        src, dst, w = trust.trust_arrays()
        ids = np.asarray(trust.user_ids)
        return ids[src], ids[dst], w
    if sp.issparse(trust):
        if trust.shape[0] != trust.shape[1]:
            raise ValueError(f"trust must be a square users x users matrix, got shape {trust.shape} (scikit-learn "
                             "slices a fit parameter that has as many rows as X; pass trust=<Dataset> instead)")
        _check_matrix_users(users, trust.shape[0])
        t = trust.tocoo()
        return t.row.astype(np.int64), t.col.astype(np.int64), t.data
    width = trust.shape[1] if hasattr(trust, "shape") and len(trust.shape) == 2 else len(next(iter(trust), ()))
    if width not in (2, 3):
        raise ValueError("trust must be a Dataset, a square sparse matrix or (truster, trustee[, weight]) rows")
    columns = _columns(trust, "trust", width)
    if len(columns[0]) == n_rows:
        raise ValueError(f"trust has as many edges as X has rows ({n_rows}): scikit-learn would slice it with X "
                         "in cross-validation (it slices every fit parameter of X's length), so socialrec cannot "
                         "tell a sliced graph from a whole one; pass trust=<Dataset> (e.g. the Dataset the pairs "
                         "come from, or Dataset.from_raw(...) holding the edges) instead")
    return columns[0], columns[1], (columns[2] if width == 3 else None)


def _check_matrix_users(users, n):
    """A sparse trust matrix has no ids: its rows are user indices 0..n-1. It fits ``X`` only when ``X``'s user
    ids are exactly those integers; raw ids ('a', 'b' or 10, 20) would put the graph on phantom users."""
    a = np.asarray(users)
    if a.dtype == object and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in a.tolist()):
        a = a.astype(np.int64)
    distinct = np.unique(a) if a.dtype.kind in "iu" else None
    if distinct is None or not np.array_equal(distinct, np.arange(n)):
        shown = np.unique(a)[:5].tolist() if a.dtype.kind != "O" else list(dict.fromkeys(a.tolist()))[:5]
        raise ValueError(f"trust is a {n} x {n} sparse matrix, whose rows are the user indices 0..{n - 1}, but X's "
                         f"user ids are not exactly those integers (they start {shown}): the graph would land on "
                         "other users. Pass trust=<Dataset> (its graph in its raw ids) or (truster, trustee[, "
                         "weight]) rows of X's raw user ids")


def sklearn_dataset(X, y, trust=None):
    """The training ``Dataset`` of ``fit(X, y, trust=...)``: raw (user, item) pairs, ratings and trust edges."""
    users, items = (raw_array(c, name) for c, name in zip(_columns(X, "X", 2), ("X[:, 0] (users)",
                                                                                 "X[:, 1] (items)")))
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1 or len(y) != len(users):
        raise ValueError(f"y must hold one rating per row of X ({len(users)}), got shape {y.shape}")
    src = dst = w = None
    if trust is not None:
        src, dst, w = _trust_edges(trust, users)
    return Dataset.from_raw(users, items, y, trust_src=src, trust_dst=dst, trust_values=w)


def _is_matrix(a):
    """A trust graph in fit's second position (the ``fit(ratings, trust)`` form): 2-D, sparse or dense."""
    return isinstance(a, Dataset) or sp.issparse(a) or is_device_input(a) or np.ndim(a) == 2


class SklearnMixin:
    """scikit-learn's regressor protocol of the rating models (module docstring)."""

    def _fit_inputs(self, data, y, trust):
        """``(data, trust)`` for the training engine from fit's ``(data, y, trust)``: a 1-D ``y`` next to
        pairs is a scikit-learn call (a Dataset is built from them); a matrix in ``y``'s place is the trust
        graph of ``fit(ratings, trust)``; anything ambiguous raises."""
        if y is None:
            return data, trust
        if _is_matrix(y):  # fit(ratings, trust) with the trust graph given positionally
            if trust is not None:
                raise TypeError("fit got a trust graph twice (second argument and trust=)")
            return data, y
        if isinstance(data, Dataset) or sp.issparse(data) or is_device_input(data):
            raise TypeError(f"fit(data, y): y (ratings) goes with X of (user id, item id) pairs; a "
                            f"{type(data).__name__} already holds the ratings (fit(data), or fit(ratings, trust))")
        if self._link == "score":
            raise TypeError(f"{type(self).__name__} is a ranking model: it learns from implicit feedback and "
                            "predicts no rating, so scikit-learn's fit(X, y) regressor protocol does not apply; fit "
                            "it on a Dataset and evaluate it with sr.evaluate, sr.cross_validate or sr.tune")
        return sklearn_dataset(data, y, trust), None

    def _predict_pairs(self, X):
        """Predicted ratings of raw (user id, item id) pairs ``X`` (scikit-learn's ``predict(X)``); a pair
        with an unseen user or item is scored with zero factors and bias on that side (module docstring)."""
        self._require_fitted()
        users, items = _columns(X, "X", 2)
        # the model's cached id maps (models/_queries.py), unknown ids as -1
        u = id_space(self, "user").to_index(users, "X[:, 0] (users)", "raw", unknown_ok=True).indices
        i = id_space(self, "item").to_index(items, "X[:, 1] (items)", "raw", unknown_ok=True).indices
        known = (u >= 0) & (i >= 0)
        x = np.empty(len(u), dtype=np.float64)
        x[known] = self._raw_scores(u[known], i[known])
        if not known.all():
            s = {k: np.asarray(getattr(v, "get", lambda v=v: v)()) for k, v in self._scoring().items()
                 if k in ("user_bias", "item_bias", "global_bias")}
            rest = ~known
            ub = np.where(u[rest] >= 0, s["user_bias"][np.maximum(u[rest], 0)], 0.0)
            ib = np.where(i[rest] >= 0, s["item_bias"][np.maximum(i[rest], 0)], 0.0)
            x[rest] = float(s["global_bias"]) + ub + ib
        return self._apply_link(x)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R² (coefficient of determination) of the predicted ratings of the raw (user id, item id) pairs ``X``
        against ``y``: scikit-learn's regressor ``score``, which ``GridSearchCV`` and ``cross_val_score``
        maximise by default (1 is perfect, 0 is the mean of ``y``). Unseen users or items are scored as in
        the module docstring. Ranking models raise ``TypeError``."""
        if self._link == "score":
            self._fit_inputs(X, np.asarray(y, dtype=np.float64).ravel(), None)  # raises the ranking message
        y = np.asarray(y, dtype=np.float64)
        p = self._predict_pairs(X)
        if y.shape != p.shape:
            raise ValueError(f"y must hold one rating per row of X ({len(p)}), got shape {y.shape}")
        w = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        residual = float(np.sum(w * (y - p) ** 2))
        total = float(np.sum(w * (y - np.average(y, weights=w)) ** 2))
        if total == 0.0:  # constant y: scikit-learn's r2_score gives 1 for a perfect fit, else 0
            return 1.0 if residual == 0.0 else 0.0
        return 1.0 - residual / total

    def __sklearn_tags__(self):
        """scikit-learn (>= 1.6) estimator tags: a regressor over 2 columns of raw ids (ranking models: no
        estimator type, see ``fit``). sklearn is imported here only."""
        from sklearn.utils import InputTags, RegressorTags, Tags, TargetTags

        rating = self._link != "score"
        return Tags(estimator_type="regressor" if rating else None,
                    target_tags=TargetTags(required=rating, one_d_labels=rating),
                    regressor_tags=RegressorTags() if rating else None,
                    input_tags=InputTags(two_d_array=True, categorical=True, string=True),
                    non_deterministic=self.seed is None)

    @property
    def _estimator_type(self):
        """scikit-learn < 1.6 reads this instead of ``__sklearn_tags__``."""
        return "regressor" if self._link != "score" else None
