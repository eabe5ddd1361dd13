"""The behavioural suite every model passes (DESIGN §7), parametrised over ``CASES``.

A new model adds one ``Case`` to ``CASES``; model-specific checks go in its own ``tests/test_<model>.py``.
Each case gives small hyper-parameters that train in milliseconds and, for the reference comparison, the
number of epochs the pure-Python reference can afford.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import socialrec as sr


@dataclass
class Case:
    name: str                      # id shown by pytest
    cls: str                       # class name in socialrec
    params: dict = field(default_factory=dict)
    reference_epochs: int = 3      # epochs of the C++ == reference comparison
    ranking: bool | str = False    # implicit-feedback model (ranking metric): True binary data, "counts" counts
    float32_rtol: float = 2e-4     # stated float32 tolerance against the float64 reference

    def make(self, **overrides):
        params = {"factors": 4, "seed": 0, "num_threads": 1, **self.params, **overrides}
        return getattr(sr, self.cls)(**params)


CASES = [
    Case("BiasedMF", "BiasedMF", {"epochs": 5, "learning_rate": 0.01}),
    Case("PMF", "BiasedMF", {"epochs": 5, "learning_rate": 0.01, "biased": False}),
    Case("BiasedMF-adaptive", "BiasedMF", {"epochs": 5, "learning_rate": 0.1, "learning_rate_schedule": "adaptive"}),
    Case("PMF-adaptive", "BiasedMF", {"epochs": 5, "learning_rate": 0.1, "biased": False,
                                      "learning_rate_schedule": "adaptive"}),
    Case("PMF-decay-uniform", "BiasedMF", {"epochs": 5, "learning_rate": 0.05, "biased": False,
                                           "learning_rate_decay": 0.7, "init": "uniform"}),
    Case("BiasedMF-adaptive-decay", "BiasedMF", {"epochs": 5, "learning_rate": 0.1, "learning_rate_decay": 0.8,
                                                 "learning_rate_schedule": "adaptive"}),
    Case("SVDpp", "SVDpp", {"epochs": 5, "learning_rate": 0.01}),
    Case("TrustSVD", "TrustSVD", {"epochs": 5, "learning_rate": 0.01}),
    Case("BPR", "BPR", {"epochs": 5, "learning_rate": 0.05}, ranking=True),
    Case("SBPR", "SBPR", {"epochs": 5, "learning_rate": 0.05}, ranking=True),
    Case("SBPR-mixed", "SBPR", {"epochs": 5, "learning_rate": 0.05, "social_weight": 0.3}, ranking=True),
    Case("SoReg", "SoReg", {"epochs": 5}),
    Case("SoReg-SR1-vss", "SoReg", {"epochs": 5, "regularizer": "SR1", "similarity": "vss"}),
    Case("SoReg-SR2-sim1", "SoReg", {"epochs": 5, "similarity": None, "social_regularization": 0.5}),
    Case("RSTE", "RSTE", {"epochs": 5}),
    Case("TrustMF", "TrustMF", {"epochs": 5}),
    Case("SoRec", "SoRec", {"epochs": 5, "learning_rate": 0.1, "social_regularization": 2.0}),
    Case("SocialMF", "SocialMF", {"epochs": 5, "learning_rate": 0.1, "social_regularization": 2.0}),
    Case("ALS", "ALS", {"epochs": 5, "alpha": 5.0, "regularization": 0.1}, ranking=True),
    Case("ALS-cholesky", "ALS", {"epochs": 5, "alpha": 5.0, "regularization": 0.1, "solver": "cholesky"},
         ranking=True),
    Case("SocialALS", "SocialALS", {"epochs": 5, "alpha": 5.0, "regularization": 0.1,
                                    "social_regularization": 0.5}, ranking=True),
    Case("SocialALS-normalized", "SocialALS", {"epochs": 5, "alpha": 5.0, "regularization": 0.1,
                                               "social_regularization": 2.0, "similarity": "normalized",
                                               "solver": "cholesky"}, ranking=True),
    # confidence rules on heavy-tailed counts (binary data gives w = 1 under every rule)
    Case("ALS-log-counts", "ALS", {"epochs": 5, "alpha": 5.0, "regularization": 0.1}, ranking="counts"),
    Case("ALS-log-epsilon-counts", "ALS", {"epochs": 5, "alpha": 5.0, "regularization": 0.1, "epsilon": 3.0,
                                           "solver": "cholesky"}, ranking="counts"),
    Case("ALS-linear-counts", "ALS", {"epochs": 5, "alpha": 0.5, "regularization": 0.1, "confidence": "linear",
                                      "solver": "cholesky"}, ranking="counts"),
    Case("SocialALS-log-counts", "SocialALS", {"epochs": 5, "alpha": 5.0, "regularization": 0.1,
                                               "social_regularization": 0.5}, ranking="counts"),
    Case("SocialALS-linear-counts", "SocialALS", {"epochs": 5, "alpha": 0.5, "regularization": 0.1,
                                                  "social_regularization": 0.5, "confidence": "linear",
                                                  "solver": "cholesky"}, ranking="counts"),
]


def tiny_data(seed=3, n_users=40, n_items=30, ranking=False):
    """A small synthetic dataset with trust (users in trust only, isolated users) for exact comparisons.
    ``ranking``: True gives 0/1 interactions, "counts" heavy-tailed counts (1 to a few hundred, as listens)."""
    ds = sr.datasets.synthetic(n_users=n_users, n_items=n_items, density=0.15, trust_per_user=3, seed=seed)
    if ranking:
        r = ds.ratings.copy()
        if ranking == "counts":
            r.data[:] = np.floor(np.random.default_rng(seed).lognormal(1.5, 1.5, r.nnz)) + 1
        else:
            r.data[:] = 1.0
        ds = ds.with_ratings(r)
    return ds


def assert_params_close(a, b, rtol, atol, what=""):
    assert set(a) == set(b), f"{what}: keys differ: {sorted(a)} vs {sorted(b)}"
    for k in a:
        x, y = np.asarray(a[k], dtype=np.float64), np.asarray(b[k], dtype=np.float64)
        assert x.shape == y.shape, f"{what} {k}: shape {x.shape} != {y.shape}"
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"{what}: {k}")
