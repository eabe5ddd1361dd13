"""Reference DP-SGD for SVD++ (``SVDpp(privacy=PrivacyBudget(..., unit="user"))``): plain loops, the spec of
the model's private fit and of ``_core.dp_svdpp_step`` (cpp/include/socialrec/dp_svdpp.hpp).

Released (protected): the item factors ``q_i``, item biases ``b_i``, the implicit factors ``y_j`` and the mean
``μ`` (``dp_biased_mf.private_mean``). On the user's side: ``p_u``, ``b_u`` (and the user's own rated set
``I_u``, which the prediction ``μ + b_u + b_i + (p_u + |I_u|^-½ Σ_{j∈I_u} y_j)·q_i`` reads).

The unit is the **user** (its ratings). User u's data reaches the released arrays only through its own
clipped contribution: its rating terms' gradients on ``q_i``, ``b_i`` and on the ``y_j`` of its rated items,
read at ``p_u``, ``b_u`` and ``I_u`` (u's own data) and the released arrays. A rating-level unit is refused:
one rating (u, i) is in ``I_u``, which every other rating of u reads through the implicit sum (and it moves
``p_u``), so the other ratings' contributions would depend on it.

The mechanism, for global step ``t`` (epoch ``t // steps_per_epoch``):

1. Draws: ``rng = default_rng([seed, 3, t])``; ``mask = rng.random(n_users) < q``; then, when ``σ > 0``,
   ``noise = rng.standard_normal((n_items, 2 d + 1))``: columns ``[0, d)`` for ``q``, ``d`` for ``b_i``,
   ``[d + 1, 2 d + 1)`` for ``y``.
2. At the parameters before the step, for every sampled user u with ratings ``R_u`` (n of them, CSR order),
   ``s = n^-½``, ``x_u = p_u + s Σ_{j∈R_u} y_j``; per rating (u, i, r): ``e = r − (μ + b_u + b_i + x_u·q_i)``,
   ``g_q = λ q_i − e x_u``, ``g_bi = λ_b b_i − e`` (released), ``g_p += λ p_u − e q_i``,
   ``g_bu += λ_b b_u − e`` (user side); and for each ``j ∈ R_u``
   ``g_yj = −s Σ_{(u,i,r)} e q_i + n λ y_j`` (every rating's term carries ``½ λ Σ_{j∈I_u} ‖y_j‖²``).
3. Clipping: the user's released rows (its g_q, g_bi and g_y) form one vector of norm ``n_g``; with
   ``c = min(1, C / n_g)`` (1 when 0) the user adds ``c g`` to ``G_Q``, ``G_b``, ``G_Y``.
4. Noise: ``G_Q += σ C noise[:, :d]``, ``G_b += σ C noise[:, d]``, ``G_Y += σ C noise[:, d + 1:]``.
5. Step with ``γ = learning_rate``: ``Q −= γ G_Q``, ``b_i −= γ G_b``, ``Y −= γ G_Y``; for the sampled users
   ``p_u −= γ g_p``, ``b_u −= γ g_bu``.

``q = 1``, ``σ = 0``, ``C = ∞``: one full-batch gradient step on SVD++'s objective (``reference.svdpp.gradient``).
"""
from __future__ import annotations

import math

import numpy as np

from . import _dp, _init
from .dp_biased_mf import private_mean


def initial_parameters(spec, train, rng, mean_noise_multiplier=0.0):
    """The model's draws (p: rated users active; q and y: every row active), zero biases, the private μ."""
    everyone = np.ones(train.n_items, dtype=bool)
    return {"user_factors": _init.normal(spec, rng, train.n_users, _init.has_entries(train.ratings, 1)),
            "item_factors": _init.normal(spec, rng, train.n_items, everyone),
            "implicit_factors": _init.normal(spec, rng, train.n_items, everyone),
            "user_bias": _init.zeros(spec, train.n_users), "item_bias": _init.zeros(spec, train.n_items),
            "global_bias": np.array(private_mean(train, spec.seed, mean_noise_multiplier), dtype=spec.np_dtype)}


def step(spec, params, sampled, ratings, noise, gamma, clip_norm, noise_multiplier):
    """One DP-SGD step (rules 2-5) on ``params`` in place; ``ratings[u]``: user u's (i, r) in CSR order;
    ``noise``: [the (n_items, 2 d + 1) draw] or None."""
    P, Q, Y = params["user_factors"], params["item_factors"], params["implicit_factors"]
    bu, bi = params["user_bias"], params["item_bias"]
    dt = P.dtype.type
    d = P.shape[1]
    lam, lam_b, mu = dt(spec.regularization), dt(spec.bias_regularization), dt(params["global_bias"])
    GQ, GY, GP = np.zeros_like(Q), np.zeros_like(Y), np.zeros_like(P)
    Gbi, Gbu = np.zeros_like(bi), np.zeros_like(bu)
    for u in sampled:
        rated = ratings[u]
        if not rated:
            continue
        n = len(rated)
        s = dt(1.0 / math.sqrt(n))
        z = np.zeros(d, dtype=P.dtype)
        for j, _ in rated:
            z = z + Y[j]
        x = P[u] + s * z
        rows, norm2 = [], 0.0
        e_q = np.zeros(d, dtype=P.dtype)
        for i, r in rated:
            e = dt(r) - (mu + bu[u] + bi[i] + x @ Q[i])
            g_q = lam * Q[i] - e * x
            g_b = lam_b * bi[i] - e
            GP[u] += lam * P[u] - e * Q[i]
            Gbu[u] += lam_b * bu[u] - e
            e_q = e_q + e * Q[i]
            rows += [(GQ, i, g_q), (Gbi, i, g_b)]
            norm2 += float(g_q @ g_q) + float(g_b) ** 2
        for j, _ in rated:
            g_y = dt(n) * lam * Y[j] - s * e_q
            rows.append((GY, j, g_y))
            norm2 += float(g_y @ g_y)
        _dp.clip_into(rows, norm2, clip_norm, dt)
    xi = noise[0] if noise is not None else None
    _dp.descend([(P, GP, None), (Q, GQ, None if xi is None else xi[:, :d]), (bu, Gbu, None),
                 (bi, Gbi, None if xi is None else xi[:, d]), (Y, GY, None if xi is None else xi[:, d + 1:])],
                gamma, noise_multiplier * clip_norm)


def fit(spec, train, mechanism):
    """Train ``spec``'s SVD++ privately on ``train`` (already bounded); ``mechanism``: a fitted model's
    ``privacy_``. Returns the parameter dict."""
    params = initial_parameters(spec, train, np.random.default_rng(spec.require_seed()),
                                mechanism["mean_noise_multiplier"])
    r = train.ratings
    ratings = [[(int(r.indices[k]), float(r.data[k])) for k in range(r.indptr[u], r.indptr[u + 1])]
               for u in range(r.shape[0])]
    _dp.run(spec, mechanism, train.n_users, [(train.n_items, 2 * spec.factors + 1)],
            lambda sampled, noise: step(spec, params, sampled, ratings, noise, spec.learning_rate,
                                        mechanism["clip_norm"], mechanism["noise_multiplier"]))
    return params
