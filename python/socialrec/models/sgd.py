"""Shared pieces of the SGD rating models: parameter initialisation and the rating grid."""
from __future__ import annotations

from typing import Any, Dict

import numpy as np

from .. import _engine
from .._arrays import inverse_sqrt
from ._social import unit_values_in_place
from .base import BOOL, NON_NEGATIVE, Check, Model


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


# How far a weighted form moves the penalties' search ranges: a rating carries only c^-½ (1/c) of λ, so the same
# shrinkage takes a larger λ; on Epinions tuned BiasedMF's λ moved from .14 ("occurrence") to 5.7 ("sqrt_count"),
# about 40x (bench/README.md, "Penalty scaling").
PENALTY_RANGE_FACTORS = {"by": "regularization_scaling", "sqrt_count": 30.0, "count": 100.0}


def with_penalty_scaling(space):
    """A default search space (``sr.tune``) with ``regularization_scaling`` searched over "occurrence" and
    "sqrt_count", the ranges of ``regularization`` and ``bias_regularization`` moving with it (30x for
    "sqrt_count", 100x for "count" when that is fixed; ``tuning.resolve_search_space``): one flat range wide
    enough for both cost BiasedMF .0022 validation RMSE on Epinions in 20 trials (1.0367 against 1.0345 with
    the moving ranges; bench/README.md). "count" is
    not searched by default (it did not pay on Epinions within 20 trials: TPE kept λ_b far below its optimum)."""
    out = dict(space)
    for name in ("regularization", "bias_regularization"):
        kind, low, high = out[name]
        out[name] = (kind, low, high, PENALTY_RANGE_FACTORS)
    out["regularization_scaling"] = ("choice", ["occurrence", "sqrt_count"])
    return out


class PenaltyScalingMixin:
    """``regularization_scaling`` (issue 15) for the SGD rating models: how the L2 penalties of a rating term's
    user and item rows (factors and biases) are spread over the ratings, each rating carrying ``λ w_u`` on
    ``u``'s row and ``λ w_i`` on ``i``'s with the weights of ``penalty_weights`` from the training counts
    ``|I_u|``, ``|U_i|``. The social terms keep their own penalties (each model's docstring says how). CPU
    only: CUDA refuses a weighted setting (``device="auto"`` then trains on the CPU)."""

    _params: Dict[str, Any] = {"regularization_scaling": "occurrence"}
    _checks: Dict[str, Check] = {"regularization_scaling": (lambda v: v in SCALINGS, "'occurrence', 'sqrt_count' or 'count'")}

    @property
    def _weighted(self):
        return self.regularization_scaling != "occurrence"

    def _scaling_hyper(self):
        """The hyper dict entry of the weights (the kernels read ``user_weight``/``item_weight`` only then)."""
        return {"weighted": self._weighted}

    def _cuda_training_unsupported(self):
        if self._weighted:
            return f"regularization_scaling={self.regularization_scaling!r}"
        parent = getattr(super(), "_cuda_training_unsupported", None)
        return parent() if parent is not None else None

    def _penalty_weights(self, data):
        """``{"user_weight", "item_weight"}``: the per-rating penalty weights of ``regularization_scaling`` from
        ``data``'s counts ``|I_u|``, ``|U_i|`` (float64)."""
        return {"user_weight": penalty_weights(data.ratings.getnnz(axis=1), self.regularization_scaling),
                "item_weight": penalty_weights(data.ratings.getnnz(axis=0), self.regularization_scaling)}

    def _weight_arrays(self, train):
        """The kernels' extra arrays: the weights when weighted, else none (the kernels read them only then)."""
        return self._penalty_weights(train) if self._weighted else {}

    def _rating_penalty(self, data, users, items, P, Q, biases=None):
        """``Σ ½ λ (w_u ‖P_u‖² + w_i ‖Q_i‖²) [+ ½ λ_b (w_u b_u² + w_i b_i²)]`` over the ratings (users, items) of
        ``data`` in float64; ``P``, ``Q`` the full float64 factor matrices, ``biases`` = (b_user, b_item) or
        None."""
        w = self._penalty_weights(data)
        wu, wi = w["user_weight"][users], w["item_weight"][items]
        Pu, Qi = P[users], Q[items]
        total = 0.5 * self.regularization * (np.sum(wu * np.einsum("ij,ij->i", Pu, Pu))
                                             + np.sum(wi * np.einsum("ij,ij->i", Qi, Qi)))
        if biases is not None:
            bu, bi = biases[0][users], biases[1][items]
            total += 0.5 * self.bias_regularization * (np.sum(wu * bu * bu) + np.sum(wi * bi * bi))
        return total


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

    _checks: Dict[str, Check] = {"biased": BOOL, "bias_regularization": NON_NEGATIVE}
    _fitted_params: tuple = SGDModel._fitted_params + ("biased",)  # the bias arrays exist only with biased=True

    def _bias_hyper(self):
        """The hyper dict entries of the bias terms (the kernels read the biases only when ``biased``)."""
        return {"biased": bool(self.biased), "bias_regularization": self.bias_regularization}


class LogisticRatingModel(PenaltyScalingMixin, LogisticBiasMixin, SGDModel):
    """Shared pieces of SoRec and SocialMF: ratings min-max mapped to [0, 1] and fitted by
    g(global_bias + b_u + b_i + U_u·V_i) (DESIGN §4; the biases with ``biased=True``), a social weight, the
    optional logit(mean) offset, and ``regularization_scaling`` on the rating term (``PenaltyScalingMixin``)."""

    _checks: Dict[str, Check] = {"social_regularization": NON_NEGATIVE, "offset": BOOL}
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
                **self._bias_hyper(), **self._scaling_hyper()}

    _scoring_parts = factor_scoring_parts

    def _rating_logits(self, p, users, items):
        """x_ui = b + (b_u + b_i) + U_u·V_i of each rating (float64 parameters ``p``), the biases with
        ``biased``."""
        x = float(p["global_bias"]) + np.einsum("ij,ij->i", p["user_factors"][users], p["item_factors"][items])
        if self.biased:
            x = x + (p["user_bias"][users] + p["item_bias"][items])
        return x

    def _rating_term_penalty(self, p, data, users, items):
        """The rating term's penalties at the float64 parameters ``p`` (``_rating_penalty``, the biases with
        ``biased``)."""
        biases = (p["user_bias"], p["item_bias"]) if self.biased else None
        return self._rating_penalty(data, users, items, p["user_factors"], p["item_factors"], biases)
