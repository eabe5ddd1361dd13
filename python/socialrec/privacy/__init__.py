"""Differentially private training (optional extra ``socialrec[privacy]``: dp-accounting).

``model = sr.BiasedMF(privacy=sr.privacy.PrivacyBudget(epsilon=2.0, delta=1e-5, unit="user")).fit(train)``
trains by DP-SGD (Abadi et al., CCS 2016): Poisson-sampled units, each unit's contribution to the *released*
parameters clipped to ``clip_norm``, Gaussian noise on the sum; ``model.privacy_`` reports ε, δ, the unit, the
accountant, the noise multiplier, the sampling rate and the steps. See ``dp_sgd`` for what is protected.

Modules: ``budget`` (PrivacyBudget), ``accounting`` (ε of a mechanism; calibration of the noise),
``bounding`` (at most m ratings and e edges per user), ``anonymize`` (keyed id hashing, rare-item
suppression: pre-processing, not the privacy claim), ``dp_sgd`` (the DP-SGD driver of the models).
"""
from .accounting import calibrate_noise_multiplier, epsilon  # noqa: F401
from .anonymize import anonymize_ids, hash_ids, suppress_rare_items  # noqa: F401
from .bounding import bound_contributions  # noqa: F401
from .budget import UNITS, PrivacyBudget, PrivacyBudgetExceeded  # noqa: F401
