"""socialrec models: one module per model, all on the shared engine (see base.Model)."""
from .base import Model, load
from .als import ALS
from .biased_mf import BiasedMF
from .rste import RSTE
from .social_als import SocialALS
from .soreg import SoReg
from .trustmf import TrustMF

__all__ = ["Model", "load", "BiasedMF", "SoReg", "RSTE", "TrustMF", "ALS", "SocialALS"]
