"""Reference SocialMF (Jamali & Ester RecSys 2010): objective, gradient, and SGD in the engine's single order
(``deterministic=True``; DESIGN §4-5)."""
from __future__ import annotations

import numpy as np

from ..models._social import objective_scale, unit_values
from ..models.social_mf import normalised_trust
from . import sgd
from ._logistic import pair_gradient, pair_loss, pair_step


def fit(model, train):
    """Train a copy of ``model``'s set-up with plain NumPy; returns the parameter dict."""
    params = model._init_parameters(train, np.random.default_rng(model.seed))
    grid, trust = model._rating_grid(train), model._trust_state(train)
    U, V = params["user_factors"], params["item_factors"]
    dt = U.dtype.type
    offsets, trustees, weights = trust["trust_offsets"], trust["trustees"], trust["trust_weights"]
    gamma, lam, lam_t = model.learning_rate, model.regularization, model.social_regularization
    step = dt(gamma) * dt(lam_t)
    b = params["global_bias"]

    def user_step(u):
        u = int(u)
        edges = range(offsets[u], offsets[u + 1])
        d = U[u].copy()
        for e in edges:
            d = d + (-weights[e]) * U[trustees[e]]
        U[u] = U[u] + (-step) * d
        for e in edges:
            U[trustees[e]] = U[trustees[e]] + (step * weights[e]) * d

    for epoch in range(model.epochs):
        sgd.grid_pass(grid, model.seed, epoch, sgd.RATING_PASS,
                      lambda u, i, r: pair_step(U, V, u, i, r, gamma, lam, offset=b))
        sgd.flat_pass(trust["trusters"], model.seed, epoch, sgd.USER_PASS, user_step)
    return params


def _ratings(model, data):
    users, items, values = data.user_item_arrays()
    targets = unit_values(values, objective_scale(model, data)).astype(np.float64)
    return zip(users.tolist(), items.tolist(), targets.tolist())


def _user_terms(params, data):
    """(u, D_u, [(v, T_uv)]) for every user with out-links, in float64."""
    U = np.asarray(params["user_factors"], dtype=np.float64)
    offsets, trustees, weights = normalised_trust(data.trust)
    for u in range(len(offsets) - 1):
        edges = [(int(trustees[e]), float(weights[e])) for e in range(offsets[u], offsets[u + 1])]
        if edges:
            d = U[u].copy()
            for v, w in edges:
                d -= w * U[v]
            yield u, d, edges


def loss(model, params, data):
    total, b = 0.0, float(params["global_bias"])
    for u, i, r in _ratings(model, data):
        total += pair_loss(params["user_factors"], params["item_factors"], u, i, r, model.regularization,
                           offset=b)
    for _, d, _ in _user_terms(params, data):
        total += 0.5 * model.social_regularization * (d @ d)
    return total


def gradient(model, params, data):
    """Gradient of ``loss`` with respect to U and V (b is fixed)."""
    grad = {k: np.zeros_like(v, dtype=np.float64) for k, v in params.items() if k != "global_bias"}
    lam_t, b = model.social_regularization, float(params["global_bias"])
    for u, i, r in _ratings(model, data):
        pair_gradient(grad["user_factors"], grad["item_factors"], params["user_factors"], params["item_factors"],
                      u, i, r, model.regularization, offset=b)
    for u, d, edges in _user_terms(params, data):
        grad["user_factors"][u] += lam_t * d
        for v, w in edges:
            grad["user_factors"][v] -= lam_t * w * d
    return grad
