"""Private training of ALS and SocialALS (``privacy=PrivacyBudget(...)``): the hooks ``fit`` calls for it.

The mechanism is ``socialrec.privacy.dp_als`` (spec: ``socialrec.reference.dp_als``): each epoch the user
rows are solved on the users' side from the released item factors (the C++ row solve,
``_core.als_block_solve``), then the item factors are released from noisy sufficient statistics.

SocialALS: the statistics read each user's *local* factor (the WRMF solve from the released items and the
user's own data, without the graph), never the graph-coupled one, so a friend's data never reaches another
user's contribution and the released items keep ALS's guarantee. The graph shapes the user-side factors only:
``x_u`` solves SocialALS's user equations with the friends' local factors as the neighbours. Those stay on
the users' side and are not covered by the guarantee (a friend's local factor is a function of the friend's
data): docs/PRIVACY.md.
"""
from __future__ import annotations

import numpy as np

from .. import _core
from ..privacy import dp_als
from ._private import unreleased_loss


class PrivateALSMixin:
    """``_private_prepare`` / ``_private_epoch`` for ALS's ``_prepare`` / ``_run_epoch``."""

    def _private_prepare(self, train, csr_arrays):
        """Bounds the data, calibrates the noise and charges the budget (before any step); ``csr_arrays`` is
        models.als.csr_arrays (passed in: this module is imported by als.py)."""
        dp_als.refuse_model_settings(self)
        bounded = dp_als.bounded(self.privacy, train, self.seed_)
        engine = dp_als.DPALS(self.privacy, bounded, self.epochs, self.seed_, self.alpha, self.regularization,
                              self._weighted(bounded.ratings))
        self.privacy_ = engine.report
        state = {"dp": engine, "train": bounded, "rows": csr_arrays(engine.weights, "rows"),
                 "hyper": {**self._hyper(), "want_loss": False, "social_regularization": 0.0}}
        beta = float(getattr(self, "social_regularization", 0.0))
        if beta != 0.0:  # SocialALS: the local factors the statistics read, apart from the graph-coupled ones
            state["local"] = self.parameters_["user_factors"].copy()
            state["similarity"] = csr_arrays(self._similarity(bounded.trust), "similarity")
            state["beta"] = beta
        return state

    def _private_epoch(self, state, settings):
        X, Y = self.parameters_["user_factors"], self.parameters_["item_factors"]
        local = state.get("local", X)
        gramian = np.ascontiguousarray(Y.T @ Y)
        arrays = {**state["rows"], "fixed_factors": Y, "gramian": gramian}
        _core.als_block_solve({**arrays, "block_factors": local}, state["hyper"], settings)
        if "local" in state:  # SocialALS's user equations, the friends' local factors as neighbours
            hyper = {**state["hyper"], "social_regularization": state["beta"]}
            _core.als_block_solve({**arrays, **state["similarity"], "block_factors": X, "neighbours": local},
                                  hyper, settings)
        Y[...] = state["dp"].item_step(local, self.factors).astype(Y.dtype)
        return unreleased_loss(self.parameters_)
