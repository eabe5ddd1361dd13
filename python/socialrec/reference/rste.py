"""Reference RSTE (Ma, King, Lyu SIGIR 2009): objective, gradient, and SGD in the engine's order
(DESIGN §4-5). Mirrors cpp/include/socialrec/models/rste.hpp.

With ``biased`` (the default) ``x_ui = b + b_u + b_i + z_u·V_i`` (biases inside the link, not mixed over the
trustees; Koren, Bell, Volinsky 2009) and each rating adds ``½ λ_b (b_u² + b_i²)``; ``biased=False`` is the
paper's ``x_ui = b + z_u·V_i``."""
from __future__ import annotations

import math

import numpy as np

from . import _init, sgd
from ._penalty import penalty_weights
from ._trust import normalised_trust

SPECIFIES = ("RSTE",)


def initial_parameters(spec, train, rng):
    """Draws, in order (``_init.normal``): ``user_factors`` (users who rate or are trusted by someone active),
    ``item_factors`` (rated items active); ``global_bias`` = ``_init.logit_offset`` (always); with
    ``biased``, ``user_bias`` = ``item_bias`` = 0 (no draws)."""
    users = _init.has_entries(train.ratings, 1) | _init.has_entries(train.trust, 0)
    p = {"user_factors": _init.normal(spec, rng, train.n_users, users),
         "item_factors": _init.normal(spec, rng, train.n_items, _init.has_entries(train.ratings, 0)),
         "global_bias": _init.logit_offset(spec, train)}
    return {**p, **_init.biases(spec, train)}


def training_state(train):
    """The ratings grouped by user (``sgd.pack_user_groups``, values mapped to [0, 1] with the training scale)
    and the row-normalised trust CSR S (``_trust.normalised_trust``)."""
    users, items, values = train.user_item_arrays()
    groups = sgd.pack_user_groups(users, items, _init.unit_values(values, train.rating_scale), train.n_users)
    offsets, dst, weight = normalised_trust(train)
    return {"rating_users": groups["rating_users"], "ratings": groups["rating_records"],
            "rating_offsets": groups["rating_offsets"], "trust_offsets": offsets, "trust_dst": dst,
            "trust_weight": weight}


def _g(x):
    return 1.0 / (1.0 + math.exp(-x))


def fit(spec, train):
    """Train ``spec``'s set-up with plain NumPy on ``train``; returns the parameter dict."""
    params = initial_parameters(spec, train, np.random.default_rng(spec.require_seed()))
    state = training_state(train)
    U, V = params["user_factors"], params["item_factors"]
    dt = U.dtype.type
    gamma, lam, alpha = dt(spec.learning_rate), dt(spec.regularization), dt(spec.alpha)
    b = dt(params["global_bias"])
    lam_b = dt(spec.bias_regularization)
    if spec.biased:
        bu, bi = params["user_bias"], params["item_bias"]
    t_off, t_dst, t_w = state["trust_offsets"], state["trust_dst"], state["trust_weight"]
    w_user, w_item = penalty_weights(spec, train)  # regularization_scaling's (1: "occurrence", exact)

    def user_step(u, ratings):
        lo, hi = t_off[u], t_off[u + 1]
        lam_u, lam_bu = lam * dt(w_user[u]), lam_b * dt(w_user[u])
        own = alpha if hi > lo else dt(1)
        rest = dt(1) - alpha
        neighbours = np.zeros(U.shape[1], dtype=dt)
        for k in range(lo, hi):
            neighbours += dt(t_w[k]) * U[t_dst[k]]
        grad = np.zeros(U.shape[1], dtype=dt)
        for r in ratings:
            i, value = int(r[1]), dt(r[2])
            lam_i, lam_bi = lam * dt(w_item[i]), lam_b * dt(w_item[i])
            p, q = U[u].copy(), V[i].copy()
            z = own * p + rest * neighbours
            if spec.biased:  # the kernel's order: ((b + b_u) + b_i) + z·V_i
                b_u, b_i = bu[u], bi[i]
                g = dt(1) / (dt(1) + np.exp(-(b + b_u + b_i + z @ q)))
            else:
                g = dt(1) / (dt(1) + np.exp(-(b + z @ q)))
            d = (value - g) * g * (dt(1) - g)
            if spec.biased:
                bu[u] = b_u + gamma * (d - lam_bu * b_u)
                bi[i] = b_i + gamma * (d - lam_bi * b_i)
            U[u] = p + gamma * (d * own * q - lam_u * p)
            V[i] = q + gamma * (d * z - lam_i * q)
            grad += d * q
        for k in range(lo, hi):
            U[t_dst[k]] += gamma * rest * dt(t_w[k]) * grad

    for epoch in range(spec.epochs):
        sgd.grouped_pass(state["rating_users"], state["ratings"], state["rating_offsets"], spec.seed, epoch,
                         sgd.RATING_PASS, user_step)
    return params


def _biases(spec, params, n_users, n_items):
    """(b_u, b_i) as float64 arrays; zeros without ``biased``."""
    if not spec.biased:
        return np.zeros(n_users), np.zeros(n_items)
    return (np.asarray(params[k], dtype=np.float64) for k in ("user_bias", "item_bias"))


def _terms(spec, params, data):
    """Yields (u, i, e, d, z_u, own) per rating, with d = e g (1 - g)."""
    U, V = (np.asarray(params[k], dtype=np.float64) for k in ("user_factors", "item_factors"))
    bu, bi = _biases(spec, params, len(U), len(V))
    offsets, dst, weight = normalised_trust(data)
    users, items, values = data.user_item_arrays()
    targets = _init.unit_values(values, spec.objective_scale(data))
    for u, i, r in zip(users, items, targets):
        lo, hi = offsets[u], offsets[u + 1]
        own = spec.alpha if hi > lo else 1.0
        z = own * U[u]
        for k in range(lo, hi):
            z = z + (1.0 - spec.alpha) * weight[k] * U[dst[k]]
        g = _g(float(params["global_bias"]) + bu[u] + bi[i] + float(z @ V[i]))
        e = float(r) - g
        yield int(u), int(i), e, e * g * (1.0 - g), z, own, dst[lo:hi], weight[lo:hi]


def loss(spec, params, data):
    U, V = (np.asarray(params[k], dtype=np.float64) for k in ("user_factors", "item_factors"))
    bu, bi = _biases(spec, params, len(U), len(V))
    lam_b = spec.bias_regularization if spec.biased else 0.0
    w_user, w_item = penalty_weights(spec, data)
    total = 0.0
    for u, i, e, _, _, _, _, _ in _terms(spec, params, data):
        w_u, w_i = w_user[u], w_item[i]
        total += 0.5 * e * e + 0.5 * spec.regularization * (w_u * (U[u] @ U[u]) + w_i * (V[i] @ V[i]))
        total += 0.5 * lam_b * (w_u * bu[u] ** 2 + w_i * bi[i] ** 2)
    return total


def gradient(spec, params, data):
    U, V = (np.asarray(params[k], dtype=np.float64) for k in ("user_factors", "item_factors"))
    bu, bi = _biases(spec, params, len(U), len(V))
    g = {"user_factors": np.zeros_like(U), "item_factors": np.zeros_like(V)}
    if spec.biased:
        g["user_bias"], g["item_bias"] = np.zeros_like(bu), np.zeros_like(bi)
    lam = spec.regularization
    w_user, w_item = penalty_weights(spec, data)
    for u, i, _, d, z, own, dst, w in _terms(spec, params, data):
        g["user_factors"][u] += -d * own * V[i] + lam * w_user[u] * U[u]
        g["item_factors"][i] += -d * z + lam * w_item[i] * V[i]
        if spec.biased:
            g["user_bias"][u] += -d + spec.bias_regularization * w_user[u] * bu[u]
            g["item_bias"][i] += -d + spec.bias_regularization * w_item[i] * bi[i]
        for v, s in zip(dst, w):
            g["user_factors"][v] += -d * (1.0 - spec.alpha) * s * V[i]
    return g
