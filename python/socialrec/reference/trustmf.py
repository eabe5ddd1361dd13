"""Reference TrustMF (Yang et al. IJCAI 2013): objective, gradient, and SGD in the engine's order
(DESIGN §4-5). Mirrors cpp/include/socialrec/models/trustmf.hpp."""
from __future__ import annotations

import numpy as np

from ..models._social import objective_scale, unit_values
from ..models.trustmf import initial_parameters, training_state, trust_targets
from . import sgd
from ._logistic import pair_gradient, pair_loss, pair_step

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
    gamma, lam, lam_t = model.learning_rate, model.regularization, model.trust_regularization
    bias = params["global_bias"]

    def both(kind):
        # data weight and offset: ratings 1 and b, edges lambda_T and 0; the penalty weight is 1
        weight, offset = (1.0, bias) if kind == "ratings" else (lam_t, 0.0)
        pairs = [(params[P], params[Q]) for P, Q, k in _TERMS if k == kind]

        def step(a, b, y):
            for P, Q in pairs:
                pair_step(P, Q, a, b, y, gamma, lam, weight, 1.0, offset)
        return step

    for epoch in range(model.epochs):
        for kind in ("ratings", "trust"):
            sgd.grid_pass(grids[kind], model.seed, epoch, _PASS_IDS[kind], both(kind))
    return params


def _observations(model, params, data):
    """Yields (P, Q, a, b, y, weight, offset) for every term of the objective."""
    users, items, values = data.user_item_arrays()
    r = unit_values(values, objective_scale(model, data))
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
    total = 0.0
    for P, Q, a, b, y, w, offset in _observations(model, params, data):
        total += pair_loss(params[P], params[Q], a, b, y, model.regularization, w, 1.0, offset)
    return total


def gradient(model, params, data):
    grad = {k: np.zeros_like(v, dtype=np.float64) for k, v in params.items() if k != "global_bias"}  # b is fixed
    for P, Q, a, b, y, w, offset in _observations(model, params, data):
        pair_gradient(grad[P], grad[Q], params[P], params[Q], a, b, y, model.regularization, w, 1.0, offset)
    return grad
