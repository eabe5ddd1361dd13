"""The model registry: every concrete model class, filled by the ``@register`` class decorator.

One table drives every enumeration of the models: ``socialrec.load`` (class name in a saved file -> class),
the command line's model names, the benchmarks that run every model, and the test suites. Its public view
is :func:`socialrec.models.registry`, which adds each model's kind and back-ends; it is built in
``models/__init__.py`` because deciding those needs the ranking base class and the CUDA mixin, which import
``models.base``, which imports this module (a leaf, so no import cycle).

The registry keeps the order of registration, that is the import order in ``models/__init__.py``.
"""
from __future__ import annotations

from typing import NamedTuple

__all__ = ["ModelInfo", "register"]

_REGISTRY: dict = {}  # class name -> class, in registration order


def register(cls):
    """Class decorator: puts ``cls`` in the registry (``socialrec.load`` rebuilds it from a saved file, and
    ``socialrec.models.registry()`` lists it)."""
    _REGISTRY[cls.__name__] = cls
    return cls


class ModelInfo(NamedTuple):
    """One entry of :func:`socialrec.models.registry`."""

    name: str    # the class name, as in ``socialrec.<name>``, saved files and the command line
    cls: type    # the model class
    kind: str    # "rating" (explicit ratings, predicts a rating) or "ranking" (implicit feedback, scores)
    cuda: bool   # whether the model has a CUDA back-end (``device="cuda"``)
    social: bool  # whether it trains on the trust graph (``uses_trust``; ``sr.compare``'s social group)
