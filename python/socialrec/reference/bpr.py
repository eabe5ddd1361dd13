"""Reference BPR (and the machinery SBPR shares): sampling, SGD and the expected objective (DESIGN §4-5).

Sampling spec (cpp/include/socialrec/sampling.hpp, models/bpr.hpp, models/sbpr.hpp, sgd.hpp sampled_pass):

* the pool is the list of training interactions ``(u, i)`` in CSR order (users ascending, items ascending),
  without the users who consumed every item; an epoch draws ``len(pool)`` samples;
* samples are cut into chunks of ``sgd.SAMPLE_CHUNK``; chunk ``c`` draws from
  ``SplitMix64(stream_seed(seed, epoch, SAMPLE_PASS, c))``;
* one sample: ``r = below(len(pool))``, ``(u, i) = pool[r]``; BPR then draws ``j = below(n_items)`` again
  until ``j`` is not consumed by ``u``. SBPR, for a user with social items ``SP_u`` (sorted) and at least one
  item outside ``P_u ∪ SP_u``: ``t = below(|SP_u|)``, ``k = SP_u[t]``, then ``j`` drawn again until it is
  in neither ``P_u`` nor ``SP_u``; other users get BPR's draw.
"""
from __future__ import annotations

import math

import numpy as np

from . import _init, sgd

SPECIFIES = ("BPR",)


def initial_parameters(spec, train, rng):
    """Draws, in order (``_init.normal``): ``user_factors`` (users with a rating active), ``item_factors``
    (every row drawn and kept: an item nobody consumed is still a negative); ``item_bias`` = 0."""
    return {"user_factors": _init.normal(spec, rng, train.n_users, _init.has_entries(train.ratings, 1)),
            "item_factors": _init.normal(spec, rng, train.n_items),
            "item_bias": _init.zeros(spec, train.n_items)}


class Interactions:
    """Each user's consumed items (sorted lists), the pool of positive pairs and, for SBPR, the social items
    with their counts s_uk — built with plain loops from the data."""

    def __init__(self, data, social):
        r = data.ratings.tocsr()
        self.n_users, self.n_items = r.shape
        self.own = [sorted(set(int(i) for i in r.indices[r.indptr[u]:r.indptr[u + 1]])) for u in range(self.n_users)]
        self.own_sets = [set(items) for items in self.own]
        self.pool = [(u, i) for u in range(self.n_users) if len(self.own[u]) < self.n_items for i in self.own[u]]
        self.social = [[] for _ in range(self.n_users)]   # sorted social items of u
        self.counts = [{} for _ in range(self.n_users)]    # s_uk
        if social:
            t = data.trust.tocsr()
            for u in range(self.n_users):
                for f in t.indices[t.indptr[u]:t.indptr[u + 1]]:
                    for k in self.own[int(f)]:
                        if k not in self.own_sets[u]:
                            self.counts[u][k] = self.counts[u].get(k, 0) + 1
                self.social[u] = sorted(self.counts[u])
        self.social_sets = [set(items) for items in self.social]

    def is_social(self, u):
        """SBPR's quadruple applies: u has social items and some item outside its own and social items."""
        return len(self.social[u]) > 0 and len(self.own[u]) + len(self.social[u]) < self.n_items

    def negatives(self, u, social):
        """Items of u's negative set: outside P_u (BPR) or outside P_u and SP_u (SBPR, social users)."""
        excluded = self.own_sets[u] | (self.social_sets[u] if social and self.is_social(u) else set())
        return [j for j in range(self.n_items) if j not in excluded]


def draw_outside(gen, n_items, *excluded):
    """Rejection sampling: ``below(n_items)`` until the item is in none of the excluded sets."""
    while True:
        j = gen.below(n_items)
        if not any(j in s for s in excluded):
            return j


def fit(spec, train, social=False):
    """Train ``spec``'s set-up with plain NumPy on ``train``; returns the parameter dict."""
    params = initial_parameters(spec, train, np.random.default_rng(spec.require_seed()))
    data = Interactions(train, social)
    P, Q, b = params["user_factors"], params["item_factors"], params["item_bias"]
    dt = P.dtype.type
    gamma, lam, lam_b = dt(spec.learning_rate), dt(spec.regularization), dt(spec.bias_regularization)
    alpha = dt(getattr(spec, "social_weight", 1.0))  # SBPR's mix of its social terms with BPR's pair term

    def pair_step(u, i, j):
        p, qi, qj = P[u].copy(), Q[i].copy(), Q[j].copy()
        bi, bj = b[i], b[j]
        x = p @ (qi - qj) + (bi - bj)
        e = dt(1) / (dt(1) + np.exp(x))  # σ(−x_uij)
        P[u] = p + gamma * (e * (qi - qj) - lam * p)
        Q[i] = qi + gamma * (e * p - lam * qi)
        Q[j] = qj + gamma * (-e * p - lam * qj)
        b[i] = bi + gamma * (e - lam_b * bi)
        b[j] = bj + gamma * (-e - lam_b * bj)

    def social_step(u, i, k, j, s):
        p, qi, qk, qj = P[u].copy(), Q[i].copy(), Q[k].copy(), Q[j].copy()
        bi, bk, bj = b[i], b[k], b[j]
        scale = dt(1) / (dt(1) + dt(s))
        x_ik, x_kj = p @ (qi - qk), p @ (qk - qj)
        a = (x_ik + (bi - bk)) * scale           # (x_ui − x_uk) / (1 + s_uk)
        c = x_kj + (bk - bj)                     # x_uk − x_uj
        x = x_ik + x_kj + (bi - bj)              # x_ui − x_uj
        e1 = alpha * scale / (dt(1) + np.exp(a))
        e2 = alpha / (dt(1) + np.exp(c))
        e3 = (dt(1) - alpha) / (dt(1) + np.exp(x))  # BPR's pair term, weight 1 − α
        P[u] = p + gamma * (e1 * (qi - qk) + e2 * (qk - qj) + e3 * (qi - qj) - lam * p)
        Q[i] = qi + gamma * ((e1 + e3) * p - lam * qi)
        Q[k] = qk + gamma * ((e2 - e1) * p - alpha * lam * qk)
        Q[j] = qj + gamma * (-(e2 + e3) * p - lam * qj)
        b[i] = bi + gamma * (e1 + e3 - lam_b * bi)
        b[k] = bk + gamma * (e2 - e1 - alpha * lam_b * bk)
        b[j] = bj + gamma * (-e2 - e3 - lam_b * bj)

    def step(gen):
        u, i = data.pool[gen.below(len(data.pool))]
        if social and data.is_social(u):
            k = data.social[u][gen.below(len(data.social[u]))]
            j = draw_outside(gen, data.n_items, data.own_sets[u], data.social_sets[u])
            social_step(u, i, k, j, data.counts[u][k])
        else:
            pair_step(u, i, draw_outside(gen, data.n_items, data.own_sets[u]))

    for epoch in range(spec.epochs):
        sgd.sampled_pass(len(data.pool), spec.seed, epoch, sgd.SAMPLE_PASS, step)
    return params


def _softplus(x):
    return math.log1p(math.exp(-abs(x))) + max(x, 0.0)


def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def objective(spec, params, data, social=False):
    """The expected epoch objective and its gradient: (loss, gradient dict). Per interaction (u, i) of the
    pool, the expectation of the sampled term over the draws of j (and k): see the BPR / SBPR docstrings."""
    pairs = Interactions(data, social)
    P, Q, b = (np.asarray(params[k], dtype=np.float64) for k in ("user_factors", "item_factors", "item_bias"))
    lam, lam_b = spec.regularization, spec.bias_regularization
    alpha = float(getattr(spec, "social_weight", 1.0))
    X = P @ Q.T + b                      # x_ui for every pair
    dX = np.zeros_like(X)                # d loss / d x_ui
    gP, gQ, gb = np.zeros_like(P), np.zeros_like(Q), np.zeros_like(b)
    total = 0.0

    def item_penalty(items, weight):
        nonlocal total
        for j in items:
            total += weight * (0.5 * lam * (Q[j] @ Q[j]) + 0.5 * lam_b * b[j] ** 2)
            gQ[j] += weight * lam * Q[j]
            gb[j] += weight * lam_b * b[j]

    def ranked(u, hi, lo, weight, scale=1.0):
        """weight * −ln σ((x_u,hi − x_u,lo) / scale) and its derivatives."""
        nonlocal total
        d = (X[u, hi] - X[u, lo]) / scale
        total += weight * _softplus(-d)
        e = weight * _sigmoid(-d) / scale
        dX[u, hi] -= e
        dX[u, lo] += e

    for u, i in pairs.pool:
        total += 0.5 * lam * (P[u] @ P[u])
        gP[u] += lam * P[u]
        item_penalty([i], 1.0)
        negatives = pairs.negatives(u, social)
        if social and pairs.is_social(u):
            ks = pairs.social[u]
            for k in ks:
                ranked(u, i, k, alpha / len(ks), scale=1.0 + pairs.counts[u][k])
                for j in negatives:
                    ranked(u, k, j, alpha / (len(ks) * len(negatives)))
            item_penalty(ks, alpha / len(ks))
            if alpha < 1:
                for j in negatives:
                    ranked(u, i, j, (1.0 - alpha) / len(negatives))
        else:
            for j in negatives:
                ranked(u, i, j, 1.0 / len(negatives))
        item_penalty(negatives, 1.0 / len(negatives))

    # chain rule through x_ui = b_i + p_u . q_i
    gP += dX @ Q
    gQ += dX.T @ P
    gb += dX.sum(axis=0)
    return total, {"user_factors": gP, "item_factors": gQ, "item_bias": gb}


def loss(spec, params, data):
    return objective(spec, params, data)[0]


def gradient(spec, params, data):
    return objective(spec, params, data)[1]
