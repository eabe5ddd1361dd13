"""Reference DP-SGD for BiasedMF / PMF (``BiasedMF(privacy=PrivacyBudget(...))``): plain loops, the spec of
``socialrec.privacy.dp_sgd`` and of the model's private fit.

What is released and what stays with the user. The item factors ``q_i`` and item biases ``b_i`` are the
released parameters: they are what DP-SGD protects. Each user's ``p_u`` and ``b_u`` are private to the user
(updated from the user's own ratings and the released items, as on the user's device; Jain, Rush, Smith,
Song, Thakurta, "Differentially private model personalization", NeurIPS 2021 call this the billboard model):
predictions for user ``u`` combine private ``p_u`` with private-by-DP items, and folding a new user in from
the released items uses no one else's data.

The mechanism, for global step ``t`` = 0, 1, ... (epoch ``t // steps_per_epoch``):

1. Draws: ``rng = numpy.random.default_rng([seed, 3, t])``; ``mask = rng.random(n_units) < q`` (Poisson
   sampling: each unit independently); then, when ``σ > 0``, ``noise = rng.standard_normal((n_items, k))``
   with ``k = d + 1`` (biased; column ``d`` is the item bias) or ``d``.
2. Units: ``unit="user"``: unit ``u`` is user ``u`` with all its ratings (CSR order; ``n_units = n_users``).
   No other unit: one rating moves p_u, which u's other ratings read, so only the user-level bound holds.
3. At the parameters before the step, for every rating (u, i, r) of every sampled unit,
   ``e = r − (μ + b_u + b_i + p_u·q_i)`` and the gradients of its term (DESIGN §4)
   ``g_q = −e p_u + λ q_i``, ``g_bi = −e + λ_b b_i`` (released side), ``g_p = −e q_i + λ p_u``,
   ``g_bu = −e + λ_b b_u`` (user side).
4. Clipping (Abadi et al., CCS 2016, Algorithm 1): a unit's released-side gradients form one vector (its rows
   of g_q and g_bi); its norm ``n`` gives the factor ``c = min(1, C / n)`` (1 when n = 0) and the unit adds
   ``c g_q`` to row i of ``G_Q`` and ``c g_bi`` to ``G_b[i]``.
5. Noise: ``G_Q += σ C noise[:, :d]``, ``G_b += σ C noise[:, d]``.
6. Step with ``γ = learning_rate · learning_rate_decay^epoch``: ``Q −= γ G_Q``, ``b_i −= γ G_b`` and, for the
   sampled users, ``p_u −= γ Σ g_p``, ``b_u −= γ Σ g_bu`` (the user's own, unclipped, noiseless gradient).

``q = 1``, ``σ = 0`` and ``C = inf`` make each step one full-batch gradient step on the objective with step γ
(tests/test_privacy.py checks it against ``reference.biased_mf.gradient``).

Initial parameters: ``biased_mf.initial_parameters``'s draws with every item row active (whether an item has
raters is data; the released start must not depend on it) and ``μ`` the private mean (``private_mean``).
"""
from __future__ import annotations

import math

import numpy as np

from . import _init

DP_STREAM = 3


def draws(seed, step, n_units, sampling_rate, noise_shape, noise_multiplier):
    """(mask, noise or None) of DP-SGD step ``step`` (rule 1 of the module)."""
    rng = np.random.default_rng([int(seed), DP_STREAM, int(step)])
    mask = rng.random(n_units) < sampling_rate
    noise = rng.standard_normal(noise_shape) if noise_multiplier > 0 else None
    return mask, noise


def units(train, unit):
    """(unit offsets, users, items, values): the ratings in CSR order grouped by unit (rule 2)."""
    r = train.ratings
    users = np.repeat(np.arange(r.shape[0]), np.diff(r.indptr))
    if unit != "user":
        raise ValueError(f"unit={unit!r}: BiasedMF's DP-SGD protects a 'user' (rule 2)")
    return np.asarray(r.indptr, dtype=np.int64), users, r.indices, r.data


MEAN_STREAM = 4


def private_mean(train, seed, mean_noise_multiplier):
    """``μ``, released by the Gaussian mechanism at user level: with ``m``, ``h`` the midpoint and half-width
    of the (public) rating scale, each user with ratings contributes ``((mean_u − m) / h, 1)`` (L2 norm at
    most √2) to the sums ``(S, N)``; ``z = default_rng([seed, 4]).standard_normal(2)`` (drawn only when the
    noise multiplier ``s`` > 0); ``μ = m + h · clip((S + s√2 z_0) / max(N + s√2 z_1, 1), −1, 1)``."""
    lo, hi = train.rating_scale
    mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
    if half == 0:
        return mid
    r = train.ratings
    S, N = 0.0, 0.0
    for u in range(r.shape[0]):
        values = r.data[r.indptr[u]:r.indptr[u + 1]].astype(np.float64)
        if len(values):
            S += (math.fsum(values.tolist()) / len(values) - mid) / half
            N += 1.0
    if mean_noise_multiplier > 0:
        z = np.random.default_rng([int(seed), MEAN_STREAM]).standard_normal(2)
        S += mean_noise_multiplier * math.sqrt(2.0) * z[0]
        N += mean_noise_multiplier * math.sqrt(2.0) * z[1]
    return mid + half * min(1.0, max(-1.0, S / max(N, 1.0)))


def initial_parameters(spec, train, rng, mean_noise_multiplier=0.0):
    draw = _init.normal if spec.init == "normal" else _init.uniform
    everyone = np.ones(train.n_items, dtype=bool)
    p = {"user_factors": draw(spec, rng, train.n_users, _init.has_entries(train.ratings, 1)),
         "item_factors": draw(spec, rng, train.n_items, everyone)}
    if spec.biased:
        p["user_bias"], p["item_bias"] = _init.zeros(spec, train.n_users), _init.zeros(spec, train.n_items)
        p["global_bias"] = np.array(private_mean(train, spec.seed, mean_noise_multiplier), dtype=spec.np_dtype)
    return p


def step(spec, params, batch, noise, gamma, clip_norm, noise_multiplier):
    """One DP-SGD step (rules 3-6) on ``params`` in place; ``batch`` lists the sampled units' ratings, one
    list of (u, i, r) per unit."""
    P, Q = params["user_factors"], params["item_factors"]
    dt = P.dtype.type
    d = P.shape[1]
    lam, lam_b = dt(spec.regularization), dt(spec.bias_regularization)
    biased = spec.biased
    mu = dt(params["global_bias"]) if biased else dt(0)
    GQ, GP = np.zeros_like(Q), np.zeros_like(P)
    if biased:
        bu, bi = params["user_bias"], params["item_bias"]
        Gbi, Gbu = np.zeros_like(bi), np.zeros_like(bu)
    for ratings in batch:
        released, norm2 = [], 0.0
        for u, i, r in ratings:
            p, q = P[u], Q[i]
            prediction = p @ q + (mu + bu[u] + bi[i] if biased else dt(0))
            e = dt(r) - prediction
            g_q = lam * q - e * p
            GP[u] += lam * p - e * q
            norm2 += float(g_q @ g_q)
            g_bi = None
            if biased:
                g_bi = lam_b * bi[i] - e
                Gbu[u] += lam_b * bu[u] - e
                norm2 += float(g_bi) ** 2
            released.append((i, g_q, g_bi))
        norm = math.sqrt(norm2)
        c = dt(1.0 if norm == 0 or norm <= clip_norm else clip_norm / norm)
        for i, g_q, g_bi in released:
            GQ[i] += c * g_q
            if biased:
                Gbi[i] += c * g_bi
    if noise is not None:
        scale = dt(noise_multiplier * clip_norm)
        GQ += scale * noise[:, :d].astype(dt)
        if biased:
            Gbi += scale * noise[:, d].astype(dt)
    gamma = dt(gamma)
    P -= gamma * GP
    Q -= gamma * GQ
    if biased:
        bu -= gamma * Gbu
        bi -= gamma * Gbi


def fit(spec, train, mechanism):
    """Train ``spec``'s BiasedMF privately on ``train`` (already bounded); returns the parameter dict.

    ``mechanism``: a dict with ``unit``, ``noise_multiplier``, ``clip_norm``, ``sampling_rate`` and
    ``steps_per_epoch`` and ``mean_noise_multiplier`` (a fitted model's ``privacy_`` holds them);
    ``spec.epochs`` epochs are run.
    """
    params = initial_parameters(spec, train, np.random.default_rng(spec.require_seed()),
                                mechanism["mean_noise_multiplier"])
    offsets, users, items, values = units(train, mechanism["unit"])
    n_units = len(offsets) - 1
    d = params["item_factors"].shape[1]
    shape = (train.n_items, d + 1 if spec.biased else d)
    sigma, C, q = mechanism["noise_multiplier"], mechanism["clip_norm"], mechanism["sampling_rate"]
    per_epoch = mechanism["steps_per_epoch"]
    for t in range(spec.epochs * per_epoch):
        mask, noise = draws(spec.seed, t, n_units, q, shape, sigma)
        batch = [[(int(users[k]), int(items[k]), float(values[k])) for k in range(offsets[j], offsets[j + 1])]
                 for j in np.flatnonzero(mask)]
        gamma = spec.learning_rate * spec.learning_rate_decay ** (t // per_epoch)
        step(spec, params, batch, noise, gamma, C, sigma)
    return params
