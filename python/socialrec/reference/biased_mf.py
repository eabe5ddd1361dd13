"""Reference BiasedMF / PMF: the objective, its gradient, and SGD in the engine's order (DESIGN §4-5)."""
from __future__ import annotations

import numpy as np

from . import _init, sgd
from ._penalty import penalty_weights

SPECIFIES = ("BiasedMF",)


def initial_parameters(spec, train, rng):
    """Draws, in order: ``user_factors`` (rows of users with a rating active), ``item_factors`` (rated items
    active) -- ``normal``, or ``uniform`` when ``init == "uniform"`` (see ``_init``); with ``biased``,
    ``user_bias`` = ``item_bias`` = 0 and ``global_bias`` = μ (``_init.global_mean``)."""
    draw = _init.normal if spec.init == "normal" else _init.uniform
    p = {"user_factors": draw(spec, rng, train.n_users, _init.has_entries(train.ratings, 1)),
         "item_factors": draw(spec, rng, train.n_items, _init.has_entries(train.ratings, 0))}
    if spec.biased:
        p["user_bias"], p["item_bias"] = _init.zeros(spec, train.n_users), _init.zeros(spec, train.n_items)
        p["global_bias"] = _init.global_mean(spec, train)
    return p


def scoring(spec, params):
    """(user vectors, item vectors, item offsets) whose products rank the items: p_u, q_i and b_i (0 without
    biases; b_u and μ do not change a user's ranking)."""
    P, Q = params["user_factors"], params["item_factors"]
    return P, Q, params["item_bias"] if spec.biased else np.zeros(Q.shape[0], dtype=Q.dtype)


def fit(spec, train):
    """Train ``spec``'s set-up with plain NumPy on ``train``; returns the parameter dict.

    ``learning_rate_schedule="adaptive"`` is RPCS (Chin, Zhuang, Juan, Lin, PAKDD 2015): one accumulator G
    per user row and per item row, 1 at the start, in the model's dtype; each step scales γ by 1/√G of its
    row, then G grows by the mean squared gradient coordinate ‖g‖²/d (see ``socialrec.BiasedMF``). Epoch ``e``
    uses ``γ = learning_rate · learning_rate_decay^e`` for either schedule (``BiasedMF.epoch_learning_rate``).
    """
    params = initial_parameters(spec, train, np.random.default_rng(spec.require_seed()))
    grid = sgd.rating_grid(spec, train)
    P, Q = params["user_factors"], params["item_factors"]
    dt = P.dtype.type
    lam, lam_b = dt(spec.regularization), dt(spec.bias_regularization)
    gamma = dt(spec.learning_rate)
    biased = spec.biased
    adaptive = spec.learning_rate_schedule == "adaptive"
    k = dt(P.shape[1])
    w_user, w_item = penalty_weights(spec, train)
    G_user, G_item = np.ones(P.shape[0], dtype=dt), np.ones(Q.shape[0], dtype=dt)
    if biased:
        bu, bi, mu = params["user_bias"], params["item_bias"], dt(params["global_bias"])

    def step(u, i, r):
        lam_u, lam_i = lam * dt(w_user[u]), lam * dt(w_item[i])  # the rows' penalty weights (1: "occurrence")
        lam_bu, lam_bi = lam_b * dt(w_user[u]), lam_b * dt(w_item[i])
        p, q = P[u].copy(), Q[i].copy()
        prediction = p @ q
        if biased:
            prediction = prediction + mu + bu[u] + bi[i]
        e = dt(r) - prediction
        if adaptive:
            rate_u, rate_i = gamma / np.sqrt(G_user[u]), gamma / np.sqrt(G_item[i])
            g_p, g_q = lam_u * p - e * q, lam_i * q - e * p  # gradients of the rating's term at the old values
            P[u] = p - rate_u * g_p
            Q[i] = q - rate_i * g_q
            G_user[u] += (g_p @ g_p) / k
            G_item[i] += (g_q @ g_q) / k
        else:
            rate_u = rate_i = gamma
            P[u] = p + gamma * (e * q - lam_u * p)
            Q[i] = q + gamma * (e * p - lam_i * q)
        if biased:
            bu[u] = bu[u] + rate_u * (e - lam_bu * bu[u])
            bi[i] = bi[i] + rate_i * (e - lam_bi * bi[i])

    for epoch in range(spec.epochs):
        gamma = dt(spec.learning_rate * spec.learning_rate_decay ** epoch)
        sgd.grid_pass(grid, spec.seed, epoch, sgd.RATING_PASS, step)
    return params


def _terms(spec, params, data):
    u, i, r = data.user_item_arrays()
    for k in range(len(u)):
        p, q = params["user_factors"][u[k]], params["item_factors"][i[k]]
        prediction = float(p @ q)
        if spec.biased:
            prediction += float(params["global_bias"] + params["user_bias"][u[k]] + params["item_bias"][i[k]])
        yield int(u[k]), int(i[k]), float(r[k]) - prediction, p, q


def loss(spec, params, data):
    total = 0.0
    lam, lam_b = spec.regularization, spec.bias_regularization
    w_user, w_item = penalty_weights(spec, data)
    for u, i, e, p, q in _terms(spec, params, data):
        total += 0.5 * e * e + 0.5 * lam * (w_user[u] * (p @ p) + w_item[i] * (q @ q))
        if spec.biased:
            total += 0.5 * lam_b * (w_user[u] * params["user_bias"][u] ** 2 + w_item[i] * params["item_bias"][i] ** 2)
    return total


def gradient(spec, params, data):
    """Gradient of ``loss`` with respect to every learned array (the global mean is fixed: no entry)."""
    g = {k: np.zeros_like(v, dtype=np.float64) for k, v in params.items() if k != "global_bias"}
    lam, lam_b = spec.regularization, spec.bias_regularization
    w_user, w_item = penalty_weights(spec, data)
    for u, i, e, p, q in _terms(spec, params, data):
        g["user_factors"][u] += -e * q + lam * w_user[u] * p
        g["item_factors"][i] += -e * p + lam * w_item[i] * q
        if spec.biased:
            g["user_bias"][u] += -e + lam_b * w_user[u] * params["user_bias"][u]
            g["item_bias"][i] += -e + lam_b * w_item[i] * params["item_bias"][i]
    return g
