"""Shared rules of the DP-SGD references (dp_sorec, dp_svdpp): the step's draws, per-unit clipping, the noisy
descent and the loop over the steps. The mechanism is written out in reference/dp_biased_mf.py."""
from __future__ import annotations

import math

import numpy as np

from .dp_biased_mf import DP_STREAM


def draws(seed, step, n_units, sampling_rate, noise_shapes, noise_multiplier):
    """(mask, list of noise arrays or None) of step ``step``: ``rng = default_rng([seed, 3, step])``, the
    Poisson mask ``rng.random(n_units) < q``, then (σ > 0) one standard normal array per shape, in order."""
    rng = np.random.default_rng([int(seed), DP_STREAM, int(step)])
    mask = rng.random(n_units) < sampling_rate
    noise = [rng.standard_normal(shape) for shape in noise_shapes] if noise_multiplier > 0 else None
    return mask, noise


def clip_into(rows, norm2, clip_norm, dt):
    """Adds one unit's released rows ``(total, row, gradient)`` to their totals scaled by
    ``c = min(1, C / ‖g‖)`` (1 when ‖g‖ = 0), ``norm2 = ‖g‖²`` over all of them (Abadi et al. 2016, Alg. 1)."""
    norm = math.sqrt(norm2)
    c = dt(1.0 if norm == 0 or norm <= clip_norm else clip_norm / norm)
    for total, row, grad in rows:
        total[row] += c * grad


def descend(blocks, gamma, scale):
    """``param −= γ (G + scale ξ)`` for every ``(param, G, ξ or None)`` (``scale`` = σ C; G in place)."""
    for param, total, noise in blocks:
        dt = param.dtype.type
        if noise is not None:
            total += dt(scale) * noise.astype(dt)
        param -= dt(gamma) * total


def run(spec, mechanism, n_units, noise_shapes, take_step):
    """``spec.epochs × steps_per_epoch`` steps: each draws (``draws``) and calls
    ``take_step(sampled unit ids, noise list or None)``."""
    sigma, q = mechanism["noise_multiplier"], mechanism["sampling_rate"]
    for t in range(spec.epochs * mechanism["steps_per_epoch"]):
        mask, noise = draws(spec.seed, t, n_units, q, noise_shapes, sigma)
        take_step([int(u) for u in np.flatnonzero(mask)], noise)
