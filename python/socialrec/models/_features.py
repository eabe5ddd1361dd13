"""Side features (``fit(train, user_features=F, item_features=G)``, DESIGN §2b): a cold id gets its
parameters from its features.

What it is -- and what it is not yet. The issue's model is a feature prior inside training,
q_i = W x_i + e_i with e_i regularised toward 0 (W re-solved between epochs). What runs here is the
*post-hoc* form of that prior: the model trains as it always does (the kernels and ``socialrec.reference``
are untouched, so C++ == reference still holds), then

    W, c = argmin_{W, c}  sum_{i warm, x_i != 0} || q_i - c - W^T x_i ||^2  +  alpha ||W||_F^2      (ridge)

is fitted from the feature rows x_i to the trained parameter rows q_i (every array of that side, e.g. for an
item ``[item_factors_i, item_bias_i, implicit_factors_i]``) over the *warm* ids that have a non-zero feature
row, with an unpenalised intercept c (by centring), and every *cold* id with a non-zero feature row gets
q_i = c + W^T x_i. That is the limit of the alternating scheme in which the warm rows have data enough to
ignore the prior; warm rows are left exactly as the plain fit trained them.

* cold item: no training rating; cold user: no training rating and no trust edge in either direction (a
  user with edges only is trained by the social models' link terms and is not overwritten).
* ids: the model knows every id with ratings or a feature row. Feature ids the data lacks are appended to
  the data's id map before training (columns/rows without ratings: cold); a known id without a feature row
  has x = 0.
* features of zeros (or none for the cold ids) change nothing: the fit is the plain model's, exactly.

The map is kept (``model.{side}_feature_map_``: W, c and the names of the arrays it predicts; pickling keeps
it, ``save`` does not) so that ``fold_in_items(new, item_features=F)`` / ``fold_in_users(..., user_features=F)``
give a new id with a non-zero feature row the prior ``c + W^T x`` (``fold_in_priors``): its fold-in centres
the row's L2 penalties on that prior (``reference.fold_in.RowProblem.centred``), so an id with no
interaction keeps the prior and each interaction moves it from there. A zero feature row (or none) is the
plain fold-in, exactly.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from .. import _frames, _gpu
from ..data import Dataset, as_dataset
from ..features import Features
from ._fold_in_models import row_arrays

DEFAULT_ALPHA = 1.0  # fit(feature_regularization=...): the ridge penalty alpha
_DIRECT_MAX = 2048   # feature widths up to this solve the normal equations directly; wider ones by CG


def as_features(value, name):
    """``value`` (Features, or a DataFrame indexed by raw id) as ``Features``; None stays None."""
    if value is None or isinstance(value, Features):
        return value
    if _frames.is_frame(value):
        return Features(value)
    raise TypeError(f"{name} must be socialrec.features.Features (Features(matrix, ids)) or a DataFrame indexed "
                    f"by raw id, got {type(value).__name__}")


def _appended(ids, n, features, side):
    """The raw ids of ``side`` after appending the feature ids the data lacks (``ids`` None: 0..n-1)."""
    old = np.arange(n) if ids is None else np.asarray(ids)
    have = set(old.tolist())
    extra = [raw for raw in features.ids.tolist() if raw not in have]
    if not extra:
        return old, 0
    kinds = {isinstance(v, str) for v in old[:1].tolist() + extra}
    if len(kinds) > 1:
        raise TypeError(f"{side}_features ids {extra[:3]} are not of the kind of the data's {side} ids "
                        f"({old.dtype})")
    if old.dtype.kind == "O" or isinstance(extra[0], str):
        return np.array(old.tolist() + extra, dtype=object), len(extra)
    cast = np.asarray(extra, dtype=old.dtype)
    changed = [raw for raw, v in zip(extra, cast.tolist()) if raw != v]
    if changed:  # 3.5 -> 3 on integer ids would merge two ids or move a row
        raise TypeError(f"{side}_features ids {changed[:3]} do not fit the data's {side} id dtype {old.dtype}")
    return np.concatenate([old, cast]), len(extra)


def grown(data, trust, user_features, item_features):
    """(fit's data as a Dataset whose id maps include every feature id (module docstring), the data's shape
    before (None when no id was appended))."""
    ds = as_dataset(data, trust)
    users, n_u = _appended(ds.user_ids, ds.n_users, user_features, "user") if user_features is not None else \
        (ds.user_ids, 0)
    items, n_i = _appended(ds.item_ids, ds.n_items, item_features, "item") if item_features is not None else \
        (ds.item_ids, 0)
    if not n_u and not n_i:
        return ds, None
    shape = (ds.n_users + n_u, ds.n_items + n_i)
    ratings = sp.csr_matrix((ds.ratings.data, ds.ratings.indices, ds.ratings.indptr), shape=(ds.n_users, shape[1]))
    ratings.resize(shape)
    t = ds.trust.tocsr().copy()
    t.resize((shape[0], shape[0]))
    return Dataset.from_sparse(ratings, t if t.nnz else None, rating_scale=ds.rating_scale, user_ids=users,
                               item_ids=items), (ds.n_users, ds.n_items)


def _cg(apply, b, tol, precondition, max_steps=2000):
    """Preconditioned conjugate gradients for the columns of ``b`` at once (A symmetric positive definite,
    ``apply(V) = A V``; ``precondition``: the inverse of A's diagonal, one value per row: Jacobi)."""
    x = np.zeros_like(b)
    r = b.copy()
    z = r * precondition[:, None]
    p = z.copy()
    rz = np.einsum("ij,ij->j", r, z)
    stop = tol * tol * np.maximum(np.einsum("ij,ij->j", b, b), 1e-300)
    for _ in range(max_steps):
        if np.all(np.einsum("ij,ij->j", r, r) <= stop):
            break
        ap = apply(p)
        step = rz / np.maximum(np.einsum("ij,ij->j", p, ap), 1e-300)
        x += p * step
        r -= ap * step
        z = r * precondition[:, None]
        rz_new = np.einsum("ij,ij->j", r, z)
        p = z + p * (rz_new / np.maximum(rz, 1e-300))
        rz = rz_new
    return x


def ridge(X, Y, alpha, tol=1e-6):
    """(W, c) minimising ||Y - 1 c^T - X W||^2 + alpha ||W||^2 (c unpenalised: X and Y centred). ``X`` dense or
    CSR (never densified when sparse: the centring enters the products). Up to ``_DIRECT_MAX`` features the
    normal equations are solved exactly; wider ones by conjugate gradients to relative residual ``tol``."""
    mean_x = np.asarray(X.mean(axis=0)).ravel()
    mean_y = Y.mean(axis=0)
    Yc = Y - mean_y
    n = X.shape[0]

    def gram(V):  # (X - 1 mean_x^T)^T (X - 1 mean_x^T) V + alpha V
        XV = X @ V - np.outer(np.ones(n), mean_x @ V)
        return np.asarray(X.T @ XV) - np.outer(mean_x, XV.sum(axis=0)) + alpha * V

    rhs = np.asarray(X.T @ Yc) - np.outer(mean_x, Yc.sum(axis=0))
    d = X.shape[1]
    if d <= _DIRECT_MAX:
        A = gram(np.eye(d))
        W = scipy.linalg.solve(A, rhs, assume_a="pos")
    else:
        squares = np.asarray(X.multiply(X).sum(axis=0) if sp.issparse(X) else (X * X).sum(axis=0)).ravel()
        W = _cg(gram, rhs, tol, 1.0 / (squares - n * mean_x ** 2 + alpha))  # the diagonal of the centred Gram
    return W, mean_y - mean_x @ W


def _cold(model, side, train):
    """Boolean mask of the cold ids of ``side`` (module docstring)."""
    r = train.ratings
    if side == "item":
        return np.asarray(r.getnnz(axis=0) == 0)
    t = train.trust
    return np.asarray((r.getnnz(axis=1) == 0) & (t.getnnz(axis=1) == 0) & (t.getnnz(axis=0) == 0))


def forget(model):
    """Drop a previous fit's records of its feature maps (``{side}_feature_fit_``) and of the shape its data had
    before feature ids were appended (``grown_from_``: the data's own splits are scored in the grown space)."""
    for name in ("user_feature_fit_", "item_feature_fit_", "user_feature_map_", "item_feature_map_", "grown_from_"):
        model.__dict__.pop(name, None)


def apply_prior(model, train, features, side, alpha):
    """Give the cold ids of ``side`` with a non-zero feature row the parameters c + W^T x (module docstring);
    records ``model.{side}_feature_fit_`` = {"warm_rows", "cold_rows"} (counts used)."""
    ids = getattr(train, f"{side}_ids")
    n = train.n_users if side == "user" else train.n_items
    X = features.rows_for(np.arange(n) if ids is None else ids)
    nonzero = np.asarray((abs(X) if sp.issparse(X) else np.abs(X)).sum(axis=1)).ravel() > 0
    cold = _cold(model, side, train)
    fit_rows, target_rows = np.flatnonzero(~cold & nonzero), np.flatnonzero(cold & nonzero)
    setattr(model, f"{side}_feature_fit_", {"warm_rows": int(len(fit_rows)), "cold_rows": int(len(target_rows))})
    if not len(fit_rows):
        return
    names = row_arrays(model, side)
    host = {k: _gpu.to_host(model.parameters_[k]) for k in names}
    columns = [np.asarray(host[k], np.float64).reshape(n, -1) for k in names]
    Y = np.hstack(columns)
    W, c = ridge(X[fit_rows], Y[fit_rows], alpha)  # kept for fold-in even when no id is cold now
    setattr(model, f"{side}_feature_map_", {"weights": W, "intercept": c, "arrays": list(names)})
    if not len(target_rows):
        return
    predicted = np.asarray(X[target_rows] @ W) + c
    at = 0
    for k, block in zip(names, columns):
        width = block.shape[1]
        value = np.array(host[k], copy=True)
        value[target_rows] = predicted[:, at:at + width].reshape((len(target_rows),) + value.shape[1:])
        at += width
        model.parameters_[k] = _gpu.to_device(value, value.dtype) if _gpu.is_cupy(model.parameters_[k]) else value
    model._invalidate()


def fold_in_priors(model, side, raw_ids, features):
    """(priors, has): for each raw id, ``c + W^T x`` (one row per id, the arrays of ``side`` side by side as
    in ``apply_prior``) where its feature row ``x`` is non-zero (``has``), else zeros; ``features`` None gives
    None. The model must have been fitted with features of that side (its kept map; module docstring)."""
    if features is None:
        return None
    features = as_features(features, f"{side}_features")
    fmap = getattr(model, f"{side}_feature_map_", None)
    if fmap is None:
        raise ValueError(f"{type(model).__name__} keeps no {side} feature map: fold in with {side}_features= "
                         f"after fit(..., {side}_features=...) on this model object (save/load and a fit whose "
                         f"{side} features had no warm id with a non-zero row keep none)")
    W, c = fmap["weights"], fmap["intercept"]
    if features.n_features != W.shape[0]:
        raise ValueError(f"{side}_features has {features.n_features} columns; the model was fitted with "
                         f"{W.shape[0]}")
    X = features.rows_for(raw_ids)
    has = np.asarray((abs(X) if sp.issparse(X) else np.abs(X)).sum(axis=1)).ravel() > 0
    priors = np.zeros((len(has), len(c)))
    if has.any():
        priors[has] = np.asarray(X[np.flatnonzero(has)] @ W) + c
    return priors, has
