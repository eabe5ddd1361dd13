"""The executable specification of every socialrec model: plain NumPy (loops on purpose), the same
objectives and the same visiting orders as the C++ kernels (DESIGN §5).

It is a leaf: it imports only the standard library, NumPy, SciPy and its own modules, and it reads from a
model only its class name, its hyper-parameters (``get_params()``) and its public fitted arrays. Every
structure a fit trains on -- visiting orders, rating grids, user groups, normalised trust, link and trust
targets, penalty weights, the [0, 1] rating mapping, the offsets and the initial draws -- is built here
from the data, by the rules written in each module's docstrings (tests/test_reference_is_a_leaf.py checks).

``fit(model, train)`` trains a reference copy with ``model``'s hyper-parameters and returns its parameters
as a dict keyed like ``model.parameters_``; ``loss(model, data)`` and ``gradient(model, data)`` give the
objective and its full gradient at ``model``'s current parameters (or at ``params=`` when given).

``socialrec.reference.fold_in``: fold-in's row problem and its solver (the specification of the C++
``_core.fold_in_solve``).

``model`` may also be a class name with its hyper-parameters, so that no model object is needed::

    reference.fit("TrustSVD", train, hyper=model.get_params())
    reference.loss("SoRec", data, params=arrays, hyper=hyper, rating_scale=(1.0, 5.0))

(``rating_scale``: the fixed scale of the [0, 1] mapping, a fitted model's ``rating_scale_``; a model object
gives its own.) ``train`` / ``data``: a ``socialrec.Dataset`` or anything with ``ratings``, ``trust`` and
``rating_scale`` (see ``_data``).
"""
from __future__ import annotations

from . import ranking  # noqa: F401  (top-N selection and ranking metrics: socialrec.reference.ranking)
from ._data import as_data
from ._spec import module_for, spec_of, specified

__all__ = ["fit", "loss", "gradient", "specified"]


def fit(model, train, hyper=None):
    """Train a reference copy of ``model`` (same hyper-parameters, seed and order) on ``train``."""
    spec = spec_of(model, hyper)
    return module_for(spec.name).fit(spec, as_data(train))


def _params(model, params):
    if params is None:
        if isinstance(model, str):
            raise TypeError("socialrec.reference: pass params=<the parameter arrays> with a class name")
        params = model.parameters_
    return params


def loss(model, data, params=None, hyper=None, rating_scale=None):
    """The model's objective (DESIGN §4) on ``data`` at ``params`` (default: the fitted parameters)."""
    spec = spec_of(model, hyper, rating_scale)
    return float(module_for(spec.name).loss(spec, _params(model, params), as_data(data)))


def gradient(model, data, params=None, hyper=None, rating_scale=None):
    """Full gradient of ``loss`` with respect to each learned parameter array, as a dict of float64 arrays."""
    spec = spec_of(model, hyper, rating_scale)
    return module_for(spec.name).gradient(spec, _params(model, params), as_data(data))
