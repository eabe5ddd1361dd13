"""The executable specification of every socialrec model: plain NumPy (loops on purpose), the same
objectives and the same visiting orders as the C++ kernels (DESIGN §5).

``fit(model, train)`` trains a reference copy with ``model``'s hyper-parameters and returns its parameters
as a dict keyed like ``model.parameters_``; ``loss(model, data)`` and ``gradient(model, data)`` give the
objective and its full gradient at ``model``'s current parameters (or at ``params=`` when given).
"""
from __future__ import annotations

import importlib

from ..models.base import as_dataset
from . import ranking  # noqa: F401  (top-N selection and ranking metrics: socialrec.reference.ranking)

__all__ = ["fit", "loss", "gradient"]

# model class name -> module of socialrec.reference implementing fit / loss / gradient
_MODULES = {
    "BiasedMF": "biased_mf",
    "SVDpp": "svdpp",
    "TrustSVD": "trustsvd",
    "BPR": "bpr",
    "SBPR": "sbpr",
    "SoReg": "soreg",
    "RSTE": "rste",
    "TrustMF": "trustmf",
    "SoRec": "sorec",
    "SocialMF": "social_mf",
    "ALS": "als",
    "SocialALS": "social_als",
}


def _module(model):
    name = type(model).__name__
    if name not in _MODULES:
        raise NotImplementedError(f"socialrec.reference has no {name} yet")
    return importlib.import_module(f"{__name__}.{_MODULES[name]}")


def fit(model, train):
    """Train a reference copy of ``model`` (same hyper-parameters, seed and order) on ``train``."""
    model._check_params()
    return _module(model).fit(model, as_dataset(train))


def loss(model, data, params=None):
    """The model's objective (DESIGN §4) on ``data`` at ``params`` (default: the fitted parameters)."""
    params = model.parameters_ if params is None else params
    return float(_module(model).loss(model, params, as_dataset(data)))


def gradient(model, data, params=None):
    """Full gradient of ``loss`` with respect to each learned parameter array, as a dict of float64 arrays."""
    params = model.parameters_ if params is None else params
    return _module(model).gradient(model, params, as_dataset(data))
