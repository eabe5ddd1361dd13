"""Reference SoReg (Ma et al. WSDM 2011): edge similarity, objective, gradient, and SGD in the engine's
order (DESIGN §4-5). Mirrors cpp/include/socialrec/similarity.hpp and models/soreg.hpp."""
from __future__ import annotations

import math

import numpy as np

from ..models.soreg import centred_grid, initial_parameters, social_state
from . import sgd


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


def _similarity(model, data):
    src, dst, _ = data.trust_arrays()
    if model.similarity is None:
        return np.ones(len(src), dtype=np.float64)
    return edge_similarity(data.ratings, src, dst, model.similarity)


def fit(model, train):
    """Train a copy of ``model``'s set-up with plain NumPy; returns the parameter dict."""
    sim = _similarity(model, train)
    params = initial_parameters(model, train, np.random.default_rng(model.seed), sim)
    grid = centred_grid(model, train, params["global_bias"])
    social = social_state(train, sim, model.regularizer)
    U, V = params["user_factors"], params["item_factors"]
    dt = U.dtype.type
    gamma, lam, beta = dt(model.learning_rate), dt(model.regularization), dt(model.social_regularization)

    def rating_step(u, i, r):
        p, q = U[u].copy(), V[i].copy()
        e = dt(r) - p @ q
        U[u] = p + gamma * (e * q - lam * p)
        V[i] = q + gamma * (e * p - lam * q)

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

    for epoch in range(model.epochs):
        sgd.grid_pass(grid, model.seed, epoch, sgd.RATING_PASS, rating_step)
        if model.regularizer == "SR2":
            sgd.flat_pass(social["edges"], model.seed, epoch, sgd.LINK_PASS, edge_step)
        else:
            sgd.flat_pass(social["social_users"], model.seed, epoch, sgd.USER_PASS, user_step)
    return params


def _centred(values, params):
    """r − μ as the kernels see it (float32)."""
    return (values.astype(np.float64) - float(params["global_bias"])).astype(np.float32)


def _social_terms(model, data, sim):
    """Yields (user, [(f, weight)], kind) for every social term with Sim > 0."""
    src, dst, _ = data.trust_arrays()
    if model.regularizer == "SR2":
        for u, f, s in zip(src, dst, sim):
            if s > 0:
                yield int(u), [(int(f), float(np.float32(s)))]
        return
    by_user = {}
    for u, f, s in zip(src, dst, sim):
        if s > 0:
            by_user.setdefault(int(u), []).append((int(f), float(s)))
    yield from by_user.items()


def loss(model, params, data):
    U, V = np.asarray(params["user_factors"], float), np.asarray(params["item_factors"], float)
    lam, beta = model.regularization, model.social_regularization
    total = 0.0
    users, items, values = data.user_item_arrays()
    for u, i, r in zip(users, items, _centred(values, params)):
        e = float(r) - U[u] @ V[i]
        total += 0.5 * e * e + 0.5 * lam * (U[u] @ U[u] + V[i] @ V[i])
    for u, neighbours in _social_terms(model, data, _similarity(model, data)):
        if model.regularizer == "SR2":
            (f, s), = neighbours
            d = U[u] - U[f]
            total += 0.5 * beta * s * (d @ d)
        else:
            weights = sum(s for _, s in neighbours)
            d = U[u] - sum(s * U[f] for f, s in neighbours) / weights
            total += 0.5 * beta * (d @ d)
    return total


def gradient(model, params, data):
    U, V = np.asarray(params["user_factors"], float), np.asarray(params["item_factors"], float)
    g = {"user_factors": np.zeros_like(U), "item_factors": np.zeros_like(V)}
    lam, beta = model.regularization, model.social_regularization
    users, items, values = data.user_item_arrays()
    for u, i, r in zip(users, items, _centred(values, params)):
        e = float(r) - U[u] @ V[i]
        g["user_factors"][u] += -e * V[i] + lam * U[u]
        g["item_factors"][i] += -e * U[u] + lam * V[i]
    for u, neighbours in _social_terms(model, data, _similarity(model, data)):
        if model.regularizer == "SR2":
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
