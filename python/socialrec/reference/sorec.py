"""Reference SoRec (Ma et al. CIKM 2008): objective, gradient, and SGD in the engine's order (DESIGN §4-5)."""
from __future__ import annotations

import numpy as np

from ..models._social import objective_scale, unit_values
from ..models.sorec import link_targets
from . import sgd
from ._logistic import pair_gradient, pair_loss, pair_step


def fit(model, train):
    """Train a copy of ``model``'s set-up with plain NumPy; returns the parameter dict."""
    params = model._init_parameters(train, np.random.default_rng(model.seed))
    grid, link_grid = model._rating_grid(train), model._link_grid(train)
    U, V, Z = params["user_factors"], params["item_factors"], params["link_factors"]
    gamma, lam, lam_c = model.learning_rate, model.regularization, model.social_regularization
    b = params["global_bias"]
    for epoch in range(model.epochs):
        sgd.grid_pass(grid, model.seed, epoch, sgd.RATING_PASS,
                      lambda u, i, r: pair_step(U, V, u, i, r, gamma, lam, offset=b))
        sgd.grid_pass(link_grid, model.seed, epoch, sgd.LINK_PASS,
                      lambda u, k, c: pair_step(U, Z, u, k, c, gamma, lam, lam_c, lam_c))
    return params


def _observations(model, params, data):
    """(A, B, row a, row b, target, data weight, penalty weight, offset) for every rating and trust edge."""
    users, items, values = data.user_item_arrays()
    targets = unit_values(values, objective_scale(model, data)).astype(np.float64)
    b = float(params["global_bias"])
    for k in range(len(users)):
        yield "user_factors", "item_factors", int(users[k]), int(items[k]), float(targets[k]), 1.0, 1.0, b
    src, dst, c = link_targets(data.trust)
    lam_c = model.social_regularization
    for k in range(len(src)):
        yield "user_factors", "link_factors", int(src[k]), int(dst[k]), float(c[k]), lam_c, lam_c, 0.0


def loss(model, params, data):
    total = 0.0
    for A, B, a, b, target, w_d, w_p, offset in _observations(model, params, data):
        total += pair_loss(params[A], params[B], a, b, target, model.regularization, w_d, w_p, offset)
    return total


def gradient(model, params, data):
    """Gradient of ``loss`` with respect to U, V and Z (b is fixed)."""
    grad = {k: np.zeros_like(v, dtype=np.float64) for k, v in params.items() if k != "global_bias"}
    for A, B, a, b, target, w_d, w_p, offset in _observations(model, params, data):
        pair_gradient(grad[A], grad[B], params[A], params[B], a, b, target, model.regularization, w_d, w_p,
                      offset)
    return grad
