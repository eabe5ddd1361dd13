"""Reference RSTE (Ma, King, Lyu SIGIR 2009): objective, gradient, and SGD in the engine's order
(DESIGN §4-5). Mirrors cpp/include/socialrec/models/rste.hpp."""
from __future__ import annotations

import math

import numpy as np

from ..models._social import objective_scale, unit_values
from ..models.rste import initial_parameters, normalised_trust, training_state
from . import sgd


def _g(x):
    return 1.0 / (1.0 + math.exp(-x))


def fit(model, train):
    """Train a copy of ``model``'s set-up with plain NumPy; returns the parameter dict."""
    params = initial_parameters(model, train, np.random.default_rng(model.seed))
    state = training_state(train)
    U, V = params["user_factors"], params["item_factors"]
    dt = U.dtype.type
    gamma, lam, alpha = dt(model.learning_rate), dt(model.regularization), dt(model.alpha)
    b = dt(params["global_bias"])
    t_off, t_dst, t_w = state["trust_offsets"], state["trust_dst"], state["trust_weight"]

    def user_step(u, ratings):
        lo, hi = t_off[u], t_off[u + 1]
        own = alpha if hi > lo else dt(1)
        rest = dt(1) - alpha
        neighbours = np.zeros(U.shape[1], dtype=dt)
        for k in range(lo, hi):
            neighbours += dt(t_w[k]) * U[t_dst[k]]
        grad = np.zeros(U.shape[1], dtype=dt)
        for r in ratings:
            i, value = int(r[1]), dt(r[2])
            p, q = U[u].copy(), V[i].copy()
            z = own * p + rest * neighbours
            g = dt(1) / (dt(1) + np.exp(-(b + z @ q)))
            d = (value - g) * g * (dt(1) - g)
            U[u] = p + gamma * (d * own * q - lam * p)
            V[i] = q + gamma * (d * z - lam * q)
            grad += d * q
        for k in range(lo, hi):
            U[t_dst[k]] += gamma * rest * dt(t_w[k]) * grad

    for epoch in range(model.epochs):
        sgd.grouped_pass(state["rating_users"], state["ratings"], state["rating_offsets"], model.seed, epoch,
                         sgd.RATING_PASS, user_step)
    return params


def _terms(model, params, data):
    """Yields (u, i, e, d, z_u, own) per rating, with d = e g (1 - g)."""
    U, V = (np.asarray(params[k], dtype=np.float64) for k in ("user_factors", "item_factors"))
    S = normalised_trust(data.trust)
    users, items, values = data.user_item_arrays()
    targets = unit_values(values, objective_scale(model, data))
    for u, i, r in zip(users, items, targets):
        lo, hi = S.indptr[u], S.indptr[u + 1]
        own = model.alpha if hi > lo else 1.0
        z = own * U[u]
        for k in range(lo, hi):
            z = z + (1.0 - model.alpha) * S.data[k] * U[S.indices[k]]
        g = _g(float(params["global_bias"]) + float(z @ V[i]))
        e = float(r) - g
        yield int(u), int(i), e, e * g * (1.0 - g), z, own, S.indices[lo:hi], S.data[lo:hi]


def loss(model, params, data):
    U, V = (np.asarray(params[k], dtype=np.float64) for k in ("user_factors", "item_factors"))
    total = 0.0
    for u, i, e, _, _, _, _, _ in _terms(model, params, data):
        total += 0.5 * e * e + 0.5 * model.regularization * (U[u] @ U[u] + V[i] @ V[i])
    return total


def gradient(model, params, data):
    U, V = (np.asarray(params[k], dtype=np.float64) for k in ("user_factors", "item_factors"))
    g = {"user_factors": np.zeros_like(U), "item_factors": np.zeros_like(V)}
    lam = model.regularization
    for u, i, _, d, z, own, dst, w in _terms(model, params, data):
        g["user_factors"][u] += -d * own * V[i] + lam * U[u]
        g["item_factors"][i] += -d * z + lam * V[i]
        for v, s in zip(dst, w):
            g["user_factors"][v] += -d * (1.0 - model.alpha) * s * V[i]
    return g
