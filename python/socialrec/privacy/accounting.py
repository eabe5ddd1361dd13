"""Privacy accounting of DP-SGD through Google's ``dp-accounting`` (optional extra ``socialrec[privacy]``).

One DP-SGD run is ``steps`` compositions of the Poisson-subsampled Gaussian mechanism: every step includes
each unit (a rating, a user or a trust edge) independently with probability ``q`` and adds Gaussian noise of
standard deviation ``noise_multiplier * clip_norm`` to the sum of the clipped contributions (Abadi et al.,
"Deep learning with differential privacy", CCS 2016). ``dp-accounting`` composes that event with Rényi DP
(Mironov, "Rényi differential privacy of the sampled Gaussian mechanism", 2019) or with privacy loss
distributions (PLD; Koskela et al. 2020, Doroshenko et al. 2022), and converts to (ε, δ).

:func:`calibrate_noise_multiplier` finds the smallest noise multiplier whose ε is at most the target by
bisection; it is cached, so a fit computes it once (never per epoch), and a grid of models with the same
(ε, δ, q, steps) shares one calibration.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import math

ACCOUNTANTS = ("rdp", "pld")


def _dp_accounting():
    """The ``dp_accounting`` module, imported on first use."""
    try:
        import dp_accounting
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("socialrec.privacy needs the dp-accounting package: pip install 'socialrec[privacy]' "
                          "(or pip install dp-accounting)") from exc
    return dp_accounting


@contextlib.contextmanager
def quiet():
    """dp-accounting logs a warning (through absl) for every Rényi order whose series does not converge
    and that it leaves out; the result is still a valid bound, so those warnings are silenced here."""
    log = logging.getLogger("absl")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def dp_sgd_event(sampling_rate, noise_multiplier, steps, release_noise=0.0):
    """The ``dp_accounting.DpEvent`` of ``steps`` Poisson-sampled Gaussian steps, composed with one Gaussian
    release of noise multiplier ``release_noise`` on the full data (the private global mean) when it is > 0."""
    dpa = _dp_accounting()
    event = dpa.SelfComposedDpEvent(dpa.PoissonSampledDpEvent(sampling_rate, dpa.GaussianDpEvent(noise_multiplier)),
                                    int(steps))
    return dpa.ComposedDpEvent([event, dpa.GaussianDpEvent(release_noise)]) if release_noise > 0 else event


def make_accountant(accountant):
    dpa = _dp_accounting()
    if accountant == "rdp":
        return dpa.rdp.RdpAccountant()
    if accountant == "pld":
        return dpa.pld.PLDAccountant()
    raise ValueError(f"accountant={accountant!r} must be one of {ACCOUNTANTS}")


def epsilon(sampling_rate, noise_multiplier, steps, delta, accountant="rdp", release_noise=0.0):
    """ε of ``steps`` DP-SGD steps (and the release of ``dp_sgd_event``) at ``delta`` (``inf`` without noise).

    Parameters
    ----------
    sampling_rate : float in (0, 1]
        ``q``, the probability that a step includes a unit.
    noise_multiplier : float >= 0
        ``σ``: the noise's standard deviation over the clipping norm.
    steps : int >= 0
    delta : float in (0, 1)
    accountant : {"rdp", "pld"}
    release_noise : float >= 0
        Noise multiplier of one extra Gaussian release on the whole data (0: none).

    Returns
    -------
    float
    """
    if steps == 0:
        return 0.0
    if noise_multiplier <= 0:
        return math.inf
    acc = make_accountant(accountant)
    with quiet():
        acc.compose(dp_sgd_event(float(sampling_rate), float(noise_multiplier), int(steps), float(release_noise)))
        return float(acc.get_epsilon(float(delta)))


@functools.lru_cache(maxsize=256)
def calibrate_noise_multiplier(target_epsilon, delta, sampling_rate, steps, accountant="rdp", tolerance=1e-3,
                               release_noise=0.0):
    """The smallest noise multiplier σ (to a relative ``tolerance``) with ``epsilon(q, σ, steps, δ) <= target``.

    Bisection on σ: ε falls as σ grows, so the bracket [lo, hi] keeps ε(lo) > target >= ε(hi); ``hi`` starts
    at 1 and doubles until it satisfies the target. Cached (``functools.lru_cache``) on all arguments.
    """
    if not math.isfinite(target_epsilon):
        return 0.0
    def over(sigma):
        return epsilon(sampling_rate, sigma, steps, delta, accountant, release_noise) > target_epsilon
    lo, hi = 0.0, 1.0
    while over(hi):
        lo, hi = hi, 2.0 * hi
        if hi > 1e6:
            raise ValueError(f"no noise multiplier below 1e6 reaches epsilon={target_epsilon} with q={sampling_rate}"
                             f" over {steps} steps; raise epsilon or lower the sampling rate or the steps")
    while hi - lo > tolerance * hi:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if over(mid) else (lo, mid)
    return hi
