"""The DP-SGD driver of the models (``Model(privacy=PrivacyBudget(...))``): NumPy, vectorised per step.

Where the draws are made: here, in NumPy. Every step's random draws -- the Poisson mask of the units and the
standard normal noise -- come from ``numpy.random.default_rng([seed, 3, step])`` exactly as
``socialrec.reference.dp_biased_mf.draws`` specifies and are handed to the step: BiasedMF's C++ step
(``_core.dp_mf_step``, cpp/include/socialrec/dp_sgd.hpp) or the vectorised NumPy step (``numpy_step``, for
any model that gives per-rating gradients). The reference (plain loops) makes the same draws, so each step
agrees with it to rounding in float64 (tests/test_privacy.py, 1e-10).

What is protected: the *released* parameters (item factors and biases, and whatever a model lists in its
``_dp_released``) are updated only by the noisy sum of clipped unit contributions, so they -- and anything
computed from them alone -- are (ε, δ)-differentially private for the budget's unit. The user-side
parameters (user factors and biases) are updated from each user's own data without noise: they are not
protected against whoever sees them and must stay with the user (fold-in of a user from the released items
is the deployment this supports). Contribution bounding (``bounding``) runs before training.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from .budget import PrivacyBudgetExceeded
from .bounding import bound_contributions

DP_STREAM = 3  # the draws' stream id (reference/dp_biased_mf.py DP_STREAM)
MEAN_STREAM = 4  # the private mean's draws (reference/dp_biased_mf.py MEAN_STREAM)


def steps_per_epoch(sampling_rate):
    """An epoch of DP-SGD: ``ceil(1 / q)`` steps, about one pass over the units in expectation."""
    return int(math.ceil(1.0 / sampling_rate - 1e-9))


class DPSGD:
    """Training state of one private fit: the units, the calibrated noise, the step counter.

    Parameters
    ----------
    budget : PrivacyBudget
    train : Dataset
        The bounded training data (``bounded`` builds it).
    epochs : int
        The fit's epochs; the noise is calibrated for ``epochs * steps_per_epoch`` steps and the budget is
        charged for them before any step runs (``PrivacyBudgetExceeded`` when it cannot pay).
    seed : int
    """

    def __init__(self, budget, train, epochs, seed):
        if budget.unit != "user":  # the models refuse the other units first, with their reasons
            raise ValueError(f"unit={budget.unit!r}: DP-SGD here protects a 'user' (docs/PRIVACY.md)")
        offsets = np.asarray(train.ratings.indptr, dtype=np.int64)
        users, items, values = train.user_item_arrays()
        self.unit_offsets = offsets
        self.users, self.items, self.values32, self.values = users, items, values, values.astype(np.float64)
        self.unit_of_rating = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
        self.n_units, self.n_items = len(offsets) - 1, train.n_items
        self.seed, self.budget = int(seed), budget
        self.train = train  # the bounded data (a model's own step may read more of it, e.g. the trust graph)
        self.per_epoch = steps_per_epoch(budget.sampling_rate)
        self.total_steps = int(epochs) * self.per_epoch
        self.noise_multiplier = budget.noise_multiplier(self.total_steps)
        spent = budget.spend(budget.sampling_rate, self.noise_multiplier, self.total_steps)
        self.report = budget.report(self.noise_multiplier, self.total_steps, spent)
        self.report["steps_per_epoch"] = self.per_epoch
        self.report["steps_taken"] = 0  # steps whose updates the parameters hold (the model sets it per epoch)
        self.steps_done = 0

    def draws(self, step, noise_columns, extra_noise=()):
        """(mask, noise) of step ``step``: the Poisson mask, then (when σ > 0) standard normal noise of shape
        (n_items, noise_columns) and, after it, one array per shape in ``extra_noise`` (released arrays not
        indexed by item, e.g. SoRec's link factors); with ``extra_noise`` the noise is the list of all."""
        rng = np.random.default_rng([self.seed, DP_STREAM, int(step)])
        mask = rng.random(self.n_units) < self.budget.sampling_rate
        if self.noise_multiplier <= 0:
            return mask, None
        noise = rng.standard_normal((self.n_items, noise_columns))
        return mask, ([noise] + [rng.standard_normal(shape) for shape in extra_noise] if extra_noise else noise)

    def run_epoch(self, params, step, noise_columns, learning_rate, extra_noise=()):
        """``steps_per_epoch`` steps on ``params`` (in place): each draws its mask and noise (``draws``) and
        calls ``step(params, sampled_unit_ids, noise, learning_rate)`` (the C++ step, or ``numpy_step``)."""
        for _ in range(self.per_epoch):
            if self.steps_done >= self.total_steps:
                raise PrivacyBudgetExceeded(f"DP-SGD was calibrated and charged for {self.total_steps} steps; "
                                            "refusing to take more")
            mask, noise = self.draws(self.steps_done, noise_columns, extra_noise)
            self.steps_done += 1
            step(params, np.flatnonzero(mask), noise, learning_rate)

    def kernel_arrays(self, sampled, noise):
        """The data arrays of ``_core.dp_mf_step`` for one step."""
        return {"unit_offsets": self.unit_offsets, "users": self.users, "items": self.items,
                "values": self.values32, "sampled": sampled.astype(np.int64), "noise": noise}

    def numpy_step(self, params, sampled, noise, learning_rate, gradients, released, private):
        """One step in NumPy for any model: ``gradients(params, users, items, values)`` returns per-rating
        gradient rows ``{name: array}`` (float64) for the ``released`` names (rows indexed by item) and the
        ``private`` names (rows indexed by user); the noise columns follow the order of ``released`` (a 1-D
        array takes one column). The rules of reference/dp_biased_mf.py, vectorised (sums in another order)."""
        chosen = np.zeros(self.n_units, dtype=bool)
        chosen[sampled] = True
        sel = np.flatnonzero(chosen[self.unit_of_rating])
        u, i, r = self.users[sel], self.items[sel], self.values[sel]
        grads = gradients(params, u, i, r)
        rows = [grads[n].reshape(len(sel), -1) for n in released]
        widths = [g.shape[1] for g in rows]
        C, scale = self.budget.clip_norm, self.noise_multiplier * self.budget.clip_norm
        norm = np.sqrt(np.bincount(self.unit_of_rating[sel], weights=sum((g * g).sum(axis=1) for g in rows),
                                   minlength=self.n_units))
        factor = np.where(norm > C, C / np.where(norm > 0, norm, 1.0), 1.0)  # min(1, C / ‖g_unit‖)
        to_items = sp.csr_matrix((factor[self.unit_of_rating[sel]], (i, np.arange(len(sel)))),
                                 shape=(self.n_items, len(sel)))
        to_users = sp.csr_matrix((np.ones(len(sel)), (u, np.arange(len(sel)))),
                                 shape=(params[private[0]].shape[0], len(sel)))
        column = 0
        for name, g, width in zip(released, rows, widths):
            total = to_items @ g  # Σ over the batch of the clipped rows
            if noise is not None:
                total = total + scale * noise[:, column:column + width]
            column += width
            params[name] -= (learning_rate * total.reshape(params[name].shape)).astype(params[name].dtype)
        for name in private:
            total = to_users @ grads[name].reshape(len(sel), -1)
            params[name] -= (learning_rate * total.reshape(params[name].shape)).astype(params[name].dtype)


def private_mean(train, seed, mean_noise_multiplier):
    """The global mean ``μ`` by the Gaussian mechanism at user level (rule: reference/dp_biased_mf.py
    ``private_mean``): the noisy mean over users of each user's mean rating, mapped into the rating scale."""
    lo, hi = train.rating_scale
    mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
    if half == 0:
        return mid
    counts = np.diff(train.ratings.indptr)
    rated = counts > 0
    sums = np.add.reduceat(train.ratings.data.astype(np.float64), train.ratings.indptr[:-1][rated])
    S, N = float(np.sum((sums / counts[rated] - mid) / half)), float(rated.sum())
    if mean_noise_multiplier > 0:
        z = np.random.default_rng([int(seed), MEAN_STREAM]).standard_normal(2)
        S += mean_noise_multiplier * math.sqrt(2.0) * z[0]
        N += mean_noise_multiplier * math.sqrt(2.0) * z[1]
    return mid + half * min(1.0, max(-1.0, S / max(N, 1.0)))


def bounded(budget, train, seed):
    """The training data after the budget's contribution bounding (``bounding.bound_contributions``)."""
    return bound_contributions(train, budget.max_ratings, budget.max_edges, seed)
