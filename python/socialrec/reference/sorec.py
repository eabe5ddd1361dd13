"""Reference SoRec (Ma et al. CIKM 2008): objective, gradient, and SGD in the engine's order (DESIGN §4-5)."""
from __future__ import annotations

import numpy as np

from ..models._social import unit_values
from ..models.sorec import link_targets
from . import sgd
from ._logistic import pair_step, pair_terms


def fit(model, train):
    """Train a copy of ``model``'s set-up with plain NumPy; returns the parameter dict."""
    params = model._init_parameters(train, np.random.default_rng(model.seed))
    grid, link_grid = model._rating_grid(train), model._link_grid(train)
    U, V, Z = params["user_factors"], params["item_factors"], params["link_factors"]
    gamma, lam, lam_c = model.learning_rate, model.regularization, model.social_regularization
    for epoch in range(model.epochs):
        sgd.grid_pass(grid, model.seed, epoch, sgd.RATING_PASS,
                      lambda u, i, r: pair_step(U, V, u, i, r, gamma, 1.0, lam))
        sgd.grid_pass(link_grid, model.seed, epoch, sgd.LINK_PASS,
                      lambda u, k, c: pair_step(U, Z, u, k, c, gamma, lam_c, lam))
    return params


def _observations(params, data):
    """(weight, A, B, row a, row b, target) for every rating and every trust edge."""
    users, items, values = data.user_item_arrays()
    targets = unit_values(values, data.rating_scale).astype(np.float64)
    for k in range(len(users)):
        yield 1.0, "user_factors", "item_factors", int(users[k]), int(items[k]), float(targets[k])
    src, dst, c = link_targets(data.trust)
    for k in range(len(src)):
        yield None, "user_factors", "link_factors", int(src[k]), int(dst[k]), float(c[k])


def loss(model, params, data):
    total, lam = 0.0, model.regularization
    for w, A, B, a, b, target in _observations(params, data):
        w = model.social_regularization if w is None else w
        e, _, x, y = pair_terms(params[A], params[B], a, b, target)
        total += w * (0.5 * e * e + 0.5 * lam * (x @ x + y @ y))
    return total


def gradient(model, params, data):
    """Gradient of ``loss`` with respect to U, V and Z."""
    grad = {k: np.zeros_like(v, dtype=np.float64) for k, v in params.items()}
    lam = model.regularization
    for w, A, B, a, b, target in _observations(params, data):
        w = model.social_regularization if w is None else w
        _, ge, x, y = pair_terms(params[A], params[B], a, b, target)
        grad[A][a] += w * (-ge * y + lam * x)
        grad[B][b] += w * (-ge * x + lam * y)
    return grad
