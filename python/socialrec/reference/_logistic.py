"""The logistic pair step of SoRec, SocialMF and TrustMF (cpp/include/socialrec/models/logistic_pair.hpp).

One observation (row a of A, row b of B, target c) contributes

    w_d ½ (c − g(offset + A_a·B_b))² + w_p ½ λ (‖A_a‖² + ‖B_b‖²)

with fixed data and penalty weights w_d, w_p; ``pair_step`` is one SGD step on it (old rows on the right).

``biases`` = (bias_A, bias_B, λ_b) (the rating terms of the models' ``biased=True``): a bias per row of A and
of B inside the link, with their own penalty,

    w_d ½ (c − g(x))² + w_p ½ λ (‖A_a‖² + ‖B_b‖²) + w_p ½ λ_b (bias_A[a]² + bias_B[b]²),
    x = offset + A_a·B_b + (bias_A[a] + bias_B[b]),

and the step moves each bias by γ (w_d e g'(x) − w_p λ_b bias) (old biases on the right).

``weights`` = (w_a, w_b) (regularization_scaling's per-row weights, issue 15; (1, 1) is "occurrence"): every
penalty of row a is scaled by w_a and every one of row b by w_b,

    w_d ½ (c − g(x))² + w_p ½ λ (w_a ‖A_a‖² + w_b ‖B_b‖²) + w_p ½ λ_b (w_a bias_A[a]² + w_b bias_B[b]²),

the step using (w_p λ) w_a for row a (and likewise for the other three), as the kernel's Weighted step.
"""
from __future__ import annotations

import math

import numpy as np


def g(x):
    """The logistic function on one scalar (float64 through math.exp, like std::exp)."""
    return 1.0 / (1.0 + math.exp(-float(x)))


def pair_step(A, B, a, b, target, gamma, lam, data_weight=1.0, penalty_weight=1.0, offset=0.0, biases=None,
              weights=(1.0, 1.0)):
    """One SGD step on the observation's term above, in A's dtype, in the kernel's order of operations."""
    dt = A.dtype.type
    x, y = A[a].copy(), B[b].copy()
    dot = x @ y
    if biases is not None:
        ba, bb = biases[0][a], biases[1][b]
        dot = dot + (ba + bb)
    z = dt(offset) + dot
    s = dt(g(z)) if dt is np.float64 else dt(1) / (dt(1) + np.exp(-z))
    e = dt(target) - s
    d = dt(data_weight) * e * s * (dt(1) - s)
    lam_w = dt(penalty_weight) * dt(lam)
    lam_a, lam_b = lam_w * dt(weights[0]), lam_w * dt(weights[1])  # (exact when the weights are 1)
    gamma = dt(gamma)
    A[a] = x + gamma * (d * y - lam_a * x)
    B[b] = y + gamma * (d * x - lam_b * y)
    if biases is not None:
        bias_lam_w = dt(penalty_weight) * dt(biases[2])
        biases[0][a] = ba + gamma * (d - bias_lam_w * dt(weights[0]) * ba)
        biases[1][b] = bb + gamma * (d - bias_lam_w * dt(weights[1]) * bb)


def _bias_values(biases, a, b):
    """(bias_A[a], bias_B[b]) in float64, (0, 0) without biases."""
    if biases is None:
        return 0.0, 0.0
    return float(biases[0][a]), float(biases[1][b])


def pair_terms(A, B, a, b, target, offset=0.0, biases=None):
    """(e, e·g'(x), A_a, B_b) of one observation, x = offset + A_a·B_b (+ its biases), in float64."""
    x, y = np.asarray(A[a], dtype=np.float64), np.asarray(B[b], dtype=np.float64)
    ba, bb = _bias_values(biases, a, b)
    s = g(float(offset) + x @ y + ba + bb)
    e = float(target) - s
    return e, e * s * (1.0 - s), x, y


def pair_loss(A, B, a, b, target, lam, data_weight=1.0, penalty_weight=1.0, offset=0.0, biases=None,
              weights=(1.0, 1.0)):
    """The observation's term, in float64."""
    e, _, x, y = pair_terms(A, B, a, b, target, offset, biases)
    w_a, w_b = weights
    total = data_weight * 0.5 * e * e + penalty_weight * 0.5 * lam * (w_a * (x @ x) + w_b * (y @ y))
    if biases is not None:
        ba, bb = _bias_values(biases, a, b)
        total += penalty_weight * 0.5 * biases[2] * (w_a * ba * ba + w_b * bb * bb)
    return total


def pair_gradient(grad_A, grad_B, A, B, a, b, target, lam, data_weight=1.0, penalty_weight=1.0, offset=0.0,
                  biases=None, bias_grads=None, weights=(1.0, 1.0)):
    """Adds the observation's gradient to rows a of grad_A and b of grad_B (float64), and with ``biases`` that
    of the two biases to ``bias_grads`` = (grad of bias_A, grad of bias_B)."""
    _, ge, x, y = pair_terms(A, B, a, b, target, offset, biases)
    w_a, w_b = weights
    grad_A[a] += -data_weight * ge * y + penalty_weight * lam * w_a * x
    grad_B[b] += -data_weight * ge * x + penalty_weight * lam * w_b * y
    if biases is not None:
        ba, bb = _bias_values(biases, a, b)
        bias_grads[0][a] += -data_weight * ge + penalty_weight * biases[2] * w_a * ba
        bias_grads[1][b] += -data_weight * ge + penalty_weight * biases[2] * w_b * bb
