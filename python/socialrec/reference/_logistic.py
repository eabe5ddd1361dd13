"""The logistic pair step shared by the logistic-link models (cpp/include/socialrec/models/weighted_logistic.hpp)."""
from __future__ import annotations

import math

import numpy as np


def g(x):
    """The logistic function on one scalar (float64 through math.exp, like std::exp)."""
    return 1.0 / (1.0 + math.exp(-float(x)))


def pair_step(A, B, a, b, target, gamma, weight, lam):
    """One SGD step on  w [½ (c − g(A_a·B_b))² + ½ λ (‖A_a‖² + ‖B_b‖²)]  (all in A's dtype)."""
    dt = A.dtype.type
    x, y = A[a].copy(), B[b].copy()
    s = dt(g(x @ y)) if dt is np.float64 else dt(1) / (dt(1) + np.exp(-(x @ y)))
    e = dt(target) - s
    ge = e * s * (dt(1) - s)
    step = dt(gamma) * dt(weight)
    A[a] = x + step * (ge * y - dt(lam) * x)
    B[b] = y + step * (ge * x - dt(lam) * y)


def pair_terms(A, B, a, b, target):
    """(e, e·g'(x), A_a, B_b) of one observation, in float64."""
    x, y = np.asarray(A[a], dtype=np.float64), np.asarray(B[b], dtype=np.float64)
    s = g(x @ y)
    e = float(target) - s
    return e, e * s * (1.0 - s), x, y
