"""Reference SocialALS: WRMF plus (β/2) Σ_u Σ_f S_uf ‖x_u − x_f‖², S = (B + Bᵀ)/2 for the binarised trust
graph B; Jacobi user solves ``(A_u + β s_u I) x_u = b_u + β Σ_f S_uf x_f`` with the neighbours' values from
before the half-step (see the SocialALS docstring), then WRMF item solves."""
from __future__ import annotations

import numpy as np

from . import als

SPECIFIES = ("SocialALS",)


def similarity(trust, normalized=False):
    """{(u, f): S_uf}: every stored edge u→f (u ≠ f, value ≠ 0) adds ½ to S_uf and ½ to S_fu; with
    ``normalized`` each S_uf is then divided by sqrt(d_u d_f), d_u = Σ_f S_uf (rounded to float32 as the
    model stores S)."""
    t = trust.tocoo()
    S = {}
    for u, f, v in zip(t.row.tolist(), t.col.tolist(), t.data.tolist()):
        if u != f and v != 0:
            S[(u, f)] = S.get((u, f), 0.0) + 0.5
            S[(f, u)] = S.get((f, u), 0.0) + 0.5
    if normalized:
        d = {}
        for (u, _), s in S.items():
            d[u] = d.get(u, 0.0) + s
        S = {(u, f): s / np.sqrt(d[u] * d[f]) for (u, f), s in S.items()}
    return {key: float(np.float32(s)) for key, s in S.items()}


def _similarity(spec, trust):
    return similarity(trust, normalized=spec.similarity == "normalized")


def fit(spec, train):
    """Train ``spec``'s set-up with plain NumPy on ``train`` (ALS's initial draws); returns the parameter
    dict."""
    params = als.initial_parameters(spec, train, np.random.default_rng(spec.require_seed()))
    X, Y = params["user_factors"], params["item_factors"]
    dt = X.dtype.type
    R = als.weights(spec, train.ratings)  # the confidence weights w of the stored values
    Rt = R.T.tocsr()
    S = _similarity(spec, train.trust)
    beta = dt(spec.social_regularization)
    for _ in range(spec.epochs):
        if spec.social_regularization == 0:
            als.half_step(spec, R, X, Y)
        else:
            previous = X.copy()
            shift = np.zeros(X.shape[0], dtype=X.dtype)
            rhs = np.zeros_like(X)
            for (u, f), s in S.items():
                shift[u] += beta * dt(s)
                rhs[u] += beta * dt(s) * previous[f]
            als.half_step(spec, R, X, Y, shift=shift, rhs=rhs)
        als.half_step(spec, Rt, Y, X)
    return params


def loss(spec, params, data):
    X = np.asarray(params["user_factors"], dtype=np.float64)
    total = als.loss(spec, params, data)
    for (u, f), s in _similarity(spec, data.trust).items():
        d = X[u] - X[f]
        total += 0.5 * spec.social_regularization * s * (d @ d)
    return total


def gradient(spec, params, data):
    g = als.gradient(spec, params, data)
    X = np.asarray(params["user_factors"], dtype=np.float64)
    for (u, f), s in _similarity(spec, data.trust).items():
        # d/dx_u of (β/2) S_uf ‖x_u − x_f‖² (the (f, u) entry gives the same again)
        g["user_factors"][u] += spec.social_regularization * s * (X[u] - X[f])
        g["user_factors"][f] -= spec.social_regularization * s * (X[u] - X[f])
    return g
