"""socialrec models: one module per model, all on the shared engine (see base.Model)."""
from .base import Model, load
from .biased_mf import BiasedMF
from .social_mf import SocialMF
from .sorec import SoRec

__all__ = ["Model", "load", "BiasedMF", "SoRec", "SocialMF"]
