"""Reference SBPR: BPR's reference with the social quadruples switched on (see reference/bpr.py)."""
from __future__ import annotations

from . import bpr


def fit(model, train):
    """Train a copy of ``model``'s set-up with plain NumPy; returns the parameter dict."""
    return bpr.fit(model, train, social=True)


def loss(model, params, data):
    return bpr.objective(model, params, data, social=True)[0]


def gradient(model, params, data):
    return bpr.objective(model, params, data, social=True)[1]
