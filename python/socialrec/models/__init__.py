"""socialrec models: one module per model, all on the shared engine (see base.Model)."""
from .base import Model, load
from .biased_mf import BiasedMF
from .svdpp import SVDpp
from .trustsvd import TrustSVD

__all__ = ["Model", "load", "BiasedMF", "SVDpp", "TrustSVD"]
