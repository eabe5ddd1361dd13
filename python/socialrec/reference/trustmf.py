"""Reference TrustMF (Yang et al. IJCAI 2013): objective, gradient, and SGD in the engine's order
(DESIGN §4-5). Mirrors cpp/include/socialrec/models/trustmf.hpp."""
from __future__ import annotations

import math

import numpy as np

from ..models._social import unit_values
from ..models.trustmf import initial_parameters, training_state, trust_targets
from . import sgd

# (P, Q, observations): the four kinds of terms; per record the truster model steps before the trustee model
_TERMS = (
    ("user_factors", "item_factors", "ratings"),
    ("trustee_user_factors", "trustee_item_factors", "ratings"),
    ("user_factors", "trustee_factors", "trust"),
    ("trustee_truster_factors", "trustee_user_factors", "trust"),
)
_PASS_IDS = {"ratings": sgd.RATING_PASS, "trust": sgd.LINK_PASS}


def fit(model, train):
    """Train a copy of ``model``'s set-up with plain NumPy; returns the parameter dict."""
    params = initial_parameters(model, train, np.random.default_rng(model.seed))
    state = training_state(model, train)
    grids = {"ratings": {k: state[k] for k in ("records", "offsets", "blocks")}, "trust": state["trust_grid"]}
    dt = params["user_factors"].dtype.type
    gamma, lam, lam_t = dt(model.learning_rate), dt(model.regularization), dt(model.trust_regularization)

    bias = dt(params["global_bias"])

    def step_for(P, Q, weight, offset):
        def step(a, b, y):
            p, q = P[a].copy(), Q[b].copy()
            g = dt(1) / (dt(1) + np.exp(-(offset + p @ q)))
            d = weight * (dt(y) - g) * g * (dt(1) - g)
            P[a] = p + gamma * (d * q - lam * p)
            Q[b] = q + gamma * (d * p - lam * q)
        return step

    def both(kind):
        weight, offset = (dt(1), bias) if kind == "ratings" else (lam_t, dt(0))
        steps = [step_for(params[P], params[Q], weight, offset) for P, Q, k in _TERMS if k == kind]

        def step(a, b, y):
            for s in steps:
                s(a, b, y)
        return step

    for epoch in range(model.epochs):
        for kind in ("ratings", "trust"):
            sgd.grid_pass(grids[kind], model.seed, epoch, _PASS_IDS[kind], both(kind))
    return params


def _observations(model, params, data):
    """Yields (P, Q, a, b, y, weight, offset) for every term of the objective."""
    users, items, values = data.user_item_arrays()
    r = unit_values(values, data.rating_scale)
    src, dst, t = data.trust_arrays()
    t = trust_targets(t)
    offset = float(params["global_bias"])
    for P, Q, kind in _TERMS:
        if kind == "ratings":
            for a, b, y in zip(users, items, r):
                yield P, Q, int(a), int(b), float(y), 1.0, offset
        else:
            for a, b, y in zip(src, dst, t):
                yield P, Q, int(a), int(b), float(y), model.trust_regularization, 0.0


def loss(model, params, data):
    p = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    total = 0.0
    for P, Q, a, b, y, w, offset in _observations(model, params, data):
        e = y - 1.0 / (1.0 + math.exp(-(offset + float(p[P][a] @ p[Q][b]))))
        total += 0.5 * w * e * e + 0.5 * model.regularization * (p[P][a] @ p[P][a] + p[Q][b] @ p[Q][b])
    return total


def gradient(model, params, data):
    p = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    grad = {k: np.zeros_like(v) for k, v in p.items() if k != "global_bias"}  # b is fixed
    lam = model.regularization
    for P, Q, a, b, y, w, offset in _observations(model, params, data):
        g = 1.0 / (1.0 + math.exp(-(offset + float(p[P][a] @ p[Q][b]))))
        d = w * (y - g) * g * (1.0 - g)
        grad[P][a] += -d * p[Q][b] + lam * p[P][a]
        grad[Q][b] += -d * p[P][a] + lam * p[Q][b]
    return grad
