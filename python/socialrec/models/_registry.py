"""The table of model classes by name: ``socialrec.load`` rebuilds a saved model from its class name."""
from __future__ import annotations

__all__ = ["register"]

_REGISTRY = {}


def register(cls):
    """Class decorator: makes ``socialrec.load`` able to rebuild ``cls`` from a saved file."""
    _REGISTRY[cls.__name__] = cls
    return cls
