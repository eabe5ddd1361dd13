"""Reference TrustSVD: the objective (weighted-λ penalties carried by the observations), its gradient, and SGD
in the engine's order (user-grouped rating pass, then the trust link pass)."""
from __future__ import annotations

import math

import numpy as np

from . import _init, sgd
from .svdpp import group_step, rating_terms, user_groups

SPECIFIES = ("TrustSVD",)


def initial_parameters(spec, train, rng):
    """Draws, in order (``_init.normal``): ``user_factors`` (users who rate or trust someone active),
    ``item_factors`` and ``implicit_factors`` (rated items active), ``trustee_factors`` (users trusted by
    someone active); ``user_bias`` = ``item_bias`` = 0, ``global_bias`` = μ."""
    rated_users, rated_items = _init.has_entries(train.ratings, 1), _init.has_entries(train.ratings, 0)
    trusting, trusted = _init.has_entries(train.trust, 1), _init.has_entries(train.trust, 0)
    return {"user_factors": _init.normal(spec, rng, train.n_users, rated_users | trusting),
            "item_factors": _init.normal(spec, rng, train.n_items, rated_items),
            "implicit_factors": _init.normal(spec, rng, train.n_items, rated_items),
            "trustee_factors": _init.normal(spec, rng, train.n_users, trusted),
            "user_bias": _init.zeros(spec, train.n_users), "item_bias": _init.zeros(spec, train.n_items),
            "global_bias": _init.global_mean(spec, train)}


def trust_state(train):
    """The link pass's records and the penalty weights, by loops over the data:

    * ``edges``: the trust edges (u, v, t_uv) in CSR order (grouped by truster), ``trusters``: the users with
      an out-link, ascending; ``trust_offsets`` / ``trustees``: the trust CSR (T_u);
    * ``item_weight[j] = |U_j|^-½`` (raters of j) and ``trustee_weight[v] = |T⁺_v|^-½`` (trusters of v),
      0 where the count is 0, in float64."""
    _, s_item, _, s_in, t = _weights(train)
    src, dst, values = train.trust_arrays()
    trusters = [u for u in range(t.shape[0]) if t.indptr[u + 1] > t.indptr[u]]
    return {"edges": sgd.pack_edges(src, dst, values), "trusters": np.array(trusters, dtype=np.int32),
            "trust_offsets": np.asarray(t.indptr, dtype=np.int64), "trustees": np.asarray(t.indices, np.int32),
            "item_weight": s_item, "trustee_weight": s_in}


def _weights(data):
    """1/sqrt of |I_u|, |U_j|, |T_u|, |T+_v| (0 where the count is 0), counted entry by entry, and the trust
    CSR."""
    t = data.trust.tocsr()

    def counts(m):
        rows, cols = np.zeros(m.shape[0], dtype=np.int64), np.zeros(m.shape[1], dtype=np.int64)
        for u in range(m.shape[0]):
            for e in range(m.indptr[u], m.indptr[u + 1]):
                rows[u] += 1
                cols[m.indices[e]] += 1
        return rows, cols

    def inv_sqrt(n):
        return np.array([1.0 / math.sqrt(c) if c > 0 else 0.0 for c in n])

    rated, raters = counts(data.ratings.tocsr())
    out_links, in_links = counts(t)
    return inv_sqrt(rated), inv_sqrt(raters), inv_sqrt(out_links), inv_sqrt(in_links), t


def fit(spec, train):
    """Train ``spec``'s set-up with plain NumPy on ``train``; returns the parameter dict."""
    params = initial_parameters(spec, train, np.random.default_rng(spec.require_seed()))
    groups = user_groups(train)
    trust = trust_state(train)
    P, W = params["user_factors"], params["trustee_factors"]
    dt = P.dtype.type
    gamma, lam, lam_t = dt(spec.learning_rate), dt(spec.regularization), dt(spec.social_regularization)
    rating_step = group_step(P, params["item_factors"], params["implicit_factors"], params["user_bias"],
                             params["item_bias"], dt(params["global_bias"]), gamma, lam,
                             dt(spec.bias_regularization),
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

    for epoch in range(spec.epochs):
        sgd.grouped_pass(groups["rating_users"], groups["rating_records"], groups["rating_offsets"],
                         spec.seed, epoch, sgd.RATING_PASS, rating_step)
        sgd.grouped_pass(trust["trusters"], trust["edges"], offsets, spec.seed, epoch, sgd.LINK_PASS, link_step)
    return params


def _edges(params, t):
    P, W = np.asarray(params["user_factors"], np.float64), np.asarray(params["trustee_factors"], np.float64)
    for u in range(t.shape[0]):
        for k in range(t.indptr[u], t.indptr[u + 1]):
            v = int(t.indices[k])
            yield u, v, float(t.data[k]) - float(P[u] @ W[v]), P[u], W[v]


def loss(spec, params, data):
    lam, lam_b, lam_t = spec.regularization, spec.bias_regularization, spec.social_regularization
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


def gradient(spec, params, data):
    """Gradient of ``loss`` with respect to every learned array (the global mean is fixed: no entry)."""
    g = {k: np.zeros_like(v, dtype=np.float64) for k, v in params.items() if k != "global_bias"}
    lam, lam_b, lam_t = spec.regularization, spec.bias_regularization, spec.social_regularization
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
