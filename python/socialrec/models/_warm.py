"""Warm start (``fit(data, warm_start=True)``, DESIGN §2b; scikit-learn's ``warm_start``).

The new fit starts from the previous fit's parameters instead of fresh draws: every array indexed by users
(``user_factors``, ``user_bias``, SoRec's ``link_factors``, TrustMF's trustee rows...) takes, for each raw user
id that both fits know, the previous row; likewise for items; arrays of neither side (``global_bias``) are
carried as they are. Ids new to this fit keep the rows of a fresh fit's initialisation (the same draws, the same
zero rows for ids without observations), and ids of the previous fit that the new data lacks are dropped. The
epoch orders restart at epoch 0 of ``seed``; ``epochs`` more epochs run and ``history`` restarts.

The previous fit must have the arrays this fit draws, of the same widths (``factors``, ``biased``): a mismatch
is refused before anything changes. (``set_params`` of such a hyper-parameter already discards the fit, so a
mismatch comes from assigning the attribute directly, or from a model loaded from another configuration.)
"""
from __future__ import annotations

import numpy as np

from .. import _gpu
from .._ids import UnknownIdTypeError
from ._fold_in_models import USER_ARRAYS, ITEM_ARRAYS
from ._queries import IdSpace

SIDE_ARRAYS = {"user": USER_ARRAYS, "item": ITEM_ARRAYS}


def check(previous, fresh, model):
    """Refuse a warm start whose previous parameters do not fit ``fresh`` (this fit's initial arrays)."""
    old = previous["parameters_"]
    name = type(model).__name__
    if set(old) != set(fresh):
        raise ValueError(f"warm_start=True: the fitted {name} has the arrays {sorted(old)} but this configuration "
                         f"draws {sorted(fresh)} (was biased changed?); fit with warm_start=False")
    for key, value in fresh.items():
        if np.shape(old[key])[1:] != np.shape(value)[1:]:
            raise ValueError(f"warm_start=True: the fitted {name}'s {key} has shape {np.shape(old[key])} but this "
                             f"configuration needs rows of shape {np.shape(value)[1:]} (factors={model.factors}); "
                             "fit with warm_start=False, or set factors back")


def _positions(previous, side, new_ids, n_new):
    """For each row of this fit's ``side``: the previous fit's row of the same raw id (-1: new id)."""
    old = IdSpace(previous[f"{side}_ids_"], previous[f"n_{side}s_"], side)
    new_ids = np.arange(n_new) if new_ids is None else np.asarray(new_ids)
    try:
        q = old.to_index(new_ids, f"{side}s", "raw", unknown_ok=True)
    except UnknownIdTypeError as exc:
        raise ValueError(f"warm_start=True: the new data's {side} ids are not of the kind of the fitted ones "
                         f"({exc})") from None
    return np.asarray(q.indices, dtype=np.int64)


def carried(model, previous, train, fresh):
    """``fresh`` (this fit's initial parameters, host arrays) with the previous fit's rows and scalars in
    place wherever the raw id (or array) is shared (module docstring)."""
    check(previous, fresh, model)
    old = {k: _gpu.to_host(v) if _gpu.is_cupy(v) else np.asarray(v) for k, v in previous["parameters_"].items()}
    rows = {side: _positions(previous, side, getattr(train, f"{side}_ids"), getattr(train, f"n_{side}s"))
            for side in SIDE_ARRAYS}
    out = {}
    for key, value in fresh.items():
        value = np.array(value, copy=True)
        side = next((s for s, names in SIDE_ARRAYS.items() if key in names), None)
        if side is None:
            value[...] = old[key]
        else:
            pos = rows[side]
            known = pos >= 0
            value[known] = old[key][pos[known]]
        out[key] = value
    return out
