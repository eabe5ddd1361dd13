"""``PrivacyBudget``: the (ε, δ) target of a private fit, its unit of privacy and DP-SGD's settings."""
from __future__ import annotations

import math

from . import accounting

UNITS = ("rating", "user", "edge")
# Noise multiplier of the private global mean (dp_sgd.private_mean): one Gaussian release composed with the
# DP-SGD steps; at 20 it adds about 1% to epsilon at eps = 1 (RDP, q = .05, 360 steps) and less above.
MEAN_NOISE_MULTIPLIER = 20.0


class PrivacyBudgetExceeded(RuntimeError):
    """A fit would spend more than the budget's ε (``PrivacyBudget.spend``)."""


def _positive_int_or_none(value, name):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"PrivacyBudget: {name}={value!r} must be a positive integer or None")
    return value


class PrivacyBudget:
    """A differential-privacy budget for one private fit: ``model = sr.BiasedMF(privacy=budget).fit(train)``.

    Parameters
    ----------
    epsilon : float > 0 (``math.inf``: no privacy, the same mechanism without noise)
        Target ε of the whole fit.
    delta : float in (0, 1)
        Target δ; it should be well below 1 / (number of units), e.g. 1e-5.
    unit : {"rating", "user", "edge"}, default "user"
        What the guarantee protects: one rating (``"rating"``), all of one user's ratings *and* outgoing trust
        edges (``"user"``), or one trust edge (``"edge"``). Every result reports it (``model.privacy_``).
    clip_norm : float > 0, default 1.0
        ``C``: each unit's contribution to the released parameters is clipped to this L2 norm.
    sampling_rate : float in (0, 1], default 0.05
        ``q``: each DP-SGD step includes each unit independently with this probability (Poisson sampling); an
        epoch is ``ceil(1 / q)`` steps.
    max_ratings, max_edges : int or None, default 128 and 64
        Contribution bounding (``socialrec.privacy.bound_contributions``): at most this many ratings and
        outgoing trust edges per user are kept, chosen at random with the model's seed. ``None``: no bound.
        The guarantee holds through clipping either way; the bound keeps heavy users' steps stable and
        their clipped contributions informative.
    accountant : {"rdp", "pld"}, default "rdp"
        ``dp-accounting``'s Rényi-DP accountant or its privacy-loss-distribution accountant.

    A budget is spent by the fits that use it: :meth:`spend` composes each fit's mechanism with what was spent
    before and refuses (``PrivacyBudgetExceeded``) a fit that would take ε past ``epsilon``, so a budget
    object cannot be trained on twice by accident. Give each independent experiment its own budget.
    """

    def __init__(self, epsilon, delta, unit="user", *, clip_norm=1.0, sampling_rate=0.05, max_ratings=128,
                 max_edges=64, accountant="rdp"):
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not epsilon > 0:
            raise ValueError(f"PrivacyBudget: epsilon={epsilon!r} must be a number > 0 (math.inf: no privacy)")
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not 0 < delta < 1:
            raise ValueError(f"PrivacyBudget: delta={delta!r} must be a number in (0, 1), e.g. 1e-5")
        if unit not in UNITS:
            raise ValueError(f"PrivacyBudget: unit={unit!r} must be one of {UNITS}")
        if not (isinstance(clip_norm, (int, float)) and clip_norm > 0):
            raise ValueError(f"PrivacyBudget: clip_norm={clip_norm!r} must be a number > 0")
        if not (isinstance(sampling_rate, (int, float)) and 0 < sampling_rate <= 1):
            raise ValueError(f"PrivacyBudget: sampling_rate={sampling_rate!r} must be in (0, 1]")
        if accountant not in accounting.ACCOUNTANTS:
            raise ValueError(f"PrivacyBudget: accountant={accountant!r} must be one of {accounting.ACCOUNTANTS}")
        self.epsilon, self.delta, self.unit = float(epsilon), float(delta), unit
        self.clip_norm, self.sampling_rate = float(clip_norm), float(sampling_rate)
        self.max_ratings = _positive_int_or_none(max_ratings, "max_ratings")
        self.max_edges = _positive_int_or_none(max_edges, "max_edges")
        self.accountant = accountant
        self.spent = []  # (sampling_rate, noise_multiplier, steps, release noise) of each fit charged to it

    def __repr__(self):
        return (f"PrivacyBudget(epsilon={self.epsilon!r}, delta={self.delta!r}, unit={self.unit!r}, "
                f"clip_norm={self.clip_norm!r}, sampling_rate={self.sampling_rate!r})")

    def __eq__(self, other):
        return isinstance(other, PrivacyBudget) and self._key() == other._key()

    # One budget is one record of what was spent: a copy (sklearn.clone, copy.deepcopy of a model) shares it,
    # so copies of a model cannot each spend a fresh budget; their second fit is refused like any other.
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __hash__(self):  # without what was spent, which changes
        return hash(self._key()[:-1])

    def _key(self):
        return (self.epsilon, self.delta, self.unit, self.clip_norm, self.sampling_rate, self.max_ratings,
                self.max_edges, self.accountant, tuple(self.spent))

    @property
    def private(self):
        """False for ``epsilon=inf`` (the mechanism runs without noise)."""
        return math.isfinite(self.epsilon)

    @property
    def mean_noise_multiplier(self):
        """Noise multiplier of the private global mean: ``MEAN_NOISE_MULTIPLIER``, 0 for ``epsilon=inf``."""
        return MEAN_NOISE_MULTIPLIER if self.private else 0.0

    def noise_multiplier(self, steps):
        """σ that spends the whole budget in ``steps`` steps at ``sampling_rate`` (cached calibration); 0 for
        ``epsilon=inf``. Only a fresh budget can be calibrated (what was spent is not split)."""
        if self.spent:
            raise PrivacyBudgetExceeded(f"{self!r} was already spent by an earlier fit; create a new budget")
        floor = self.mean_epsilon()
        if self.epsilon <= floor:
            raise ValueError(f"PrivacyBudget: epsilon={self.epsilon:g} is not above what the private global mean "
                             f"alone costs (epsilon={floor:.4g} at delta={self.delta:g}, its noise multiplier "
                             f"{self.mean_noise_multiplier:g}), so no DP-SGD noise can meet it: raise epsilon "
                             f"(or delta)")
        return accounting.calibrate_noise_multiplier(self.epsilon, self.delta, self.sampling_rate, int(steps),
                                                     self.accountant, release_noise=self.mean_noise_multiplier)

    def mean_epsilon(self):
        """ε of the private mean's release alone (one Gaussian mechanism, ``mean_noise_multiplier``) at
        ``delta``: the least any private fit spends; 0 for ``epsilon=inf``."""
        if not self.private:
            return 0.0
        acc = accounting.make_accountant(self.accountant)
        with accounting.quiet():
            acc.compose(accounting._dp_accounting().GaussianDpEvent(self.mean_noise_multiplier))
            return float(acc.get_epsilon(self.delta))

    def spent_epsilon(self, extra=()):
        """ε of every fit charged so far (plus ``extra`` (q, σ, steps, release noise) tuples), composed."""
        runs = list(self.spent) + list(extra)
        if not runs:
            return 0.0
        if any(sigma <= 0 and steps > 0 for _, sigma, steps, _ in runs):
            return math.inf
        acc = accounting.make_accountant(self.accountant)
        with accounting.quiet():
            for q, sigma, steps, release in runs:
                if steps > 0:
                    acc.compose(accounting.dp_sgd_event(q, sigma, steps, release))
            return float(acc.get_epsilon(self.delta))

    def spend(self, sampling_rate, noise_multiplier, steps, release_noise=None):
        """Charge one fit's mechanism; raises ``PrivacyBudgetExceeded`` (nothing charged) when the composed ε
        would pass ``epsilon`` (beyond the calibration's 0.1% tolerance). Returns the ε spent in all.
        ``release_noise``: the noise multiplier of the fit's one extra release (None: the private mean's,
        ``mean_noise_multiplier``; 0: none, as private ALS)."""
        release = self.mean_noise_multiplier if release_noise is None else release_noise
        run = (sampling_rate, noise_multiplier, steps, release)
        if not self.private:
            self.spent.append(run)
            return math.inf
        total = self.spent_epsilon([run])
        if total > self.epsilon * (1 + 1e-3):
            raise PrivacyBudgetExceeded(f"training {steps} steps at q={sampling_rate:g}, sigma={noise_multiplier:g} "
                                        f"would spend epsilon={total:.4g} > the budget's {self.epsilon:g} "
                                        f"(delta={self.delta:g}, unit={self.unit!r}); nothing was trained")
        self.spent.append(run)
        return total

    def report(self, noise_multiplier, steps, spent_epsilon):
        """The ``model.privacy_`` dict of a fit."""
        return {"epsilon": spent_epsilon, "target_epsilon": self.epsilon, "delta": self.delta, "unit": self.unit,
                "accountant": self.accountant, "noise_multiplier": noise_multiplier,
                "sampling_rate": self.sampling_rate, "steps": int(steps), "clip_norm": self.clip_norm,
                "mean_noise_multiplier": self.mean_noise_multiplier,
                "max_ratings": self.max_ratings, "max_edges": self.max_edges}
