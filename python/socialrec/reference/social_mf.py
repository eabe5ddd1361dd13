"""Reference SocialMF (Jamali & Ester RecSys 2010): objective, gradient, and SGD in the engine's single order
(``deterministic=True``; DESIGN §4-5)."""
from __future__ import annotations

import numpy as np

from . import _init, sgd
from ._logistic import pair_gradient, pair_loss, pair_step
from ._penalty import penalty_weights
from ._trust import normalised_trust

SPECIFIES = ("SocialMF",)


def initial_parameters(spec, train, rng):
    """Draws, in order (``_init.normal``): ``user_factors`` (users who rate, trust or are trusted active),
    ``item_factors`` (rated items active); ``global_bias`` = ``_init.logit_offset`` with ``offset``, else 0;
    with ``biased``, ``user_bias`` and ``item_bias`` start at 0 (no draws)."""
    linked = _init.has_entries(train.trust, 1) | _init.has_entries(train.trust, 0)
    offset = _init.logit_offset(spec, train) if spec.offset else np.array(0.0, dtype=spec.np_dtype)
    return {"user_factors": _init.normal(spec, rng, train.n_users, _init.has_entries(train.ratings, 1) | linked),
            "item_factors": _init.normal(spec, rng, train.n_items, _init.has_entries(train.ratings, 0)),
            "global_bias": offset, **_init.biases(spec, train)}


def trust_state(spec, train):
    """The user pass's records: the users with an out-link (ascending) and the row-normalised trust CSR
    (``_trust.normalised_trust``), weights in the model's dtype."""
    offsets, trustees, weights = normalised_trust(train)
    trusters = [u for u in range(train.n_users) if offsets[u + 1] > offsets[u]]
    return {"trusters": np.array(trusters, dtype=np.int32), "trust_offsets": offsets, "trustees": trustees,
            "trust_weights": weights.astype(spec.np_dtype)}


def fit(spec, train):
    """Train ``spec``'s set-up with plain NumPy on ``train``; returns the parameter dict."""
    params = initial_parameters(spec, train, np.random.default_rng(spec.require_seed()))
    _, _, values = train.user_item_arrays()
    grid = sgd.rating_grid(spec, train, _init.unit_values(values, train.rating_scale))
    trust = trust_state(spec, train)
    U, V = params["user_factors"], params["item_factors"]
    dt = U.dtype.type
    offsets, trustees, weights = trust["trust_offsets"], trust["trustees"], trust["trust_weights"]
    gamma, lam, lam_t = spec.learning_rate, spec.regularization, spec.social_regularization
    step = dt(gamma) * dt(lam_t)
    b, biases = params["global_bias"], _init.rating_biases(spec, params)
    w_user, w_item = penalty_weights(spec, train)  # the rating term's (regularization_scaling)

    def user_step(u):
        u = int(u)
        edges = range(offsets[u], offsets[u + 1])
        d = U[u].copy()
        for e in edges:
            d = d + (-weights[e]) * U[trustees[e]]
        U[u] = U[u] + (-step) * d
        for e in edges:
            U[trustees[e]] = U[trustees[e]] + (step * weights[e]) * d

    for epoch in range(spec.epochs):
        sgd.grid_pass(grid, spec.seed, epoch, sgd.RATING_PASS,
                      lambda u, i, r: pair_step(U, V, u, i, r, gamma, lam, offset=b, biases=biases,
                                                weights=(w_user[u], w_item[i])))
        sgd.flat_pass(trust["trusters"], spec.seed, epoch, sgd.USER_PASS, user_step)
    return params


def _ratings(spec, data):
    users, items, values = data.user_item_arrays()
    targets = _init.unit_values(values, spec.objective_scale(data)).astype(np.float64)
    return zip(users.tolist(), items.tolist(), targets.tolist())


def _user_terms(params, data):
    """(u, D_u, [(v, T_uv)]) for every user with out-links, in float64."""
    U = np.asarray(params["user_factors"], dtype=np.float64)
    offsets, trustees, weights = normalised_trust(data)
    for u in range(len(offsets) - 1):
        edges = [(int(trustees[e]), float(weights[e])) for e in range(offsets[u], offsets[u + 1])]
        if edges:
            d = U[u].copy()
            for v, w in edges:
                d -= w * U[v]
            yield u, d, edges


def loss(spec, params, data):
    total, b, biases = 0.0, float(params["global_bias"]), _init.rating_biases(spec, params)
    w_user, w_item = penalty_weights(spec, data)
    for u, i, r in _ratings(spec, data):
        total += pair_loss(params["user_factors"], params["item_factors"], u, i, r, spec.regularization,
                           offset=b, biases=biases, weights=(w_user[u], w_item[i]))
    for _, d, _ in _user_terms(params, data):
        total += 0.5 * spec.social_regularization * (d @ d)
    return total


def gradient(spec, params, data):
    """Gradient of ``loss`` with respect to U, V and, with ``biased``, b_u and b_i (b is fixed)."""
    grad = {k: np.zeros_like(v, dtype=np.float64) for k, v in params.items() if k != "global_bias"}
    lam_t, b = spec.social_regularization, float(params["global_bias"])
    biases = _init.rating_biases(spec, params)
    bias_grads = (grad["user_bias"], grad["item_bias"]) if spec.biased else None
    w_user, w_item = penalty_weights(spec, data)
    for u, i, r in _ratings(spec, data):
        pair_gradient(grad["user_factors"], grad["item_factors"], params["user_factors"], params["item_factors"],
                      u, i, r, spec.regularization, offset=b, biases=biases, bias_grads=bias_grads,
                      weights=(w_user[u], w_item[i]))
    for u, d, edges in _user_terms(params, data):
        grad["user_factors"][u] += lam_t * d
        for v, w in edges:
            grad["user_factors"][v] -= lam_t * w * d
    return grad
