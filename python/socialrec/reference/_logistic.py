"""The logistic pair step of SoRec, SocialMF and TrustMF (cpp/include/socialrec/models/logistic_pair.hpp).

One observation (row a of A, row b of B, target c) contributes

    w_d ½ (c − g(offset + A_a·B_b))² + w_p ½ λ (‖A_a‖² + ‖B_b‖²)

with fixed data and penalty weights w_d, w_p; ``pair_step`` is one SGD step on it (old rows on the right).
"""
from __future__ import annotations

import math

import numpy as np


def g(x):
    """The logistic function on one scalar (float64 through math.exp, like std::exp)."""
    return 1.0 / (1.0 + math.exp(-float(x)))


def pair_step(A, B, a, b, target, gamma, lam, data_weight=1.0, penalty_weight=1.0, offset=0.0):
    """One SGD step on the observation's term above, in A's dtype, in the kernel's order of operations."""
    dt = A.dtype.type
    x, y = A[a].copy(), B[b].copy()
    z = dt(offset) + x @ y
    s = dt(g(z)) if dt is np.float64 else dt(1) / (dt(1) + np.exp(-z))
    e = dt(target) - s
    d = dt(data_weight) * e * s * (dt(1) - s)
    lam_w = dt(penalty_weight) * dt(lam)
    gamma = dt(gamma)
    A[a] = x + gamma * (d * y - lam_w * x)
    B[b] = y + gamma * (d * x - lam_w * y)


def pair_terms(A, B, a, b, target, offset=0.0):
    """(e, e·g'(x), A_a, B_b) of one observation, x = offset + A_a·B_b, in float64."""
    x, y = np.asarray(A[a], dtype=np.float64), np.asarray(B[b], dtype=np.float64)
    s = g(float(offset) + x @ y)
    e = float(target) - s
    return e, e * s * (1.0 - s), x, y


def pair_loss(A, B, a, b, target, lam, data_weight=1.0, penalty_weight=1.0, offset=0.0):
    """The observation's term, in float64."""
    e, _, x, y = pair_terms(A, B, a, b, target, offset)
    return data_weight * 0.5 * e * e + penalty_weight * 0.5 * lam * (x @ x + y @ y)


def pair_gradient(grad_A, grad_B, A, B, a, b, target, lam, data_weight=1.0, penalty_weight=1.0, offset=0.0):
    """Adds the observation's gradient to rows a of grad_A and b of grad_B (float64)."""
    _, ge, x, y = pair_terms(A, B, a, b, target, offset)
    grad_A[a] += -data_weight * ge * y + penalty_weight * lam * x
    grad_B[b] += -data_weight * ge * x + penalty_weight * lam * y
