"""Training-state helpers shared by the social rating models (the reference writes its own): ratings mapped to
[0, 1], trust as CSR arrays, the packed trust grid. Pure array code, no loops over ratings; the functions
with an ``xp`` argument also build a CUDA fit's structures on the device (``xp`` = CuPy)."""
from __future__ import annotations

import numpy as np

from .. import _engine, _gpu
from .._arrays import bincount, map_chunks, rows_of


def unit_values(values, rating_scale):
    """Min-max mapping r~ = (r - r_min) / (r_max - r_min) (DESIGN §4), as float32."""
    lo, hi = rating_scale
    return ((np.asarray(values, dtype=np.float64) - lo) / (hi - lo)).astype(np.float32)


def unit_values_in_place(values, rating_scale):
    """``values[...] = unit_values(values, rating_scale)`` (a float32 array or a record field), chunk by chunk
    (``_arrays.map_chunks``): the same float64 arithmetic and float32 rounding, so the same numbers, without
    the float64 copy of every value that ``unit_values`` holds at once."""
    map_chunks(lambda part: unit_values(part, rating_scale), values, values)


def objective_scale(model, data):
    """The (r_min, r_max) of the [0, 1] mapping in ``model``'s objective on ``data``: the scale the model was
    trained on once it is fitted (the one ``predict`` maps back with), so that ``loss`` on held-out data is
    the fitted objective, finite even where ``data`` infers a scale of its own from fewer ratings (one
    rating: zero width); before a fit, ``data``'s."""
    return model.rating_scale_ if model.fitted else data.rating_scale


def logit_offset(train, dtype):
    """b = logit(mean r~): the fixed offset of the logistic models, so that x = b predicts the training mean
    (users and items without training ratings). A 0-d array of ``dtype``. The mean is taken where the
    ratings are (on the device for a CUDA fit)."""
    xp = _gpu.array_module(train)
    lo, hi = train.rating_scale
    unit = ((train.ratings.data.astype(xp.float64) - lo) / (hi - lo)).astype(xp.float32)  # unit_values
    mean = float(xp.mean(unit, dtype=xp.float64))
    mean = min(max(mean, 1e-6), 1 - 1e-6)
    return np.array(np.log(mean / (1 - mean)), dtype=dtype)


def rating_offset(model, train):
    """The fixed offset b inside g of SoRec's and SocialMF's rating term: ``logit_offset`` when
    ``model.offset``, else 0 (the papers' form). A 0-d array of the model's dtype."""
    if model.offset:
        return logit_offset(train, model._np_dtype)
    return np.array(0.0, dtype=model._np_dtype)


def trust_csr(trust, keep=None, weights=None, xp=np):
    """CSR arrays (offsets int64, dst int32, weight float64) of the trust graph, optionally only the edges
    where ``keep`` is True and with ``weights`` (default: the stored trust values), in CSR order. ``xp``:
    NumPy, or CuPy for a CUDA fit's ``DeviceTrust`` (built on the device)."""
    n_users = trust.shape[0]
    src = rows_of(trust.indptr, xp)
    dst = trust.indices.astype(xp.int32)
    w = trust.data.astype(xp.float64) if weights is None else xp.asarray(weights, dtype=xp.float64)
    if keep is not None:
        src, dst, w = src[keep], dst[keep], w[keep]
    offsets = xp.zeros(n_users + 1, dtype=xp.int64)
    offsets[1:] = xp.cumsum(bincount(src, n_users, xp=xp))
    return offsets, xp.ascontiguousarray(dst), xp.ascontiguousarray(w)


def row_normalised(offsets, weights, xp=np):
    """Each non-empty row of a CSR weight array divided by its sum (the S of RSTE / SocialMF). NumPy sums a
    row with ``add.reduceat`` (the CPU path's values); CuPy, which has no reduceat, with ``bincount`` (the same
    values to float64 rounding)."""
    if xp is np:
        counts = np.diff(offsets)
        sums = np.add.reduceat(weights, offsets[:-1][counts > 0]) if weights.size else np.zeros(0)
        out = weights.copy()
        out /= np.repeat(sums, counts[counts > 0])
        return out
    rows = rows_of(offsets, xp)
    return weights / bincount(rows, int(offsets.size) - 1, weights=weights, xp=xp)[rows]


def check_positive_trust(model, train):
    """Raise ``ValueError`` unless every stored trust value is positive: the models that weight a user's
    trustees by the row-normalised trust values (SocialMF's T, RSTE's S) need them so (a signed row can sum to
    0). ``train``: a ``Dataset`` or a CUDA fit's device data."""
    data = train.trust.data
    bad = _gpu.array_module(train).flatnonzero(data <= 0)
    if bad.size:
        bad = int(bad[0])
        raise ValueError(f"{type(model).__name__} needs positive trust values (they weight the trustees); trust "
                         f"value #{bad} is {float(data[bad])!r}")


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
