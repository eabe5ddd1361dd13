"""Reference TrustSVD: the objective (weighted-λ penalties carried by the observations), its gradient, and SGD
in the engine's order (user-grouped rating pass, then the trust link pass)."""
from __future__ import annotations

import math

import numpy as np

from . import sgd
from .svdpp import group_step, rating_terms


def _weights(data):
    """1/sqrt of |I_u|, |U_j|, |T_u|, |T+_v| (0 where the count is 0) and the trust CSR."""
    t = data.trust.tocsr()

    def inv_sqrt(counts):
        return np.array([1.0 / math.sqrt(c) if c > 0 else 0.0 for c in np.asarray(counts).ravel()])

    return (inv_sqrt(data.ratings.getnnz(axis=1)), inv_sqrt(data.ratings.getnnz(axis=0)),
            inv_sqrt(t.getnnz(axis=1)), inv_sqrt(t.getnnz(axis=0)), t)


def fit(model, train):
    """Train a copy of ``model``'s set-up with plain NumPy; returns the parameter dict."""
    params = model._init_parameters(train, np.random.default_rng(model.seed))
    groups = model._user_groups(train)
    trust = model._trust_state(train)
    P, W = params["user_factors"], params["trustee_factors"]
    dt = P.dtype.type
    gamma, lam, lam_t = dt(model.learning_rate), dt(model.regularization), dt(model.social_regularization)
    rating_step = group_step(P, params["item_factors"], params["implicit_factors"], params["user_bias"],
                             params["item_bias"], dt(params["global_bias"]), gamma, lam,
                             dt(model.bias_regularization),
                             trust={"W": W, "offsets": trust["trust_offsets"], "trustees": trust["trustees"],
                                    "item_weight": trust["item_weight"], "trustee_weight": trust["trustee_weight"]})
    offsets, trustee_weight = trust["trust_offsets"], trust["trustee_weight"]

    def link_step(u, segment):
        lam_p = lam_t * dt(1.0 / math.sqrt(len(segment)))
        for edge in segment:
            v = int(edge["dst"])
            p, w = P[u].copy(), W[v].copy()
            lam_w = lam * dt(trustee_weight[v])
            le = lam_t * (dt(edge["value"]) - p @ w)
            P[u] = p + gamma * (le * w - lam_p * p)
            W[v] = w + gamma * (le * p - lam_w * w)

    for epoch in range(model.epochs):
        sgd.grouped_pass(groups["rating_users"], groups["rating_records"], groups["rating_offsets"],
                         model.seed, epoch, sgd.RATING_PASS, rating_step)
        sgd.grouped_pass(trust["trusters"], trust["edges"], offsets, model.seed, epoch, sgd.LINK_PASS, link_step)
    return params


def _edges(params, t):
    P, W = np.asarray(params["user_factors"], np.float64), np.asarray(params["trustee_factors"], np.float64)
    for u in range(t.shape[0]):
        for k in range(t.indptr[u], t.indptr[u + 1]):
            v = int(t.indices[k])
            yield u, v, float(t.data[k]) - float(P[u] @ W[v]), P[u], W[v]


def loss(model, params, data):
    lam, lam_b, lam_t = model.regularization, model.bias_regularization, model.social_regularization
    s_user, s_item, s_out, s_in, t = _weights(data)
    P, Q, Y, W = (np.asarray(params[k], dtype=np.float64)
                  for k in ("user_factors", "item_factors", "implicit_factors", "trustee_factors"))
    bu, bi = params["user_bias"], params["item_bias"]
    total = 0.0
    for u, i, e, x, items in rating_terms(params, data, trust_graph=t):
        trustees = t.indices[t.indptr[u]:t.indptr[u + 1]]
        total += 0.5 * e * e + 0.5 * lam * (s_user[u] * (P[u] @ P[u]) + s_item[i] * (Q[i] @ Q[i]))
        total += 0.5 * lam * sum(s_item[j] * (Y[j] @ Y[j]) for j in items)
        total += 0.5 * lam * sum(s_in[v] * (W[v] @ W[v]) for v in trustees)
        total += 0.5 * lam_b * (s_user[u] * float(bu[u]) ** 2 + s_item[i] * float(bi[i]) ** 2)
    for u, v, e, p, w in _edges(params, t):
        total += 0.5 * lam_t * e * e + 0.5 * lam_t * s_out[u] * (p @ p) + 0.5 * lam * s_in[v] * (w @ w)
    return total


def gradient(model, params, data):
    """Gradient of ``loss`` with respect to every learned array (the global mean is fixed: no entry)."""
    g = {k: np.zeros_like(v, dtype=np.float64) for k, v in params.items() if k != "global_bias"}
    lam, lam_b, lam_t = model.regularization, model.bias_regularization, model.social_regularization
    s_user, s_item, s_out, s_in, t = _weights(data)
    P, Q, Y, W = (np.asarray(params[k], dtype=np.float64)
                  for k in ("user_factors", "item_factors", "implicit_factors", "trustee_factors"))
    bu, bi = params["user_bias"], params["item_bias"]
    for u, i, e, x, items in rating_terms(params, data, trust_graph=t):
        g["user_factors"][u] += -e * Q[i] + lam * s_user[u] * P[u]
        g["item_factors"][i] += -e * x + lam * s_item[i] * Q[i]
        g["user_bias"][u] += -e + lam_b * s_user[u] * float(bu[u])
        g["item_bias"][i] += -e + lam_b * s_item[i] * float(bi[i])
        for j in items:
            g["implicit_factors"][j] += -e * Q[i] / math.sqrt(len(items)) + lam * s_item[j] * Y[j]
        trustees = t.indices[t.indptr[u]:t.indptr[u + 1]]
        for v in trustees:
            g["trustee_factors"][v] += -e * Q[i] / math.sqrt(len(trustees)) + lam * s_in[v] * W[v]
    for u, v, e, p, w in _edges(params, t):
        g["user_factors"][u] += -lam_t * e * w + lam_t * s_out[u] * p
        g["trustee_factors"][v] += -lam_t * e * p + lam * s_in[v] * w
    return g
