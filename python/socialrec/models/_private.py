"""Private training of an SGD model (``privacy=PrivacyBudget(...)``): the hooks ``fit`` calls for it.

A model that supports DP-SGD names its released arrays (``_dp_released``: rows indexed by item, and those in
``_dp_released_by_user`` by user), its
user-side arrays (``_dp_private``: rows indexed by user) and gives per-rating gradients of its objective's
terms (``_dp_gradients``); the mechanism is ``socialrec.privacy.dp_sgd`` (spec: ``socialrec.reference.
dp_biased_mf``). The fit's ``privacy_`` dict reports ε, δ, the unit, the accountant, the noise multiplier,
the sampling rate and the steps.
"""
from __future__ import annotations

import numpy as np

from ..privacy import dp_sgd
from ..privacy.budget import PrivacyBudget


def is_budget(value):
    """The ``privacy`` hyper-parameter's rule: None or a ``PrivacyBudget``."""
    return value is None or isinstance(value, PrivacyBudget)


def unreleased_loss(parameters):
    """What a private epoch reports as its loss: the training loss is a statistic of the private data outside
    the accountant, so it is not released (``None``: history records no loss); a blow-up of the parameters
    still shows as nan, for the divergence check."""
    return None if all(np.isfinite(v).all() for v in parameters.values()) else float("nan")


class PrivateMixin:
    """``_private_prepare`` / ``_private_epoch`` for a model's ``_prepare`` / ``_run_epoch``."""

    _dp_released: tuple = ("item_factors", "item_bias")
    _dp_private: tuple = ("user_factors", "user_bias")
    # released arrays whose rows are users (SoRec's link factors): their noise is drawn after the items' noise,
    # in this order (privacy.dp_sgd.DPSGD.draws); the numpy_step handles item-indexed arrays only
    _dp_released_by_user: tuple = ()
    _dp_units = ("user",)  # the units the model's DP-SGD supports (the driver refuses the rest)
    # why the other units are refused (docs/PRIVACY.md): BiasedMF's, and every model's with user-side rows
    _dp_unit_refusal = ("one rating (u, i) moves p_u, which the user's other ratings read in their released "
                        "gradients, so per-rating clipping bounds only the rating's direct contribution; the "
                        "guarantee that holds is the user-level one, which also protects each of the user's "
                        "ratings (use unit='user')")

    def _private_prepare(self, train):
        """Bounds the data, calibrates the noise and charges the budget (before any step)."""
        if self.privacy.unit not in self._dp_units:
            raise ValueError(f"{type(self).__name__}(privacy=...): unit={self.privacy.unit!r} is not supported, "
                             f"only {self._dp_units}: {self._dp_unit_refusal}")
        bounded = dp_sgd.bounded(self.privacy, train, self.seed_)
        engine = dp_sgd.DPSGD(self.privacy, bounded, self.epochs, self.seed_)
        self.privacy_ = engine.report
        if "global_bias" in self.parameters_:  # the data's mean is not public: its private release
            self.parameters_["global_bias"][...] = dp_sgd.private_mean(bounded, self.seed_,
                                                                       self.privacy.mean_noise_multiplier)
        return {"dp": engine, "train": bounded}

    def _private_epoch(self, state, settings):
        engine = state["dp"]
        by_user = [n for n in self._dp_released_by_user if n in self.parameters_]
        names = [n for n in self._dp_released if n in self.parameters_ and n not in by_user]
        private = [n for n in self._dp_private if n in self.parameters_]
        columns = sum(1 if self.parameters_[n].ndim == 1 else self.parameters_[n].shape[1] for n in names)
        step = self._dp_step(engine, names, private)
        engine.run_epoch(self.parameters_, step, columns, self.epoch_learning_rate(settings["epoch"]),
                         [self.parameters_[n].shape for n in by_user])
        self.privacy_["steps_taken"] = engine.steps_done  # after a finished epoch (a callback may stop the fit)
        return unreleased_loss(self.parameters_)

    def _dp_step(self, engine, released, private):
        """The step ``run_epoch`` calls: the NumPy step over ``_dp_gradients`` (a model with a C++ step
        overrides this)."""
        return lambda params, sampled, noise, rate: engine.numpy_step(params, sampled, noise, rate,
                                                                      self._dp_gradients, released, private)

    def _dp_item_rows(self, rated):
        """Every item row active under privacy (whether an item has raters is data), else ``rated``."""
        return np.ones_like(rated) if self.privacy is not None else rated
