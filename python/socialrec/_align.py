"""Evaluation data in a fitted id space: what metrics, ``evaluate``, ``loss`` and validation sets are scored in.

A model (or a training set) numbers its users and items once; data scored against it must use the same
numbering (DESIGN §2b, ids rule). Two datasets of the same shape can still hold different users: a test
DataFrame turned into a Dataset of its own is numbered afresh, so its user 3 need not be the model's user 3.
:func:`aligned` therefore takes

- a ``Dataset`` whose id arrays are the target's (the same arrays, as every split of one dataset shares, or
  equal ones) or a prefix of them (the target appended ids after the split: a fit with feature rows of ids the
  data lacks, fold-in; the appended ids have no entries), or index-space data (ids 0..n-1 of the target's shape: a scipy matrix, ``from_arrays``);
  a Dataset with other raw ids is refused, whatever its shape (a target without an id map, such as a model
  file saved before maps existed, can only check the shape);
- a pandas DataFrame of raw ids (columns ``user``, ``item``, ``rating``; as ``as_dataset`` reads one), mapped
  through the target's id maps: every id must be known (``UnknownIdError`` names those that are not), no id is
  ever renumbered.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import _frames
from ._ids import IdIndex, UnknownIdError
from .data import Dataset, as_dataset

_LISTED = 20  # unknown ids spelled out in a message
MODEL = ("the model was fitted on", "the data the model was fitted on")  # aligned's ``against`` for a model


def _is_range(ids, n):
    """Whether ``ids`` are the indices 0..n-1 (index-space data, no raw ids of its own)."""
    a = np.asarray(ids)
    return (a.dtype.kind in "iu" and a.shape == (n,)
            and (n == 0 or (a[0] == 0 and a[-1] == n - 1)) and np.array_equal(a, np.arange(n)))


def _same_ids(a, b):
    """``a`` and ``b`` are the same id map: the same array (cheap), or equal element by element."""
    if a is b:
        return True
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    try:
        return bool(np.array_equal(a, b))
    except (TypeError, ValueError):  # ids of types NumPy cannot compare as arrays
        return a.tolist() == b.tolist()


def _side_matches(ids, target, n):
    """One side (users or items) of a Dataset fits the target: the same ids, or indices of the target's size."""
    if target is None:  # no id map to compare with (a model file saved before maps existed): the shape decides
        return True
    return _same_ids(ids, target) or _is_range(ids, n)


def _index_map(ids, target, n, what, name, target_name):
    """The target index of each of ``ids`` (raw ids of a freshly numbered Dataset; the target's are ``target``,
    or 0..n-1 when it has no map); unknown ids raise."""
    if target is None:
        target = np.arange(n)
    pos = IdIndex(np.asarray(target), what).find(np.asarray(ids))
    missing = pos < 0
    if missing.any():
        bad = np.asarray(ids)[missing].tolist()
        listed = ", ".join(repr(v) for v in bad[:_LISTED])
        more = f" and {len(bad) - _LISTED} more" if len(bad) > _LISTED else ""
        raise UnknownIdError(f"{name} has {what} ids that {target_name} does not "
                             f"know: {listed}{more}; ids are never renumbered: leave such rows out (or fit "
                             "on data that has them)", bad, np.flatnonzero(missing).tolist())
    return pos


def _moved(matrix, rows, cols, shape):
    """``matrix`` (CSR) with row r moved to ``rows[r]`` and column c to ``cols[c]``, in a matrix of ``shape``."""
    coo = matrix.tocoo()
    out = sp.csr_matrix((coo.data, (rows[coo.row], cols[coo.col])), shape=shape, dtype=matrix.dtype)
    out.sort_indices()
    return out


def _is_prefix(ids, target):
    """``target`` is ``ids`` with more ids appended (a model that grew after its data was split: fit's feature
    ids, fold-in)."""
    if target is None:
        return False
    return len(ids) < len(target) and _same_ids(ids, np.asarray(target)[:len(ids)])


def _padded(data, user_ids, item_ids, shape, grown_from):
    """``data`` in the target's space when the target appended ids to a space of ``data``'s shape (``grown_from``:
    that shape, recorded by the fit that appended them; None: nothing was appended, nothing is padded) and its id
    maps extend ``data``'s: rows and columns keep their indices, the appended ids have no entries. None
    otherwise."""
    if grown_from is None or tuple(data.ratings.shape) != tuple(grown_from):
        return None
    sides = [(data.user_ids, user_ids, data.n_users, shape[0]), (data.item_ids, item_ids, data.n_items, shape[1])]
    if not any(_is_prefix(ids, target) for ids, target, _, _ in sides):
        return None
    if not all(_is_prefix(ids, target) or (n == m and _side_matches(ids, target, m)) for ids, target, n, m in sides):
        return None
    ratings = data.ratings.tocsr().copy()
    ratings.resize(shape)
    trust = data.trust.tocsr().copy()
    trust.resize((shape[0], shape[0]))
    return Dataset._new(ratings, trust, np.arange(shape[0]) if user_ids is None else user_ids,
                        np.arange(shape[1]) if item_ids is None else item_ids, data.rating_scale)


def aligned(data, user_ids, item_ids, shape, name, against=MODEL, trust=None, grown_from=None):
    """``data`` as a Dataset in the id space of ``(user_ids, item_ids)`` (``None``: indices 0..n-1) of size
    ``shape``; ``name`` names the data in messages, ``against`` the ids' owner (``MODEL`` or ``(phrase before
    its shape, its name)``, e.g. ``("training data", "the training data")``).

    A Dataset passes through unchanged when it fits (module docstring); a DataFrame (with an optional trust
    DataFrame ``trust``) is read as ``as_dataset`` reads one and its ids mapped to the target's indices; a
    scipy matrix is index-space data. Raises ``ValueError`` for a Dataset with other ids or another shape,
    ``UnknownIdError`` for ids of a DataFrame the target does not know. ``grown_from``: the shape of the
    data before the target appended ids to it (fit's feature rows), whose Datasets are padded."""
    before_shape, owner = against
    shape = tuple(int(n) for n in shape)
    if _frames.is_frame(data):
        fresh = as_dataset(data, trust)
        n_users, n_items = shape
        u = _index_map(fresh.user_ids, user_ids, n_users, "user", name, owner)
        i = _index_map(fresh.item_ids, item_ids, n_items, "item", name, owner)
        return Dataset._new(_moved(fresh.ratings.tocsr(), u, i, shape),
                            _moved(fresh.trust.tocsr(), u, u, (n_users, n_users)),
                            np.arange(n_users) if user_ids is None else user_ids,
                            np.arange(n_items) if item_ids is None else item_ids, fresh.rating_scale)
    data = as_dataset(data, trust)
    if data.user_ids is user_ids and data.item_ids is item_ids:
        return data
    grown = _padded(data, user_ids, item_ids, shape, grown_from)
    if grown is not None:
        return grown
    if data.ratings.shape != shape:
        raise ValueError(f"{name} has shape {data.ratings.shape}, {before_shape} {shape}: both must share one "
                         "index space (evaluate on a split of the training dataset, or pass a DataFrame of raw "
                         "ids, which is mapped through the fitted ids)")
    if not (_side_matches(data.user_ids, user_ids, shape[0]) and _side_matches(data.item_ids, item_ids, shape[1])):
        raise ValueError(f"{name} has other user or item ids than {owner}, though the same shape {shape}: the "
                         "same shape is not the same users and items. Score data split from one Dataset "
                         "(sr.split.train_test_split), or pass a DataFrame of raw ids, which is mapped through "
                         "the fitted ids")
    return data


def model_space(model, data, name, trust=None):
    """``data`` in the fitted ``model``'s id space (:func:`aligned` with its ``user_ids_`` / ``item_ids_``)."""
    return aligned(data, getattr(model, "user_ids_", None), getattr(model, "item_ids_", None),
                   (model.n_users_, model.n_items_), name, MODEL, trust, getattr(model, "grown_from_", None))
