"""socialrec models: one module per model, all on the shared engine (see base.Model)."""
from .base import Model, load
from .biased_mf import BiasedMF
from .bpr import BPR
from .sbpr import SBPR

__all__ = ["Model", "load", "BiasedMF", "BPR", "SBPR"]
