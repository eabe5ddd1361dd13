"""Shared pieces of the SGD rating models: parameter initialisation and the rating grid."""
from __future__ import annotations

import numpy as np

from .. import _engine
from .._arrays import inverse_sqrt
from ._social import unit_values_in_place
from .base import BOOL, NON_NEGATIVE, Model


class SGDModel(Model):
    """Base of the models trained by stochastic gradient descent on the shared C++ engine."""

    _params = {"factors": 10, "epochs": 20, "learning_rate": 0.01, "regularization": 0.02, "init_std": 0.1}

    def _normal(self, rng, shape, active=None):
        """N(0, init_std^2) draws (always drawn, so the stream does not depend on the data); rows that
        ``active`` marks False (no observations) are zero, so they predict from the biases alone."""
        x = rng.normal(0.0, self.init_std, size=shape).astype(self._np_dtype)
        if active is not None:
            x[~active] = 0
        return x

    def _rating_grid(self, train):
        r = train.ratings
        blocks = _engine.grid_blocks(train.n_users, train.n_items, self.factors, self._np_dtype.itemsize)
        return _engine.pack_grid_csr(r.indptr, r.indices, r.data, train.n_items, blocks, self.num_threads)


# regularization_scaling: how a row's L2 penalty is spread over the ratings that carry it (issue 15)
SCALINGS = ("occurrence", "sqrt_count", "count")


def penalty_weights(counts, scaling):
    """The per-rating weight of a row's penalty for ``regularization_scaling=scaling``, float64, from the row's
    training count ``c`` (``|I_u|`` for a user, ``|U_i|`` for an item): ``"occurrence"`` 1 (every rating carries
    ``λ``, so the row's penalty totals ``λ c``), ``"sqrt_count"`` ``c^-½`` (total ``λ √c``: TrustSVD's weighted
    λ, Guo et al. AAAI 2015 eq. 6, carried by the ratings as LibRec does), ``"count"`` ``1/c`` (total ``λ``: one
    penalty per parameter); 0 where ``c`` is 0 (no rating carries it)."""
    counts = np.asarray(counts).astype(np.float64)
    if scaling == "occurrence":
        return np.ones_like(counts)
    if scaling == "sqrt_count":
        return inverse_sqrt(counts)
    return np.where(counts > 0, 1.0 / np.maximum(counts, 1.0), 0.0)


def rated_mask(ratings, axis):
    """Boolean mask of users (axis=1) or items (axis=0) with at least one rating."""
    return np.asarray(ratings.getnnz(axis=axis) > 0)


def zero_biases(model, train, prefix=""):
    """``{prefix}user_bias`` and ``{prefix}item_bias``: zeros of the model's dtype, one per user and item (the
    biases of the logistic-link models' ``biased=True``; no random draws, so the factors' draws are unchanged)."""
    return {f"{prefix}user_bias": np.zeros(train.n_users, model._np_dtype),
            f"{prefix}item_bias": np.zeros(train.n_items, model._np_dtype)}


def factor_scoring_parts(model):
    """``_scoring_parts`` of a model scored by b + (b_u + b_i) + U_u·V_i, the biases only with ``biased``
    (SoRec, SocialMF, SoReg)."""
    p = model.parameters_
    parts = {"user_vectors": p["user_factors"], "item_vectors": p["item_factors"],
             "global_bias": float(p["global_bias"])}
    if model.biased:
        parts.update(user_bias=p["user_bias"], item_bias=p["item_bias"])
    return parts


class LogisticBiasMixin:
    """``biased`` for the logistic-link models (SoRec, SocialMF, TrustMF): user and item biases inside the
    link, g(b + b_u + b_i + ...), on the CPU and on CUDA (cuda/models/logistic_pair.hpp)."""

    _checks = {"biased": BOOL, "bias_regularization": NON_NEGATIVE}
    _fitted_params: tuple = SGDModel._fitted_params + ("biased",)  # the bias arrays exist only with biased=True

    def _bias_hyper(self):
        """The hyper dict entries of the bias terms (the kernels read the biases only when ``biased``)."""
        return {"biased": bool(self.biased), "bias_regularization": self.bias_regularization}


class LogisticRatingModel(LogisticBiasMixin, SGDModel):
    """Shared pieces of SoRec and SocialMF: ratings min-max mapped to [0, 1] and fitted by
    g(global_bias + b_u + b_i + U_u·V_i) (DESIGN §4; the biases with ``biased=True``), a social weight, and
    the optional logit(mean) offset."""

    _checks = {"social_regularization": NON_NEGATIVE, "offset": BOOL}
    _link = "logistic"
    _PARAMETERS: tuple = ("user_factors", "item_factors", "global_bias")
    _BIAS_PARAMETERS = ("user_bias", "item_bias")

    def _init_biases(self, train):
        """The bias parameters (zeros) when ``biased``, else none."""
        return zero_biases(self, train) if self.biased else {}

    def _rating_grid(self, train):
        """The rating grid with values min-max mapped to [0, 1] (DESIGN §4), in place."""
        grid = super()._rating_grid(train)
        unit_values_in_place(grid["records"]["value"], train.rating_scale)
        return grid

    def _hyper(self):
        return {"factors": self.factors, "learning_rate": self.learning_rate,
                "global_bias": float(self.parameters_["global_bias"]),
                "regularization": self.regularization, "social_regularization": self.social_regularization,
                **self._bias_hyper()}

    _scoring_parts = factor_scoring_parts

    def _rating_logits(self, p, users, items):
        """x_ui = b + (b_u + b_i) + U_u·V_i of each rating (float64 parameters ``p``), the biases with
        ``biased``."""
        x = float(p["global_bias"]) + np.einsum("ij,ij->i", p["user_factors"][users], p["item_factors"][items])
        if self.biased:
            x = x + (p["user_bias"][users] + p["item_bias"][items])
        return x

    def _bias_penalty(self, p, users, items):
        """Σ ½ λ_b (b_u² + b_i²) over the ratings (0 without ``biased``)."""
        if not self.biased:
            return 0.0
        bu, bi = p["user_bias"][users], p["item_bias"][items]
        return 0.5 * self.bias_regularization * (np.sum(bu * bu) + np.sum(bi * bi))
