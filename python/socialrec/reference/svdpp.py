"""Reference SVD++: the objective, its gradient, and the user-grouped SGD in the engine's order.

The user step (``group_step``) is shared with the TrustSVD reference, as the C++ step is
(cpp/include/socialrec/models/svdpp.hpp).
"""
from __future__ import annotations

import math

import numpy as np

from . import _init, sgd
from ._penalty import penalty_weights

SPECIFIES = ("SVDpp",)


def initial_parameters(spec, train, rng):
    """Draws, in order (``_init.normal``): ``user_factors`` (rated users active), ``item_factors`` and
    ``implicit_factors`` (rated items active); ``user_bias`` = ``item_bias`` = 0, ``global_bias`` = μ."""
    rated_users, rated_items = _init.has_entries(train.ratings, 1), _init.has_entries(train.ratings, 0)
    return {"user_factors": _init.normal(spec, rng, train.n_users, rated_users),
            "item_factors": _init.normal(spec, rng, train.n_items, rated_items),
            "implicit_factors": _init.normal(spec, rng, train.n_items, rated_items),
            "user_bias": _init.zeros(spec, train.n_users), "item_bias": _init.zeros(spec, train.n_items),
            "global_bias": _init.global_mean(spec, train)}


def user_groups(train):
    """The ratings grouped by user (``sgd.pack_user_groups``)."""
    users, items, values = train.user_item_arrays()
    return sgd.pack_user_groups(users, items, values, train.n_users)


def group_step(P, Q, Y, bu, bi, mu, gamma, lam, lam_b, trust=None, weights=None):
    """The step of one user's group of ratings. ``trust``: None (SVD++) or a dict with ``W``, ``offsets``,
    ``trustees``, ``item_weight``, ``trustee_weight`` (TrustSVD: weighted penalties and the trustee sum).
    ``weights`` (SVD++ only): None, or regularization_scaling's (w_user, w_item): λ w_u on p_u (λ_b w_u on b_u),
    λ w_i on q_i and y_i (λ_b w_i on b_i).

    Ratings step p, q, b one by one with the cached implicit sum z; then each y_i (and w_v) takes one proximal
    step on the group's term: ``y <- (y + γ |I_u|^-½ g) / (1 + γ |I_u| λ_y)``, g the summed e·q of the group."""
    dt = P.dtype.type

    def item_penalty(i):
        """The weight of item i's rows: TrustSVD's |U_i|^-½, SVD++'s w_i, else 1."""
        if trust is not None:
            return dt(trust["item_weight"][i])
        return dt(weights[1][i]) if weights is not None else dt(1)

    def step(u, segment):
        n = len(segment)
        s_items = dt(1.0 / math.sqrt(n))
        z = np.zeros(P.shape[1], dtype=P.dtype)
        for rec in segment:
            z = z + Y[int(rec["item"])]
        z = z * s_items
        trustees, s_trust = [], dt(0)
        if trust is not None:
            trustees = trust["trustees"][trust["offsets"][u]:trust["offsets"][u + 1]]
            if len(trustees):
                s_trust = dt(1.0 / math.sqrt(len(trustees)))
                t = np.zeros_like(z)
                for v in trustees:
                    t = t + trust["W"][v]
                z = z + s_trust * t
        lam_p = lam * s_items if trust is not None else lam
        lam_bu = lam_b * s_items if trust is not None else lam_b
        if weights is not None:
            lam_p, lam_bu = lam * dt(weights[0][u]), lam_b * dt(weights[0][u])
        g = np.zeros_like(z)
        for rec in segment:
            i = int(rec["item"])
            c_i = item_penalty(i)
            lam_q, lam_bi = lam * c_i, lam_b * c_i
            p, q = P[u].copy(), Q[i].copy()
            b_u, b_i = bu[u], bi[i]
            e = dt(rec["value"]) - (mu + b_u + b_i + (p + z) @ q)
            g = g + e * q
            P[u] = p + gamma * (e * q - lam_p * p)
            Q[i] = q + gamma * (e * (p + z) - lam_q * q)
            bu[u] = b_u + gamma * (e - lam_bu * b_u)
            bi[i] = b_i + gamma * (e - lam_bi * b_i)
        n_t = dt(n)
        for rec in segment:  # one proximal step per y_i on the group's term (penalty counted per rating)
            i = int(rec["item"])
            lam_y = lam * item_penalty(i)
            shrink = dt(1) / (dt(1) + gamma * n_t * lam_y)
            Y[i] = (Y[i] + gamma * (s_items * g)) * shrink
        if len(trustees):
            step_w = g * (gamma * s_trust)
            for v in trustees:
                lam_w = lam * dt(trust["trustee_weight"][v])
                shrink = dt(1) / (dt(1) + gamma * n_t * lam_w)
                trust["W"][v] = (trust["W"][v] + step_w) * shrink

    return step


def fit(spec, train):
    """Train ``spec``'s set-up with plain NumPy on ``train``; returns the parameter dict."""
    params = initial_parameters(spec, train, np.random.default_rng(spec.require_seed()))
    groups = user_groups(train)
    dt = params["user_factors"].dtype.type
    step = group_step(params["user_factors"], params["item_factors"], params["implicit_factors"],
                      params["user_bias"], params["item_bias"], dt(params["global_bias"]),
                      dt(spec.learning_rate), dt(spec.regularization), dt(spec.bias_regularization),
                      weights=penalty_weights(spec, train))
    for epoch in range(spec.epochs):
        sgd.grouped_pass(groups["rating_users"], groups["rating_records"], groups["rating_offsets"],
                         spec.seed, epoch, sgd.RATING_PASS, step)
    return params


def rating_terms(params, data, trust_graph=None):
    """Yields (u, i, e_ui, x_u, |I_u|) per rating of ``data``, x_u = p_u + implicit sums (float64)."""
    r = data.ratings.tocsr()
    P, Q, Y = (np.asarray(params[k], dtype=np.float64) for k in ("user_factors", "item_factors", "implicit_factors"))
    mu = float(params["global_bias"])
    for u in range(data.n_users):
        items = r.indices[r.indptr[u]:r.indptr[u + 1]]
        values = r.data[r.indptr[u]:r.indptr[u + 1]]
        if len(items) == 0:
            continue
        z = sum(Y[j] for j in items) / math.sqrt(len(items))
        if trust_graph is not None:
            trustees = trust_graph.indices[trust_graph.indptr[u]:trust_graph.indptr[u + 1]]
            if len(trustees):
                W = np.asarray(params["trustee_factors"], dtype=np.float64)
                z = z + sum(W[v] for v in trustees) / math.sqrt(len(trustees))
        x = P[u] + z
        for i, value in zip(items, values):
            pred = mu + float(params["user_bias"][u]) + float(params["item_bias"][i]) + float(x @ Q[i])
            yield u, int(i), float(value) - pred, x, items


def loss(spec, params, data):
    """Σ_(u,i) ½ e² + ½ λ (w_u ‖p_u‖² + w_i ‖q_i‖² + Σ_{j∈I_u} w_j ‖y_j‖²) + ½ λ_b (w_u b_u² + w_i b_i²), the
    weights ``penalty_weights`` (1 with "occurrence")."""
    lam, lam_b = spec.regularization, spec.bias_regularization
    P, Q, Y = (np.asarray(params[k], dtype=np.float64) for k in ("user_factors", "item_factors", "implicit_factors"))
    w_user, w_item = penalty_weights(spec, data)
    total = 0.0
    for u, i, e, x, items in rating_terms(params, data):
        total += 0.5 * e * e + 0.5 * lam * (w_user[u] * (P[u] @ P[u]) + w_item[i] * (Q[i] @ Q[i])
                                            + sum(w_item[j] * (Y[j] @ Y[j]) for j in items))
        total += 0.5 * lam_b * (w_user[u] * float(params["user_bias"][u]) ** 2
                                + w_item[i] * float(params["item_bias"][i]) ** 2)
    return total


def gradient(spec, params, data):
    """Gradient of ``loss`` with respect to every learned array (the global mean is fixed: no entry)."""
    g = {k: np.zeros_like(v, dtype=np.float64) for k, v in params.items() if k != "global_bias"}
    lam, lam_b = spec.regularization, spec.bias_regularization
    P, Q, Y = (np.asarray(params[k], dtype=np.float64) for k in ("user_factors", "item_factors", "implicit_factors"))
    w_user, w_item = penalty_weights(spec, data)
    for u, i, e, x, items in rating_terms(params, data):
        g["user_factors"][u] += -e * Q[i] + lam * w_user[u] * P[u]
        g["item_factors"][i] += -e * x + lam * w_item[i] * Q[i]
        g["user_bias"][u] += -e + lam_b * w_user[u] * float(params["user_bias"][u])
        g["item_bias"][i] += -e + lam_b * w_item[i] * float(params["item_bias"][i])
        for j in items:
            g["implicit_factors"][j] += -e * Q[i] / math.sqrt(len(items)) + lam * w_item[j] * Y[j]
    return g
