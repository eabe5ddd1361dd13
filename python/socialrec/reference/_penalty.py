"""regularization_scaling's per-rating penalty weights (issue 15), shared by the SGD rating models' references."""
from __future__ import annotations

import math

import numpy as np


def penalty_weights(spec, data):
    """(w_user, w_item): the per-rating weights of the penalties for ``spec.regularization_scaling``, float64,
    from the counts |I_u| (ratings of u) and |U_i| (raters of i) in ``data``, counted entry by entry:
    ``"occurrence"`` 1, ``"sqrt_count"`` c^-1/2, ``"count"`` 1/c; 0 where the count is 0.

    Every rating (u, i) carries λ/2 (w_u ‖p_u‖² + w_i ‖q_i‖²) + λ_b/2 (w_u b_u² + w_i b_i²), so the penalty of
    a row summed over its c ratings is λ c, λ √c (TrustSVD's weighted λ, Guo, Zhang, Yorke-Smith, AAAI 2015,
    eq. 6, carried by the ratings) or λ."""
    m = data.ratings.tocsr()
    users, items = np.zeros(m.shape[0], dtype=np.int64), np.zeros(m.shape[1], dtype=np.int64)
    for u in range(m.shape[0]):
        for k in range(m.indptr[u], m.indptr[u + 1]):
            users[u] += 1
            items[m.indices[k]] += 1

    def weight(c):
        if spec.regularization_scaling == "occurrence":
            return 1.0
        if c == 0:
            return 0.0
        return 1.0 / math.sqrt(c) if spec.regularization_scaling == "sqrt_count" else 1.0 / c

    return np.array([weight(c) for c in users]), np.array([weight(c) for c in items])
