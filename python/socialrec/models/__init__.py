"""socialrec models: one module per model, all on the shared engine (see base.Model)."""
from .base import Model, load
from .als import ALS
from .biased_mf import BiasedMF
from .social_als import SocialALS

__all__ = ["Model", "load", "BiasedMF", "ALS", "SocialALS"]
