"""Shared pieces of the SGD rating models: parameter initialisation and the rating grid."""
from __future__ import annotations

import numpy as np

from .. import _engine
from .base import Model


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
        users, items, values = train.user_item_arrays()
        blocks = _engine.grid_blocks(train.n_users, train.n_items, self.factors, self._np_dtype.itemsize)
        return _engine.pack_grid(users, items, values, train.n_users, train.n_items, blocks)


def rated_mask(ratings, axis):
    """Boolean mask of users (axis=1) or items (axis=0) with at least one rating."""
    return np.asarray(ratings.getnnz(axis=axis) > 0)
