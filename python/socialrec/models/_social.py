"""Training-state helpers shared by the social rating models (and their references): ratings mapped to
[0, 1], trust as CSR arrays, the packed trust grid. Pure array code, no loops over ratings."""
from __future__ import annotations

import numpy as np

from .. import _engine


def unit_values(values, rating_scale):
    """Min-max mapping r~ = (r - r_min) / (r_max - r_min) (DESIGN §4), as float32."""
    lo, hi = rating_scale
    return ((np.asarray(values, dtype=np.float64) - lo) / (hi - lo)).astype(np.float32)


def logit_offset(train, dtype):
    """b = logit(mean r~): the fixed offset of the logistic models, so that x = b predicts the training mean
    (users and items without training ratings). A 0-d array of ``dtype``."""
    mean = float(np.mean(unit_values(train.ratings.data, train.rating_scale), dtype=np.float64))
    mean = min(max(mean, 1e-6), 1 - 1e-6)
    return np.array(np.log(mean / (1 - mean)), dtype=dtype)


def rating_offset(model, train):
    """The fixed offset b inside g of SoRec's and SocialMF's rating term: ``logit_offset`` when
    ``model.offset``, else 0 (the papers' form). A 0-d array of the model's dtype."""
    if model.offset:
        return logit_offset(train, model._np_dtype)
    return np.array(0.0, dtype=model._np_dtype)


def trust_csr(trust, keep=None, weights=None):
    """CSR arrays (offsets int64, dst int32, weight float64) of the trust graph, optionally only the edges
    where ``keep`` is True and with ``weights`` (default: the stored trust values), in CSR order."""
    n_users = trust.shape[0]
    src = np.repeat(np.arange(n_users, dtype=np.int64), np.diff(trust.indptr))
    dst = trust.indices.astype(np.int32)
    w = trust.data.astype(np.float64) if weights is None else np.asarray(weights, dtype=np.float64)
    if keep is not None:
        src, dst, w = src[keep], dst[keep], w[keep]
    offsets = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n_users), out=offsets[1:])
    return offsets, np.ascontiguousarray(dst), np.ascontiguousarray(w)


def row_normalised(offsets, weights):
    """Each non-empty row of a CSR weight array divided by its sum (the S of RSTE / SocialMF)."""
    counts = np.diff(offsets)
    sums = np.add.reduceat(weights, offsets[:-1][counts > 0]) if weights.size else np.zeros(0)
    out = weights.copy()
    out /= np.repeat(sums, counts[counts > 0])
    return out


def has_rows(indptr):
    """Boolean mask of the rows of a CSR matrix with at least one entry."""
    return np.diff(indptr) > 0


def trust_grid(trust, values, factors, itemsize):
    """The edges of the CSR matrix ``trust`` with ``values`` (one per stored entry, CSR order) packed as a
    truster-block x trustee-block grid (for passes whose step touches two different matrices, e.g. TrustMF's
    B_u . W_k)."""
    n_users = trust.shape[0]
    blocks = _engine.grid_blocks(n_users, n_users, factors, itemsize)
    return _engine.pack_grid_csr(trust.indptr, trust.indices, values, n_users, blocks)


def logistic(x):
    """The logistic function g(x) = 1 / (1 + exp(-x)), elementwise in float64."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))
