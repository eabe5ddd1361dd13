"""Shared pieces of the SGD rating models: parameter initialisation and the rating grid."""
from __future__ import annotations

import numpy as np

from .. import _engine
from ._social import unit_values
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


def rated_mask(ratings, axis):
    """Boolean mask of users (axis=1) or items (axis=0) with at least one rating."""
    return np.asarray(ratings.getnnz(axis=axis) > 0)


class LogisticRatingModel(SGDModel):
    """Shared pieces of SoRec and SocialMF: ratings min-max mapped to [0, 1] and fitted by
    g(global_bias + U_u·V_i) (DESIGN §4), a social weight, and the optional logit(mean) offset."""

    _checks = {"social_regularization": NON_NEGATIVE, "offset": BOOL}
    _link = "logistic"

    def _rating_grid(self, train):
        """The rating grid with values min-max mapped to [0, 1] (DESIGN §4)."""
        grid = super()._rating_grid(train)
        grid["records"]["value"] = unit_values(grid["records"]["value"], train.rating_scale)
        return grid

    def _hyper(self):
        return {"factors": self.factors, "learning_rate": self.learning_rate,
                "global_bias": float(self.parameters_["global_bias"]),
                "regularization": self.regularization, "social_regularization": self.social_regularization}

    def _scoring_parts(self):
        p = self.parameters_
        return {"user_vectors": p["user_factors"], "item_vectors": p["item_factors"],
                "global_bias": float(p["global_bias"])}
