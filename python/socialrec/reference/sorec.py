"""Reference SoRec (Ma et al. CIKM 2008): objective, gradient, and SGD in the engine's order (DESIGN §4-5)."""
from __future__ import annotations

import numpy as np

import math

from . import _init, sgd
from ._logistic import pair_gradient, pair_loss, pair_step
from ._penalty import penalty_weights

SPECIFIES = ("SoRec",)


def initial_parameters(spec, train, rng):
    """Draws, in order (``_init.normal``): ``user_factors`` (users who rate or trust someone active),
    ``item_factors`` (rated items active), ``link_factors`` (users trusted by someone active);
    ``global_bias`` = ``_init.logit_offset`` with ``offset``, else 0; with ``biased``, ``user_bias`` and
    ``item_bias`` start at 0 (no draws)."""
    trusters, trustees = _init.has_entries(train.trust, 1), _init.has_entries(train.trust, 0)
    offset = _init.logit_offset(spec, train) if spec.offset else np.array(0.0, dtype=spec.np_dtype)
    return {"user_factors": _init.normal(spec, rng, train.n_users, _init.has_entries(train.ratings, 1) | trusters),
            "item_factors": _init.normal(spec, rng, train.n_items, _init.has_entries(train.ratings, 0)),
            "link_factors": _init.normal(spec, rng, train.n_users, trustees),
            "global_bias": offset, **_init.biases(spec, train)}


def link_targets(trust):
    """(src, dst, c*) of every edge u→k of ``trust`` in CSR order: the paper's degree-damped target
    c*_uk = √(d⁻(k) / (d⁺(u) + d⁻(k))) (Ma et al. CIKM 2008, eq. 8), d⁺ the truster's out-degree, d⁻ the
    trustee's in-degree, counted edge by edge; float64."""
    t = trust.tocsr()
    in_degree = [0] * t.shape[1]
    for k in t.indices:
        in_degree[int(k)] += 1
    src, dst, target = [], [], []
    for u in range(t.shape[0]):
        out_degree = int(t.indptr[u + 1] - t.indptr[u])
        for e in range(t.indptr[u], t.indptr[u + 1]):
            k = int(t.indices[e])
            src.append(u)
            dst.append(k)
            target.append(math.sqrt(in_degree[k] / (out_degree + in_degree[k])))
    return np.array(src, dtype=np.int32), np.array(dst, dtype=np.int32), np.array(target, dtype=np.float64)


def fit(spec, train):
    """Train ``spec``'s set-up with plain NumPy on ``train``; returns the parameter dict."""
    params = initial_parameters(spec, train, np.random.default_rng(spec.require_seed()))
    _, _, values = train.user_item_arrays()
    grid = sgd.rating_grid(spec, train, _init.unit_values(values, train.rating_scale))
    link_grid = sgd.trust_grid(spec, train, link_targets(train.trust)[2].astype(np.float32))
    U, V, Z = params["user_factors"], params["item_factors"], params["link_factors"]
    gamma, lam, lam_c = spec.learning_rate, spec.regularization, spec.social_regularization
    b, biases = params["global_bias"], _init.rating_biases(spec, params)
    w_user, w_item = penalty_weights(spec, train)  # the rating term's (regularization_scaling); edges: 1
    for epoch in range(spec.epochs):
        sgd.grid_pass(grid, spec.seed, epoch, sgd.RATING_PASS,
                      lambda u, i, r: pair_step(U, V, u, i, r, gamma, lam, offset=b, biases=biases,
                                                weights=(w_user[u], w_item[i])))
        sgd.grid_pass(link_grid, spec.seed, epoch, sgd.LINK_PASS,
                      lambda u, k, c: pair_step(U, Z, u, k, c, gamma, lam, lam_c, lam_c))
    return params


def _observations(spec, params, data):
    """(A, B, row a, row b, target, data weight, penalty weight, offset, bias names, row weights) for every
    rating and trust edge; bias names: ("user_bias", "item_bias") for a rating with ``biased``, else None; row
    weights: regularization_scaling's (w_u, w_i) for a rating, (1, 1) for an edge."""
    users, items, values = data.user_item_arrays()
    targets = _init.unit_values(values, spec.objective_scale(data)).astype(np.float64)
    b = float(params["global_bias"])
    names = ("user_bias", "item_bias") if spec.biased else None
    w_user, w_item = penalty_weights(spec, data)
    for k in range(len(users)):
        u, i = int(users[k]), int(items[k])
        yield "user_factors", "item_factors", u, i, float(targets[k]), 1.0, 1.0, b, names, (w_user[u], w_item[i])
    src, dst, c = link_targets(data.trust)
    lam_c = spec.social_regularization
    for k in range(len(src)):
        yield "user_factors", "link_factors", int(src[k]), int(dst[k]), float(c[k]), lam_c, lam_c, 0.0, None, (1.0, 1.0)


def loss(spec, params, data):
    total = 0.0
    for A, B, a, b, target, w_d, w_p, offset, names, rows in _observations(spec, params, data):
        total += pair_loss(params[A], params[B], a, b, target, spec.regularization, w_d, w_p, offset,
                           _init.named_biases(spec, params, names), rows)
    return total


def gradient(spec, params, data):
    """Gradient of ``loss`` with respect to U, V, Z and, with ``biased``, b_u and b_i (b is fixed)."""
    grad = {k: np.zeros_like(v, dtype=np.float64) for k, v in params.items() if k != "global_bias"}
    for A, B, a, b, target, w_d, w_p, offset, names, rows in _observations(spec, params, data):
        pair_gradient(grad[A], grad[B], params[A], params[B], a, b, target, spec.regularization, w_d, w_p,
                      offset, _init.named_biases(spec, params, names), names and (grad[names[0]], grad[names[1]]),
                      rows)
    return grad
