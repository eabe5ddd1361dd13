"""Private ALS / SocialALS by noisy sufficient statistics (``ALS(privacy=PrivacyBudget(...))``).

The mechanism follows private ALS (Chien, Jain, Krichene, Rendle, Song, Thakurta, Zhang, "Private alternating
least squares: practical private matrix completion with tighter rates", ICML 2021): the item factors ``Y`` are
what is released; every item half-step solves WRMF's normal equations with the statistics made private by
Gaussian noise calibrated to one user's clipped contribution; every user half-step runs on the user's side
from the released ``Y`` and the user's own interactions only. The exact rules, with the draws, are
``socialrec/reference/dp_als.py``; this module is the vectorised NumPy form (the user solves are the C++
kernel's, ``_core.als_block_solve``). The argument for the guarantee is in docs/PRIVACY.md.

One epoch ``t`` (0, 1, ...):

1. user side: ``x_u`` solves ``(YᵀY + Σ_i α w̄_ui y_i y_iᵀ + λI) x_u = Σ_i (1 + α w̄_ui) y_i`` from the
   released ``Y`` (a function of ``Y`` and u's own data);
2. clipping: ``x̄_u = x_u · min(1, B / ‖x_u‖)`` (``B`` the budget's ``clip_norm``); weights ``w̄ = min(w, W)``
   (``W = WEIGHT_BOUND``) and at most ``m = max_ratings`` interactions per user (``bound_contributions``);
3. statistics: ``G = Σ_u x̄_u x̄_uᵀ``; per item ``A_i = Σ_{u∈R(i)} α w̄_ui x̄_u x̄_uᵀ``,
   ``b_i = Σ_{u∈R(i)} (1 + α w̄_ui) x̄_u``;
4. noise, std ``σΔ`` on every released number: the upper triangles (row-major, diagonal included) of G and
   every A_i, mirrored, and every b_i (with α = 0 every A_i is 0 whatever the data: no noise, same draws);
5. item solve: ``M_i = G̃ + Ã_i = V Λ Vᵀ``, ``y_i = V diag(1 / (max(Λ, 0) + λ)) Vᵀ b̃_i`` -- the exact solve
   of ``(M_i + λI) y = b̃_i`` when the noisy ``M_i`` is positive semi-definite (always without noise), its
   projection on that cone otherwise (post-processing, no privacy cost).

Sensitivity (add/remove one user, unit ``"user"``): the user adds ``x̄ x̄ᵀ`` to G (Frobenius norm ``‖x̄‖² ≤
B²``; its upper triangle no more) and, to each of its at most ``m`` items, ``α w̄ x̄ x̄ᵀ`` (≤ ``α W B²``) and
``(1 + α w̄) x̄`` (≤ ``(1 + α W) B``); nothing else changes, because every other user's ``x_v`` is a function of
the released ``Y`` and v's own data. So the L2 norm of one user's contribution to the released vector is at
most ``Δ = sqrt(B⁴ + m (α² W² B⁴ + (1 + α W)² B²))``, and step 4 is the Gaussian mechanism with noise
multiplier σ. ``epochs`` such releases compose adaptively: dp-accounting composes ``epochs`` Gaussian events
(RDP or PLD) and ``σ`` is calibrated once for the target (ε, δ) (``accounting.calibrate_noise_multiplier``
at sampling rate 1, cached).
"""
from __future__ import annotations

import math

import numpy as np

from . import accounting
from .budget import PrivacyBudgetExceeded
from .bounding import bound_contributions

DP_ALS_STREAM = 5  # the draws' stream id (reference/dp_als.py DP_ALS_STREAM)
WEIGHT_BOUND = 1.0  # W: a stored entry's confidence weight w is clipped to at most this (0/1 data: unchanged)
ITEM_CHUNK = 1024  # items whose statistics and noise are held at once


def sensitivity(clip_norm, max_ratings, alpha, weight_bound=WEIGHT_BOUND):
    """Δ: the L2 bound on one user's contribution to an item step's released statistics (module docstring)."""
    B, a, W = float(clip_norm), float(alpha), float(weight_bound)
    return math.sqrt(B ** 4 + max_ratings * ((a * W * B * B) ** 2 + ((1 + a * W) * B) ** 2))


def packed_size(k):
    """Numbers in the packed upper triangle of a k x k symmetric matrix."""
    return k * (k + 1) // 2


def unpack_symmetric(packed, k):
    """(..., k(k+1)/2) packed upper triangles (row-major, diagonal included) -> (..., k, k) symmetric."""
    rows, cols = np.triu_indices(k)
    out = np.zeros(packed.shape[:-1] + (k, k))
    out[..., rows, cols] = packed
    out[..., cols, rows] = packed
    return out


def clip_rows(X, bound):
    """``x · min(1, bound / ‖x‖)`` per row, float64 (rows of norm 0 unchanged)."""
    X = np.asarray(X, dtype=np.float64)
    norm = np.sqrt(np.einsum("ij,ij->i", X, X))
    factor = np.where(norm > bound, bound / np.where(norm > 0, norm, 1.0), 1.0)
    return X * factor[:, None]


def floor_solve(M, b, regularization):
    """``y = V diag(1 / (max(Λ, 0) + λ)) Vᵀ b`` for a stack of symmetric ``M = V Λ Vᵀ`` (rule 5)."""
    lam, V = np.linalg.eigh(M)
    coef = np.einsum("nji,nj->ni", V, b) / (np.maximum(lam, 0.0) + regularization)
    return np.einsum("nij,nj->ni", V, coef)


def refuse_model_settings(model):
    """The settings a private ALS fit cannot honour, as ValueError (before anything is trained)."""
    name = type(model).__name__
    if model.confidence == "log" and model.epsilon is None:
        raise ValueError(f"{name}(privacy=...): confidence='log' with epsilon=None takes the scale from the mean "
                         "of the private data; give a public epsilon= (epsilon=1 for 0/1 data)")


class DPALS:
    """Training state of one private ALS fit: the bounded data, the calibrated noise, the epoch counter.

    Parameters
    ----------
    budget : PrivacyBudget
        Unit ``"user"`` only (module docstring); ``max_ratings`` must be set when ε is finite.
    train : Dataset
        The bounded training data (``bounded``).
    epochs : int
        One Gaussian release per epoch; the budget is charged for them before anything runs.
    seed : int
    alpha, regularization : float
        The model's α and λ.
    weights : scipy CSR
        The training data's confidence weights (before clipping to ``WEIGHT_BOUND``).
    """

    def __init__(self, budget, train, epochs, seed, alpha, regularization, weights):
        if budget.unit != "user":
            raise ValueError(f"unit={budget.unit!r}: private ALS protects a 'user' (every rating moves the user's "
                             "own factor and so its whole contribution: one rating costs as much noise as the user, "
                             "and unit='user' covers it; ALS reads no trust edges)")
        if budget.private and (budget.max_ratings is None or not math.isfinite(budget.clip_norm)):
            raise ValueError("private ALS needs max_ratings and a finite clip_norm (the sensitivity grows with the "
                             "items per user and the user rows' norm)")
        if budget.spent:
            raise PrivacyBudgetExceeded(f"{budget!r} was already spent by an earlier fit; create a new budget")
        self.budget, self.seed, self.epochs = budget, int(seed), int(epochs)
        self.alpha, self.regularization = float(alpha), float(regularization)
        w = weights.tocsr(copy=True)
        w.data = np.minimum(w.data, np.float32(WEIGHT_BOUND)).astype(np.float32)
        self.weights, self.item_weights = w, w.T.tocsr()
        self.n_items = train.n_items
        self.noise_multiplier = accounting.calibrate_noise_multiplier(
            budget.epsilon, budget.delta, 1.0, self.epochs, budget.accountant, release_noise=0.0)
        spent = budget.spend(1.0, self.noise_multiplier, self.epochs, release_noise=0.0)
        self.sensitivity = (sensitivity(budget.clip_norm, budget.max_ratings, alpha) if budget.private
                            else math.inf)
        self.report = budget.report(self.noise_multiplier, self.epochs, spent)
        self.report.update({"sampling_rate": 1.0, "mean_noise_multiplier": 0.0, "steps_per_epoch": 1,
                            "mechanism": "noisy sufficient statistics (private ALS)",
                            "weight_bound": WEIGHT_BOUND, "sensitivity": self.sensitivity})
        self.steps_done = 0

    def item_step(self, X, k):
        """The released item factors of one epoch from the user factors ``X`` (rules 2-5), float64; counts the
        step against the budget's charge."""
        if self.steps_done >= self.epochs:
            raise PrivacyBudgetExceeded(f"private ALS was calibrated and charged for {self.epochs} item steps; "
                                        "refusing to take more")
        step, self.steps_done = self.steps_done, self.steps_done + 1
        Y = np.empty((self.n_items, k))
        for (start, end), G, A, b in self.statistics(X, k, step):
            Y[start:end] = floor_solve(G[None] + unpack_symmetric(A, k), b, self.regularization)
        return Y

    def statistics(self, X, k, step=None):
        """The statistics of rules 2-4 from the user factors ``X``, by chunks of items: yields ((start, end),
        G (k x k), A (packed upper triangles, one row per item), b); with the noise of epoch ``step`` (None:
        without noise, as the sensitivity is stated)."""
        noisy = step is not None and self.noise_multiplier > 0
        rng = np.random.default_rng([self.seed, DP_ALS_STREAM, step]) if noisy else None
        scale = self.noise_multiplier * self.sensitivity if noisy else 0.0
        Xc = clip_rows(X, self.budget.clip_norm)
        G = Xc.T @ Xc
        if noisy:
            G = G + scale * unpack_symmetric(rng.standard_normal(packed_size(k)), k)
        rows, cols = np.triu_indices(k)
        outer = Xc[:, rows] * Xc[:, cols]  # per user, the packed upper triangle of x̄ x̄ᵀ
        for start in range(0, self.n_items, ITEM_CHUNK):
            end = min(self.n_items, start + ITEM_CHUNK)
            block = self.item_weights[start:end].astype(np.float64)
            confidence = block.copy()
            confidence.data = 1.0 + self.alpha * confidence.data
            A, b = self.alpha * (block @ outer), confidence @ Xc  # Σ_u α w̄ x̄ x̄ᵀ (packed), Σ_u (1 + α w̄) x̄
            if noisy:
                z = rng.standard_normal((end - start, packed_size(k) + k))
                if self.alpha != 0:  # α = 0: every A_i is 0 whatever the data, released without noise
                    A += scale * z[:, :packed_size(k)]
                b += scale * z[:, packed_size(k):]
            yield (start, end), G, A, b


def bounded(budget, train, seed):
    """The training data after the budget's contribution bounding (``bounding.bound_contributions``:
    what a user keeps depends on its own data only)."""
    return bound_contributions(train, budget.max_ratings, budget.max_edges, seed)
