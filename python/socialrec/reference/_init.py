"""The initial draws and fixed offsets (DESIGN §5: "initial parameters are drawn once in Python").

Every model draws its factor matrices one after another, in the order its module's ``initial_parameters``
docstring lists them, from one ``numpy.random.default_rng(seed)``:

* ``normal``: ``rng.normal(0.0, init_std, size=(rows, factors))``, cast to the model's dtype;
* ``uniform`` (BiasedMF ``init="uniform"``): ``rng.random(size=(rows, factors)) * init_std``, cast likewise;

each matrix is always drawn in full (so the stream does not depend on the data), and then its inactive rows
-- those that no observation touches, as each model says -- are set to 0. Biases start at 0.
"""
from __future__ import annotations

import math

import numpy as np


def normal(spec, rng, rows, active=None):
    """N(0, init_std²) draws of shape (rows, factors) in ``spec``'s dtype; rows with ``active`` False are 0."""
    x = rng.normal(0.0, spec.init_std, size=(rows, spec.factors)).astype(spec.np_dtype)
    if active is not None:
        x[~np.asarray(active, dtype=bool)] = 0
    return x


def uniform(spec, rng, rows, active):
    """U[0, init_std) draws of shape (rows, factors) in ``spec``'s dtype; rows with ``active`` False are 0."""
    x = (rng.random(size=(rows, spec.factors)) * spec.init_std).astype(spec.np_dtype)
    x[~np.asarray(active, dtype=bool)] = 0
    return x


def has_entries(matrix, axis):
    """Boolean mask, by plain counting: rows (``axis=1``) or columns (``axis=0``) of a CSR matrix with at
    least one stored entry (a rated user / item, a truster / trustee)."""
    m = matrix.tocsr()
    if axis == 1:
        return np.array([m.indptr[u + 1] > m.indptr[u] for u in range(m.shape[0])], dtype=bool)
    mask = np.zeros(m.shape[1], dtype=bool)
    for j in m.indices:
        mask[j] = True
    return mask


def zeros(spec, rows):
    return np.zeros(rows, dtype=spec.np_dtype)


def biases(spec, train, prefix=""):
    """``{prefix}user_bias`` and ``{prefix}item_bias``, zeros in ``spec``'s dtype, when ``spec.biased``; else
    nothing (the logistic-link models' ``biased``)."""
    if not spec.biased:
        return {}
    return {f"{prefix}user_bias": zeros(spec, train.n_users), f"{prefix}item_bias": zeros(spec, train.n_items)}


def named_biases(spec, params, names):
    """(bias of A, bias of B, λ_b) for ``_logistic``'s ``biases`` argument from the parameter names
    ``names`` = (user bias, item bias); None when ``names`` is None."""
    if names is None:
        return None
    return params[names[0]], params[names[1]], spec.bias_regularization


def rating_biases(spec, params, prefix=""):
    """``named_biases`` of the rating term (``{prefix}user_bias``, ``{prefix}item_bias``) with ``spec.biased``,
    else None."""
    names = (f"{prefix}user_bias", f"{prefix}item_bias") if spec.biased else None
    return named_biases(spec, params, names)


def global_mean(spec, data):
    """μ: the mean of the stored rating values, as NumPy takes it in their own (float32) storage dtype --
    ``ratings.data.mean()`` -- then held as a 0-d array of the model's dtype."""
    return np.array(float(data.ratings.data.mean()), dtype=spec.np_dtype)


def unit_values(values, rating_scale):
    """Min-max mapping r̃ = (r − r_min) / (r_max − r_min) (DESIGN §4), in float64, rounded to float32."""
    lo, hi = rating_scale
    return ((np.asarray(values, dtype=np.float64) - lo) / (hi - lo)).astype(np.float32)


def logit_offset(spec, data):
    """b = logit(m), m the float64 mean (``np.mean``) of the training ratings mapped to [0, 1] with the
    training scale (float32 values, ``unit_values``), clipped to [1e-6, 1 − 1e-6]: the fixed offset that makes
    x = b predict the training mean. A 0-d array of the model's dtype."""
    m = float(np.mean(unit_values(data.ratings.data, data.rating_scale), dtype=np.float64))
    m = min(max(m, 1e-6), 1 - 1e-6)
    return np.array(math.log(m / (1 - m)), dtype=spec.np_dtype)
