"""Trust-graph structures shared by several social references, written as loops over the edges."""
from __future__ import annotations

import numpy as np


def csr_arrays(data, keep=None, weights=None):
    """The trust graph of ``data`` as CSR arrays (offsets int64, dst int32, weight float64), CSR order,
    keeping only the edges where ``keep`` is True (default all) and weighing them with ``weights`` (default the
    stored trust values, as float64)."""
    t = data.trust
    offsets = np.zeros(t.shape[0] + 1, dtype=np.int64)
    dst, weight = [], []
    for u in range(t.shape[0]):
        for e in range(t.indptr[u], t.indptr[u + 1]):
            if keep is None or keep[e]:
                dst.append(int(t.indices[e]))
                weight.append(float(t.data[e]) if weights is None else float(weights[e]))
        offsets[u + 1] = len(dst)
    return offsets, np.array(dst, dtype=np.int32), np.array(weight, dtype=np.float64)


def row_normalised(offsets, weights):
    """Each non-empty row of a CSR weight array divided by its sum, the sum taken in CSR order in float64:
    the row-normalised S of SocialMF (T) and RSTE (S)."""
    out = np.array(weights, dtype=np.float64)
    for u in range(len(offsets) - 1):
        total = 0.0
        for e in range(offsets[u], offsets[u + 1]):
            total += out[e]
        for e in range(offsets[u], offsets[u + 1]):
            out[e] = out[e] / total
    return out


def normalised_trust(data):
    """(offsets, trustees, weights): the trust graph with each row scaled to sum to 1, T_uv = t_uv / Σ_w t_uw
    (Jamali & Ester 2010, §4; Ma, King, Lyu 2009)."""
    offsets, dst, weight = csr_arrays(data)
    return offsets, dst, row_normalised(offsets, weight)
