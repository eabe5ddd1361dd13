"""Reference DP-SGD for SoRec (``SoRec(privacy=PrivacyBudget(..., unit="user"))``): plain loops, the spec of
the model's private fit and of ``_core.dp_sorec_step`` (cpp/include/socialrec/dp_sorec.hpp).

The unit is the **user**: all of one user's ratings *and* outgoing trust edges. SoRec (Ma et al., CIKM 2008)
ties a user's factors ``U_u`` to the ratings (through the item factors ``V``) and to the trust edges u→k
(through the trustees' link factors ``Z_k``). What is released and what stays with the user:

- Released (protected by DP-SGD): the item factors ``V``, item biases ``b_i`` and the link factors ``Z`` (one
  row per user, but written by the *trusters'* edges: ``Z_k`` is what the others' trust says about ``k``),
  and the offset ``b`` (from the private mean, ``dp_biased_mf.private_mean``).
- On the user's side (not released): ``U_u`` and ``b_u``, updated from u's own ratings and edges and the
  released ``V``, ``b_i``, ``Z`` only.

Why this is user-level DP: every way user u's data reaches ``V``, ``b_i`` or ``Z`` goes through u's own clipped
contribution (u's rating terms' gradients on ``V``, ``b_i`` and u's edge terms' gradients on ``Z_k``, one
vector clipped to ``C``); u's ``U_u``, which those gradients read, depends only on u's data and the released
arrays. No other user's contribution reads u's data. Two changes from the non-private model make this hold:

1. The link target is ``c_uk = 1`` for every kept edge (the edge itself). The paper's degree-damped target
   ``c*_uk = √(d⁻(k) / (d⁺(u) + d⁻(k)))`` (eq. 8) reads the trustee's in-degree, which the *other* trusters'
   edges set: user w's edge w→k would change user u's contribution.
2. Every item row and every link row starts drawn (whether an item has raters or a user has trusters is the
   others' data); ``b = logit((μ − r_min) / (r_max − r_min))`` with ``μ`` the private mean (``offset=True``).

A rating-level or edge-level unit is refused: one rating (or edge) of u moves ``U_u``, which every other
rating and edge of u reads, so the other units' contributions would depend on it (the clipping bound of one
unit would not bound the neighbour's influence).

The mechanism, for global step ``t`` (epoch ``t // steps_per_epoch``):

1. Draws: ``rng = default_rng([seed, 3, t])``; ``mask = rng.random(n_users) < q``; then, when ``σ > 0``,
   ``item_noise = rng.standard_normal((n_items, d + biased))`` (column ``d``: the item bias) and
   ``link_noise = rng.standard_normal((n_users, d))``.
2. At the parameters before the step, for every sampled user u, with ``r̃ = (r − r_min) / (r_max − r_min)``
   (float32, as the model maps it), ``g`` the logistic function and ``g' = g (1 − g)``:
   rating (u, i, r): ``x = b + b_u + b_i + U_u·V_i``, ``ge = (r̃ − g(x)) g'(x)``;
   ``g_V = λ V_i − ge U_u``, ``g_bi = λ_b b_i − ge`` (released), ``g_U += λ U_u − ge V_i``,
   ``g_bu += λ_b b_u − ge`` (user side);
   edge u→k: ``x = U_u·Z_k``, ``ge = (1 − g(x)) g'(x)``; ``g_Z = λ_C (λ Z_k − ge U_u)`` (released),
   ``g_U += λ_C (λ U_u − ge Z_k)`` (user side).
3. Clipping: the user's released rows (all its g_V, g_bi and g_Z) form one vector of norm ``n``; with
   ``c = min(1, C / n)`` (1 when n = 0) the user adds ``c g`` to ``G_V``, ``G_b``, ``G_Z``.
4. Noise: ``G_V += σ C item_noise[:, :d]``, ``G_b += σ C item_noise[:, d]``, ``G_Z += σ C link_noise``.
5. Step with ``γ = learning_rate``: ``V −= γ G_V``, ``b_i −= γ G_b``, ``Z −= γ G_Z``, and for the sampled users
   ``U_u −= γ g_U``, ``b_u −= γ g_bu`` (their own, unclipped, noiseless gradients).

``q = 1``, ``σ = 0`` and ``C = ∞`` make a step one full-batch gradient step on the objective with the targets
of rule 2 (``gradient`` below; tests/test_privacy_models.py).
"""
from __future__ import annotations

import math

import numpy as np

from . import _dp, _init
from ._logistic import g, pair_gradient
from .dp_biased_mf import private_mean

def private_offset(spec, train, mean_noise_multiplier):
    """``b`` of rule 2: ``logit`` of the private mean mapped to [0, 1] (clamped to [1e-6, 1 − 1e-6]), or 0."""
    if not spec.offset:
        return np.array(0.0, dtype=spec.np_dtype)
    lo, hi = train.rating_scale
    mean = (private_mean(train, spec.seed, mean_noise_multiplier) - lo) / (hi - lo)
    mean = min(max(mean, 1e-6), 1 - 1e-6)
    return np.array(math.log(mean / (1 - mean)), dtype=spec.np_dtype)


def initial_parameters(spec, train, rng, mean_noise_multiplier=0.0):
    """The model's draws (``U``: users who rate or trust active; ``V`` and ``Z``: every row active)."""
    own = _init.has_entries(train.ratings, 1) | _init.has_entries(train.trust, 1)
    return {"user_factors": _init.normal(spec, rng, train.n_users, own),
            "item_factors": _init.normal(spec, rng, train.n_items, np.ones(train.n_items, dtype=bool)),
            "link_factors": _init.normal(spec, rng, train.n_users, np.ones(train.n_users, dtype=bool)),
            "global_bias": private_offset(spec, train, mean_noise_multiplier), **_init.biases(spec, train)}


def unit_ratings(train):
    """Per user, the list of (i, r̃) of its ratings in CSR order (r̃ as the model's float32 mapping)."""
    r = train.ratings
    lo, hi = train.rating_scale
    unit = ((r.data.astype(np.float64) - lo) / (hi - lo)).astype(np.float32)
    return [[(int(r.indices[k]), float(unit[k])) for k in range(r.indptr[u], r.indptr[u + 1])]
            for u in range(r.shape[0])]


def unit_edges(train):
    """Per user, its trustees in CSR order."""
    t = train.trust
    return [[int(k) for k in t.indices[t.indptr[u]:t.indptr[u + 1]]] for u in range(t.shape[0])]


def step(spec, params, sampled, ratings, edges, noise, gamma, clip_norm, noise_multiplier):
    """One DP-SGD step (rules 2-5) on ``params`` in place for the ``sampled`` users."""
    U, V, Z = params["user_factors"], params["item_factors"], params["link_factors"]
    dt = U.dtype.type
    d = U.shape[1]
    lam, lam_b, lam_c = dt(spec.regularization), dt(spec.bias_regularization), dt(spec.social_regularization)
    biased = spec.biased
    b = dt(params["global_bias"])
    GV, GZ, GU = np.zeros_like(V), np.zeros_like(Z), np.zeros_like(U)
    if biased:
        bu, bi = params["user_bias"], params["item_bias"]
        Gbi, Gbu = np.zeros_like(bi), np.zeros_like(bu)
    for u in sampled:
        rows, norm2 = [], 0.0  # (array, row, gradient) of the released side
        for i, r in ratings[u]:
            x = b + U[u] @ V[i] + ((bu[u] + bi[i]) if biased else dt(0))
            s = dt(g(x))
            ge = (dt(r) - s) * s * (dt(1) - s)
            g_v = lam * V[i] - ge * U[u]
            GU[u] += lam * U[u] - ge * V[i]
            rows.append((GV, i, g_v))
            norm2 += float(g_v @ g_v)
            if biased:
                g_b = lam_b * bi[i] - ge
                Gbu[u] += lam_b * bu[u] - ge
                rows.append((Gbi, i, g_b))
                norm2 += float(g_b) ** 2
        for k in edges[u]:
            s = dt(g(U[u] @ Z[k]))
            ge = (dt(1) - s) * s * (dt(1) - s)
            g_z = lam_c * (lam * Z[k] - ge * U[u])
            GU[u] += lam_c * (lam * U[u] - ge * Z[k])
            rows.append((GZ, k, g_z))
            norm2 += float(g_z @ g_z)
        _dp.clip_into(rows, norm2, clip_norm, dt)
    item_noise, link_noise = noise if noise is not None else (None, None)
    blocks = [(U, GU, None), (V, GV, item_noise[:, :d] if noise is not None else None),
              (Z, GZ, link_noise)]
    if biased:
        blocks += [(bu, Gbu, None), (bi, Gbi, item_noise[:, d] if noise is not None else None)]
    _dp.descend(blocks, gamma, noise_multiplier * clip_norm)


def fit(spec, train, mechanism):
    """Train ``spec``'s SoRec privately on ``train`` (already bounded); ``mechanism``: a fitted model's
    ``privacy_`` (``noise_multiplier``, ``clip_norm``, ``sampling_rate``, ``steps_per_epoch``,
    ``mean_noise_multiplier``). Returns the parameter dict."""
    params = initial_parameters(spec, train, np.random.default_rng(spec.require_seed()),
                                mechanism["mean_noise_multiplier"])
    ratings, edges = unit_ratings(train), unit_edges(train)
    shapes = [(train.n_items, spec.factors + 1 if spec.biased else spec.factors), (train.n_users, spec.factors)]
    _dp.run(spec, mechanism, train.n_users, shapes,
            lambda sampled, noise: step(spec, params, sampled, ratings, edges, noise, spec.learning_rate,
                                        mechanism["clip_norm"], mechanism["noise_multiplier"]))
    return params


def gradient(spec, params, train):
    """Gradient of the private objective (the model's, with link targets 1: rule 2) over all of ``train``,
    by the shared pair-term gradient (``_logistic.pair_gradient``); float64, no entry for ``global_bias``."""
    grad = {k: np.zeros_like(v, dtype=np.float64) for k, v in params.items() if k != "global_bias"}
    biases = (params["user_bias"], params["item_bias"], spec.bias_regularization) if spec.biased else None
    bias_grads = (grad["user_bias"], grad["item_bias"]) if spec.biased else None
    for u, rated in enumerate(unit_ratings(train)):
        for i, r in rated:
            pair_gradient(grad["user_factors"], grad["item_factors"], params["user_factors"],
                          params["item_factors"], u, i, r, spec.regularization, offset=float(params["global_bias"]),
                          biases=biases, bias_grads=bias_grads)
    lam_c = spec.social_regularization
    for u, trustees in enumerate(unit_edges(train)):
        for k in trustees:
            pair_gradient(grad["user_factors"], grad["link_factors"], params["user_factors"],
                          params["link_factors"], u, k, 1.0, spec.regularization, lam_c, lam_c)
    return grad
