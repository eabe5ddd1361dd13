"""Reference ALS (WRMF): the objective, its gradient, and the alternating row solves (DESIGN §4-5).

The objective (Hu, Koren, Volinsky, ICDM 2008, eq. 3) is evaluated densely, one user row at a time:
``Σ_(u,i) c_ui (p_ui − x_u·y_i)² + λ (‖X‖² + ‖Y‖²)``, ``p = 1, c = 1 + α w`` on stored entries, ``p = 0,
c = 1`` elsewhere, with ``w`` the weight of the stored value r (``weights``):

- ``confidence="linear"``: ``w = r`` (the paper's eq. 3);
- ``confidence="log"``: ``w = log2(1 + r/ε)`` (the paper's §4 in base 2), ε = ``epsilon`` or, when that is
  None, the mean of the matrix's stored values (``math.fsum`` of them over their number; 1 if it is 0);

``w`` rounded to float32 (the precision the model stores it in), computed from the matrix at hand (the
training data in ``fit``, ``data`` in ``loss``). A row solve builds its matrix ``A = YᵀY + Σ α w y yᵀ +
(λ + shift) I`` densely and runs the same conjugate-gradient recurrence as cpp/include/socialrec/als.hpp (or
an exact solve).
"""
from __future__ import annotations

import math

import numpy as np

from . import _init

SPECIFIES = ("ALS",)
CG_CONVERGED = 1e-20  # |r|² below which CG stops (als.hpp cg_solve)


def conjugate_gradient(A, b, x, steps):
    """``steps`` CG steps on ``A x = b`` from ``x`` (Takács et al. 2011, Alg. 3); returns the new x."""
    x = x.copy()
    r = b - A @ x
    p = r.copy()
    rs = r @ r
    for _ in range(steps):
        if rs < CG_CONVERGED:
            break
        Ap = A @ p
        pAp = p @ Ap
        if not pAp > 0:
            break
        a = rs / pAp
        x = x + a * p
        r = r - a * Ap
        rs_new = r @ r
        p = r + (rs_new / rs) * p
        rs = rs_new
    return x


def weights(spec, ratings):
    """``ratings`` as CSR with every stored value r replaced by its weight w (float32), by the rule of
    ``spec.confidence`` (module docstring)."""
    W = ratings.tocsr(copy=True)
    r = W.data.astype(np.float64)
    if spec.confidence == "linear":
        w = r
    elif spec.confidence == "log":
        if spec.epsilon is not None:
            eps = float(spec.epsilon)
        else:
            mean = math.fsum(r.tolist()) / r.size if r.size else 0.0
            eps = mean if mean > 0 else 1.0
        w = np.log2(1.0 + r / eps)
    else:
        raise ValueError(f"unknown confidence {spec.confidence!r}")
    W.data = w.astype(np.float32)
    return W


def half_step(spec, rows, X, Y, shift=None, rhs=None):
    """Solves every row u of X against the fixed side Y: ``(A_u + shift[u] I) x_u = b_u + rhs[u]``."""
    dt = X.dtype.type
    alpha, lam = dt(spec.alpha), dt(spec.regularization)
    G = Y.T @ Y
    eye = np.eye(X.shape[1], dtype=X.dtype)
    for u in range(X.shape[0]):
        idx = rows.indices[rows.indptr[u]:rows.indptr[u + 1]]
        w = alpha * rows.data[rows.indptr[u]:rows.indptr[u + 1]].astype(X.dtype)
        Yu = Y[idx]
        A = G + Yu.T @ (w[:, None] * Yu) + (lam if shift is None else lam + shift[u]) * eye
        b = Yu.T @ (dt(1) + w)
        if rhs is not None:
            b = b + rhs[u]
        if spec.solver == "cholesky":
            X[u] = np.linalg.solve(A, b)
        else:
            X[u] = conjugate_gradient(A, b, X[u], spec.cg_steps)


def initial_parameters(spec, train, rng):
    """Draws, in order (``_init.normal``): ``user_factors`` (users with a rating active), ``item_factors``
    (rated items active)."""
    return {"user_factors": _init.normal(spec, rng, train.n_users, _init.has_entries(train.ratings, 1)),
            "item_factors": _init.normal(spec, rng, train.n_items, _init.has_entries(train.ratings, 0))}


def fit(spec, train):
    """Train ``spec``'s set-up with plain NumPy on ``train``; returns the parameter dict."""
    params = initial_parameters(spec, train, np.random.default_rng(spec.require_seed()))
    X, Y = params["user_factors"], params["item_factors"]
    R = weights(spec, train.ratings)
    Rt = R.T.tocsr()
    for _ in range(spec.epochs):
        half_step(spec, R, X, Y)
        half_step(spec, Rt, Y, X)
    return params


def _rows(spec, params, data):
    """Per user: (x_u, dense preference row p_u, dense confidence row c_u = 1 + α w_u)."""
    X = np.asarray(params["user_factors"], dtype=np.float64)
    R = weights(spec, data.ratings)
    for u in range(X.shape[0]):
        p = np.zeros(R.shape[1])
        c = np.ones(R.shape[1])
        lo, hi = R.indptr[u], R.indptr[u + 1]
        p[R.indices[lo:hi]] = 1.0
        c[R.indices[lo:hi]] = 1.0 + spec.alpha * R.data[lo:hi].astype(np.float64)
        yield u, p, c


def loss(spec, params, data):
    X = np.asarray(params["user_factors"], dtype=np.float64)
    Y = np.asarray(params["item_factors"], dtype=np.float64)
    total = 0.0
    for u, p, c in _rows(spec, params, data):
        e = p - Y @ X[u]
        total += c @ (e * e)
    return total + spec.regularization * (np.sum(X * X) + np.sum(Y * Y))


def gradient(spec, params, data):
    """Gradient of ``loss`` with respect to user_factors and item_factors."""
    X = np.asarray(params["user_factors"], dtype=np.float64)
    Y = np.asarray(params["item_factors"], dtype=np.float64)
    gX, gY = 2 * spec.regularization * X, 2 * spec.regularization * Y
    for u, p, c in _rows(spec, params, data):
        ce = c * (p - Y @ X[u])
        gX[u] -= 2 * Y.T @ ce
        gY -= 2 * np.outer(ce, X[u])
    return {"user_factors": gX, "item_factors": gY}
