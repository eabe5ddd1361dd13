"""socialrec models: one module per model, all on the shared engine (see base.Model)."""
from .base import Model, load
from .als import ALS
from .biased_mf import BiasedMF
from .bpr import BPR
from .rste import RSTE
from .sbpr import SBPR
from .social_als import SocialALS
from .social_mf import SocialMF
from .sorec import SoRec
from .soreg import SoReg
from .svdpp import SVDpp
from .trustmf import TrustMF
from .trustsvd import TrustSVD

__all__ = ["Model", "load", "BiasedMF", "SoReg", "RSTE", "TrustMF", "SoRec", "SocialMF", "SVDpp", "TrustSVD",
           "BPR", "SBPR", "ALS", "SocialALS"]
