"""Reference SoReg (Ma et al. WSDM 2011): edge similarity, objective, gradient, and SGD in the engine's
order (DESIGN §4-5). Mirrors cpp/include/socialrec/similarity.hpp and models/soreg.hpp.

With ``biased`` (the default) the prediction is ``μ + b_u + b_i + U_u·V_i`` and each rating adds
``½ λ_b (b_u² + b_i²)`` to the objective (Koren, Bell, Volinsky 2009); ``biased=False`` is the paper's
``μ + U_u·V_i``."""
from __future__ import annotations

import math

import numpy as np

from . import _init, sgd
from ._penalty import penalty_weights
from ._trust import csr_arrays

SPECIFIES = ("SoReg",)


def edge_similarity(ratings, src, dst, kind):
    """Sim of each pair (src[e], dst[e]) over co-rated items: ``"pcc"`` → (1 + PCC)/2 with each user's mean
    over all their ratings, ``"vss"`` → cosine; 0 without co-rated items or with a zero denominator; sums in
    ascending item order."""
    r = ratings.tocsr()
    r.sort_indices()
    out = np.zeros(len(src), dtype=np.float64)
    for e in range(len(src)):
        u, f = int(src[e]), int(dst[e])
        iu, vu = r.indices[r.indptr[u]:r.indptr[u + 1]], r.data[r.indptr[u]:r.indptr[u + 1]].astype(np.float64)
        jf, vf = r.indices[r.indptr[f]:r.indptr[f + 1]], r.data[r.indptr[f]:r.indptr[f + 1]].astype(np.float64)
        mu = mf = 0.0
        if kind == "pcc":
            mu = sum(float(x) for x in vu) / len(vu) if len(vu) else 0.0
            mf = sum(float(x) for x in vf) / len(vf) if len(vf) else 0.0
        num = su = sf = 0.0
        a = b = 0
        while a < len(iu) and b < len(jf):
            if iu[a] < jf[b]:
                a += 1
            elif jf[b] < iu[a]:
                b += 1
            else:
                x, y = float(vu[a]) - mu, float(vf[b]) - mf
                num += x * y
                su += x * x
                sf += y * y
                a += 1
                b += 1
        den = math.sqrt(su) * math.sqrt(sf)
        if den > 0:
            out[e] = (1.0 + num / den) / 2.0 if kind == "pcc" else num / den
    return out


def _similarity(spec, data):
    src, dst, _ = data.trust_arrays()
    if spec.similarity is None:
        return np.ones(len(src), dtype=np.float64)
    return edge_similarity(data.ratings, src, dst, spec.similarity)


def initial_parameters(spec, train, rng, sim):
    """Draws, in order (``_init.normal``): ``user_factors`` (users who rate, or are an end of a trust edge
    with Sim > 0, active), ``item_factors`` (rated items active); ``global_bias`` = μ; with ``biased``,
    ``user_bias`` = ``item_bias`` = 0 (no draws)."""
    users = _init.has_entries(train.ratings, 1)
    src, dst, _ = train.trust_arrays()
    for u, f, s in zip(src, dst, sim):
        if s > 0:
            users[u] = users[f] = True
    p = {"user_factors": _init.normal(spec, rng, train.n_users, users),
         "item_factors": _init.normal(spec, rng, train.n_items, _init.has_entries(train.ratings, 0)),
         "global_bias": _init.global_mean(spec, train)}
    return {**p, **_init.biases(spec, train)}


def centred_grid(spec, train, global_bias):
    """The rating grid with r − μ as values: the float32 rating minus μ (as stored) in float64, then rounded
    to float32 -- the kernels fit U_u·V_i to it."""
    _, _, values = train.user_item_arrays()
    return sgd.rating_grid(spec, train, _centred_values(values, global_bias))


def social_state(train, sim, regularizer):
    """The social pass's records; edges with Sim <= 0 are left out (they would reward pulling two users
    apart). SR2: the kept edges (u, f, Sim) in CSR order, Sim rounded to float32. SR1: the users with a kept
    out-edge (ascending) and the CSR of their kept out-edges with float64 Sim."""
    src, dst, _ = train.trust_arrays()
    keep = [s > 0 for s in sim]
    if regularizer == "SR2":
        kept = [e for e in range(len(src)) if keep[e]]
        return {"edges": sgd.pack_edges(src[kept], dst[kept], np.asarray(sim, np.float64)[kept].astype(np.float32))}
    offsets, trust_dst, trust_sim = csr_arrays(train, keep=keep, weights=sim)
    users = [u for u in range(train.n_users) if offsets[u + 1] > offsets[u]]
    return {"social_users": np.array(users, dtype=np.int32), "trust_offsets": offsets, "trust_dst": trust_dst,
            "trust_sim": trust_sim}


def fit(spec, train):
    """Train ``spec``'s set-up with plain NumPy on ``train``; returns the parameter dict."""
    sim = _similarity(spec, train)
    params = initial_parameters(spec, train, np.random.default_rng(spec.require_seed()), sim)
    grid = centred_grid(spec, train, params["global_bias"])
    social = social_state(train, sim, spec.regularizer)
    U, V = params["user_factors"], params["item_factors"]
    dt = U.dtype.type
    gamma, lam, beta = dt(spec.learning_rate), dt(spec.regularization), dt(spec.social_regularization)
    lam_b = dt(spec.bias_regularization)
    if spec.biased:
        bu, bi = params["user_bias"], params["item_bias"]
    w_user, w_item = penalty_weights(spec, train)  # regularization_scaling's (1: "occurrence", exact)

    def rating_step(u, i, r):
        lam_u, lam_i = lam * dt(w_user[u]), lam * dt(w_item[i])
        lam_bu, lam_bi = lam_b * dt(w_user[u]), lam_b * dt(w_item[i])
        p, q = U[u].copy(), V[i].copy()
        prediction = p @ q
        if spec.biased:  # the kernel's order: U_u·V_i + (b_u + b_i) (BiasedMF's step with μ = 0 on r − μ)
            b_u, b_i = bu[u], bi[i]
            prediction = prediction + (dt(0) + b_u + b_i)
        e = dt(r) - prediction
        U[u] = p + gamma * (e * q - lam_u * p)
        V[i] = q + gamma * (e * p - lam_i * q)
        if spec.biased:
            bu[u] = b_u + gamma * (e - lam_bu * b_u)
            bi[i] = b_i + gamma * (e - lam_bi * b_i)

    def edge_step(edge):
        u, f, s = int(edge[0]), int(edge[1]), dt(edge[2])
        d = U[u] - U[f]
        U[u] = U[u] - gamma * beta * s * d
        U[f] = U[f] + gamma * beta * s * d

    def user_step(user):
        user = int(user)
        lo, hi = social["trust_offsets"][user], social["trust_offsets"][user + 1]
        dst, w = social["trust_dst"][lo:hi], social["trust_sim"][lo:hi].astype(dt)
        weighted = np.zeros_like(U[user])
        total = dt(0)
        for f, s in zip(dst, w):
            total += s
            weighted += s * U[f]
        d = U[user] - weighted / total
        U[user] = U[user] - gamma * beta * d
        for f, s in zip(dst, w):
            U[f] = U[f] + gamma * beta * s / total * d

    for epoch in range(spec.epochs):
        sgd.grid_pass(grid, spec.seed, epoch, sgd.RATING_PASS, rating_step)
        if spec.regularizer == "SR2":
            sgd.flat_pass(social["edges"], spec.seed, epoch, sgd.LINK_PASS, edge_step)
        else:
            sgd.flat_pass(social["social_users"], spec.seed, epoch, sgd.USER_PASS, user_step)
    return params


def _centred_values(values, global_bias):
    """r − μ as the kernels see it (float32)."""
    return (np.asarray(values, dtype=np.float64) - float(global_bias)).astype(np.float32)


def _centred(values, params):
    return _centred_values(values, params["global_bias"])


def _social_terms(spec, data, sim):
    """Yields (user, [(f, weight)], kind) for every social term with Sim > 0."""
    src, dst, _ = data.trust_arrays()
    if spec.regularizer == "SR2":
        for u, f, s in zip(src, dst, sim):
            if s > 0:
                yield int(u), [(int(f), float(np.float32(s)))]
        return
    by_user = {}
    for u, f, s in zip(src, dst, sim):
        if s > 0:
            by_user.setdefault(int(u), []).append((int(f), float(s)))
    yield from by_user.items()


def _biases(spec, params, n_users, n_items):
    """(b_u, b_i) as float64 arrays; zeros without ``biased``."""
    if not spec.biased:
        return np.zeros(n_users), np.zeros(n_items)
    return np.asarray(params["user_bias"], float), np.asarray(params["item_bias"], float)


def loss(spec, params, data):
    U, V = np.asarray(params["user_factors"], float), np.asarray(params["item_factors"], float)
    bu, bi = _biases(spec, params, len(U), len(V))
    lam, beta = spec.regularization, spec.social_regularization
    lam_b = spec.bias_regularization if spec.biased else 0.0
    total = 0.0
    users, items, values = data.user_item_arrays()
    w_user, w_item = penalty_weights(spec, data)
    for u, i, r in zip(users, items, _centred(values, params)):
        e = float(r) - bu[u] - bi[i] - U[u] @ V[i]
        w_u, w_i = w_user[u], w_item[i]
        total += (0.5 * e * e + 0.5 * lam * (w_u * (U[u] @ U[u]) + w_i * (V[i] @ V[i]))
                  + 0.5 * lam_b * (w_u * bu[u] ** 2 + w_i * bi[i] ** 2))
    for u, neighbours in _social_terms(spec, data, _similarity(spec, data)):
        if spec.regularizer == "SR2":
            (f, s), = neighbours
            d = U[u] - U[f]
            total += 0.5 * beta * s * (d @ d)
        else:
            weights = sum(s for _, s in neighbours)
            d = U[u] - sum(s * U[f] for f, s in neighbours) / weights
            total += 0.5 * beta * (d @ d)
    return total


def gradient(spec, params, data):
    U, V = np.asarray(params["user_factors"], float), np.asarray(params["item_factors"], float)
    bu, bi = _biases(spec, params, len(U), len(V))
    g = {"user_factors": np.zeros_like(U), "item_factors": np.zeros_like(V)}
    if spec.biased:
        g["user_bias"], g["item_bias"] = np.zeros_like(bu), np.zeros_like(bi)
    lam, beta = spec.regularization, spec.social_regularization
    users, items, values = data.user_item_arrays()
    w_user, w_item = penalty_weights(spec, data)
    for u, i, r in zip(users, items, _centred(values, params)):
        e = float(r) - bu[u] - bi[i] - U[u] @ V[i]
        w_u, w_i = w_user[u], w_item[i]
        g["user_factors"][u] += -e * V[i] + lam * w_u * U[u]
        g["item_factors"][i] += -e * U[u] + lam * w_i * V[i]
        if spec.biased:
            g["user_bias"][u] += -e + spec.bias_regularization * w_u * bu[u]
            g["item_bias"][i] += -e + spec.bias_regularization * w_i * bi[i]
    for u, neighbours in _social_terms(spec, data, _similarity(spec, data)):
        if spec.regularizer == "SR2":
            (f, s), = neighbours
            d = U[u] - U[f]
            g["user_factors"][u] += beta * s * d
            g["user_factors"][f] -= beta * s * d
        else:
            weights = sum(s for _, s in neighbours)
            d = U[u] - sum(s * U[f] for f, s in neighbours) / weights
            g["user_factors"][u] += beta * d
            for f, s in neighbours:
                g["user_factors"][f] -= beta * s / weights * d
    return g
