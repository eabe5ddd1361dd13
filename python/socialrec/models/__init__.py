"""socialrec models: one module per model, all on the shared engine (see base.Model).

Every model class is registered (``@register``) and :func:`registry` lists them: the command line, the
benchmarks and the test suites enumerate the models from it, so a new model appears everywhere once its
module is imported here.
"""
from ._registry import _REGISTRY, ModelInfo
from .base import Model, load
from .device import DeviceMixin
from .ranking import RankingModel

# The import order is the registry's order (rating models, then ranking models), which the command line's
# lists and its demo table follow.
from .biased_mf import BiasedMF
from .svdpp import SVDpp
from .sorec import SoRec
from .social_mf import SocialMF
from .soreg import SoReg
from .rste import RSTE
from .trustmf import TrustMF
from .trustsvd import TrustSVD
from .bpr import BPR
from .sbpr import SBPR
from .als import ALS
from .social_als import SocialALS

# ``registry`` stays out of __all__: ``socialrec/__init__.py`` star-imports this list, and the registry is
# reached as ``socialrec.models.registry()``.
__all__ = ["Model", "load", "BiasedMF", "SoReg", "RSTE", "TrustMF", "SoRec", "SocialMF", "SVDpp",
           "TrustSVD", "BPR", "SBPR", "ALS", "SocialALS"]

KINDS = ("rating", "ranking")


def registry(kind=None):
    """Every model class of socialrec, as a tuple of ``ModelInfo(name, cls, kind, cuda, social)``.

    ``name`` is the class name (``socialrec.<name>``, the name in saved files and on the command line);
    ``kind`` is ``"ranking"`` for the implicit-feedback models (subclasses of ``RankingModel``: binary
    interactions in, scores out) and ``"rating"`` for the others (explicit ratings in, predicted ratings
    out); ``cuda`` tells whether the class has a CUDA back-end (it mixes in ``DeviceMixin``, so
    ``device="cuda"`` trains it on a GPU); ``social`` whether it trains on the trust graph (the class's
    ``uses_trust``). Rating models come first, then ranking models, each in
    registration order. ``kind`` ("rating" or "ranking") keeps only the models of that kind.

    >>> import socialrec as sr
    >>> [m.name for m in sr.models.registry("ranking")]
    ['BPR', 'SBPR', 'ALS', 'SocialALS']
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS} or None, got {kind!r}")
    entries = [ModelInfo(name, cls, "ranking" if issubclass(cls, RankingModel) else "rating",
                         issubclass(cls, DeviceMixin), bool(cls.uses_trust)) for name, cls in _REGISTRY.items()]
    return tuple(e for k in KINDS if kind in (None, k) for e in entries if e.kind == k)
