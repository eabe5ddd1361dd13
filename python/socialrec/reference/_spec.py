"""What the reference reads from a model: its class name and hyper-parameters, nothing else.

A :class:`Spec` is built from a model object (``type(model).__name__``, ``model.get_params()`` and, once it is
fitted, the public ``rating_scale_``) or from a class name and a hyper-parameter dict, so that the reference
can run without any model object at all (``reference.fit("SoRec", train, hyper=params)``). Each reference
module names the classes it specifies in a module-level ``SPECIFIES`` tuple; :func:`module_for` finds them by
walking this package, so adding a model means adding one module here and nothing else.
"""
from __future__ import annotations

import importlib
import pkgutil

import numpy as np


class Spec:
    """A model's hyper-parameters as attributes (``spec.learning_rate`` ...), plus

    * ``name`` -- the model class name (``"TrustSVD"``);
    * ``rating_scale`` -- the (r_min, r_max) the objective maps ratings with, when it is fixed (a fitted
      model's ``rating_scale_``); None: each dataset's own ``rating_scale``;
    * ``np_dtype`` -- the dtype the parameters live in: float64 when ``dtype == "float64"``, else float32
      (float16 is a CUDA storage format; the reference computes it in float32).

    ``hyper`` must hold every hyper-parameter the model's ``get_params()`` gives (the reference knows no
    defaults); a missing one raises ``AttributeError`` naming it.
    """

    def __init__(self, name, hyper, rating_scale=None):
        self.__dict__.update(hyper)
        self.name = name
        self.rating_scale = None if rating_scale is None else (float(rating_scale[0]), float(rating_scale[1]))

    def __getattr__(self, key):  # only called for missing attributes
        raise AttributeError(f"socialrec.reference: hyper-parameter {key!r} of {self.name} was not given")

    @property
    def np_dtype(self):
        return np.dtype("float64" if self.dtype == "float64" else "float32")

    def objective_scale(self, data):
        """The (r_min, r_max) of the [0, 1] mapping in the objective on ``data``: the fixed scale when there is
        one (the fitted model's, the one its predictions map back with), else ``data.rating_scale``."""
        return self.rating_scale if self.rating_scale is not None else data.rating_scale

    def require_seed(self):
        """The seed as an int; the reference only reproduces seeded fits."""
        if self.seed is None:
            raise ValueError(f"socialrec.reference needs a fixed seed to reproduce a {self.name} fit (seed=None)")
        return int(self.seed)


def spec_of(model, hyper=None, rating_scale=None):
    """The Spec of ``model`` (a model object, a class name or a Spec). For a model object, ``hyper`` defaults
    to ``model.get_params()`` and ``rating_scale`` to its fitted ``rating_scale_`` (None before a fit)."""
    if isinstance(model, Spec):
        return model
    if isinstance(model, str):
        if hyper is None:
            raise TypeError(f"socialrec.reference: pass hyper=<the {model} hyper-parameters> with a class name")
        return Spec(model, dict(hyper), rating_scale)
    hyper = model.get_params() if hyper is None else hyper
    if rating_scale is None and getattr(model, "parameters_", None) is not None:
        rating_scale = getattr(model, "rating_scale_", None)
    return Spec(type(model).__name__, dict(hyper), rating_scale)


_SPECIFIED = None  # class name -> module name, filled on first use


def specified():
    """{class name: reference module name} for every module of this package that declares ``SPECIFIES``."""
    global _SPECIFIED
    if _SPECIFIED is None:
        found = {}
        for info in pkgutil.iter_modules(importlib.import_module(__package__).__path__):
            if info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{__package__}.{info.name}")
            for name in getattr(module, "SPECIFIES", ()):
                if name in found:
                    raise RuntimeError(f"{name} is specified twice: {found[name]} and {info.name}")
                found[name] = info.name
        _SPECIFIED = found
    return _SPECIFIED


def module_for(name):
    """The reference module that specifies model class ``name``."""
    modules = specified()
    if name not in modules:
        raise NotImplementedError(f"socialrec.reference has no {name} yet")
    return importlib.import_module(f"{__package__}.{modules[name]}")
