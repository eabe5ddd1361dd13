"""socialrec models: one module per model, all on the shared engine (see base.Model)."""
from .base import Model, load
from .biased_mf import BiasedMF
from .bpr import BPR
from .rste import RSTE
from .sbpr import SBPR
from .social_mf import SocialMF
from .sorec import SoRec
from .soreg import SoReg
from .trustmf import TrustMF

__all__ = ["Model", "load", "BiasedMF", "SoReg", "RSTE", "TrustMF", "SoRec", "SocialMF", "BPR", "SBPR"]
