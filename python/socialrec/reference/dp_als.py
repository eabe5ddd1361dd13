"""Reference private ALS / SocialALS (``ALS(privacy=PrivacyBudget(...))``): plain loops, the spec of
``socialrec.privacy.dp_als`` and of the models' private fit (private ALS: Chien et al., ICML 2021).

Released: the item factors ``Y``. Kept on the users' side: the user factors, solved from the released ``Y``
and each user's own interactions.

Data: the training data after contribution bounding (at most ``max_ratings`` interactions per user), each
stored weight w (``als.weights``) clipped to ``w̄ = min(w, W)``, ``W = WEIGHT_BOUND = 1``; the model trains on
those clipped weights throughout.

Initial parameters: ``als.initial_parameters``'s draws (user rows, then item rows) with every item row active.

Epoch ``t`` = 0, 1, ...:

1. Users: ``als.half_step`` of the local factors ``L`` against ``Y`` (ALS: ``L`` is the user factors ``X``).
   SocialALS with β > 0 keeps ``L`` apart (it starts as a copy of the initial user rows) and then solves ``X``
   by SocialALS's user equations with ``L`` as the neighbours: ``(A_u + β s_u I) x_u = b_u + β Σ_f S_uf l_f``.
2. Clipping: ``l̄_u = l_u · min(1, B / ‖l_u‖)`` (float64; ``B`` the clip norm).
3. Statistics (float64): ``G = Σ_u l̄_u l̄_uᵀ``; per item i, over its raters u: ``A_i = Σ α w̄_ui l̄_u l̄_uᵀ``,
   ``b_i = Σ (1 + α w̄_ui) l̄_u``.
4. Draws, when σ > 0: ``rng = default_rng([seed, 5, t])``; ``z_G = rng.standard_normal(P)``,
   ``P = k(k+1)/2``; ``Z = rng.standard_normal((n_items, P + k))``. With ``s = σ Δ``
   (``Δ = sqrt(B⁴ + m (α² W² B⁴ + (1 + α W)² B²))``): the upper triangle of G (row-major, diagonal
   included) gets ``s z_G``, that of ``A_i`` gets ``s Z[i, :P]`` (both mirrored below the diagonal; not when
   α = 0, where every A_i is 0 whatever the data), ``b_i`` gets ``s Z[i, P:]``.
5. Items: ``M_i = G + A_i = V Λ Vᵀ`` (``numpy.linalg.eigh``), ``y_i = V diag(1 / (max(Λ, 0) + λ)) Vᵀ b_i``,
   stored in the model's dtype.

Without noise, clipping (B = ∞) or bounding, an epoch is the non-private ALS epoch with an exact item solve.
"""
from __future__ import annotations

import math

import numpy as np

from . import _init, als

DP_ALS_STREAM = 5
WEIGHT_BOUND = 1.0


def sensitivity(clip_norm, max_ratings, alpha):
    """Δ of rule 4."""
    B, W = float(clip_norm), WEIGHT_BOUND
    return math.sqrt(B ** 4 + max_ratings * ((alpha * W * B * B) ** 2 + ((1 + alpha * W) * B) ** 2))


def clipped_weights(spec, ratings):
    """``als.weights`` with every weight clipped to ``WEIGHT_BOUND`` (float32)."""
    W = als.weights(spec, ratings)
    W.data = np.minimum(W.data, np.float32(WEIGHT_BOUND))
    return W


def symmetric(packed, k):
    """The k x k symmetric matrix whose upper triangle (row-major, diagonal included) is ``packed``."""
    M = np.zeros((k, k))
    n = 0
    for a in range(k):
        for c in range(a, k):
            M[a, c] = M[c, a] = packed[n]
            n += 1
    return M


def statistics(spec, Rt, L, clip_norm):
    """(G, [A_i], [b_i]) of rules 2-3 from the local user factors ``L`` and the item-major weights ``Rt``."""
    k = L.shape[1]
    clipped = []
    for x in np.asarray(L, dtype=np.float64):
        norm = math.sqrt(float(x @ x))
        clipped.append(x * (clip_norm / norm) if norm > clip_norm else x.copy())
    G = np.zeros((k, k))
    for x in clipped:
        G += np.outer(x, x)
    A, b = [], []
    for i in range(Rt.shape[0]):
        Ai, bi = np.zeros((k, k)), np.zeros(k)
        for e in range(Rt.indptr[i], Rt.indptr[i + 1]):
            u, w = Rt.indices[e], float(Rt.data[e])
            Ai += spec.alpha * w * np.outer(clipped[u], clipped[u])
            bi += (1.0 + spec.alpha * w) * clipped[u]
        A.append(Ai)
        b.append(bi)
    return G, A, b


def item_step(spec, Rt, L, t, mechanism):
    """The released item factors of epoch ``t`` (rules 2-5), float64."""
    k = L.shape[1]
    G, A, b = statistics(spec, Rt, L, mechanism["clip_norm"])
    sigma = mechanism["noise_multiplier"]
    if sigma > 0:
        s = sigma * sensitivity(mechanism["clip_norm"], mechanism["max_ratings"], spec.alpha)
        P = k * (k + 1) // 2
        rng = np.random.default_rng([int(spec.seed), DP_ALS_STREAM, int(t)])
        G = G + s * symmetric(rng.standard_normal(P), k)
        Z = rng.standard_normal((Rt.shape[0], P + k))
        if spec.alpha != 0:  # α = 0: every A_i is 0 whatever the data, released as it is
            A = [A[i] + s * symmetric(Z[i, :P], k) for i in range(Rt.shape[0])]
        b = [b[i] + s * Z[i, P:] for i in range(Rt.shape[0])]
    Y = np.zeros((Rt.shape[0], k))
    for i in range(Rt.shape[0]):
        lam, V = np.linalg.eigh(G + A[i])
        Y[i] = V @ ((V.T @ b[i]) / (np.maximum(lam, 0.0) + spec.regularization))
    return Y


def fit(spec, train, mechanism, similarity=None):
    """Train ``spec``'s ALS (or SocialALS, with its ``similarity`` dict ``{(u, f): S_uf}``) privately on
    ``train`` (already bounded); ``mechanism``: a fitted model's ``privacy_`` (``noise_multiplier``,
    ``clip_norm``, ``max_ratings``). Returns the parameter dict."""
    rng = np.random.default_rng(spec.require_seed())
    params = {"user_factors": _init.normal(spec, rng, train.n_users, _init.has_entries(train.ratings, 1)),
              "item_factors": _init.normal(spec, rng, train.n_items)}  # every item row active
    X, Y = params["user_factors"], params["item_factors"]
    R = clipped_weights(spec, train.ratings)
    Rt = R.T.tocsr()
    beta = float(getattr(spec, "social_regularization", 0.0)) if similarity is not None else 0.0
    L = X.copy() if beta != 0.0 else X
    dt = X.dtype.type
    for t in range(spec.epochs):
        als.half_step(spec, R, L, Y)
        if beta != 0.0:
            shift = np.zeros(X.shape[0], dtype=X.dtype)
            rhs = np.zeros_like(X)
            for (u, f), s in similarity.items():
                shift[u] += dt(beta) * dt(s)
                rhs[u] += dt(beta) * dt(s) * L[f]
            als.half_step(spec, R, X, Y, shift=shift, rhs=rhs)
        Y[...] = item_step(spec, Rt, L, t, mechanism).astype(Y.dtype)
    return params

