"""Reference SBPR: BPR's reference with the social quadruples switched on (see reference/bpr.py)."""
from __future__ import annotations

from . import bpr

SPECIFIES = ("SBPR",)


def fit(spec, train):
    """Train ``spec``'s set-up with plain NumPy on ``train`` (BPR's initial draws, ``bpr.initial_parameters``);
    returns the parameter dict."""
    return bpr.fit(spec, train, social=True)


def loss(spec, params, data):
    return bpr.objective(spec, params, data, social=True)[0]


def gradient(spec, params, data):
    return bpr.objective(spec, params, data, social=True)[1]
