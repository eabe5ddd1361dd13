"""Reference TrustMF (Yang et al. IJCAI 2013): objective, gradient, and SGD in the engine's order
(DESIGN §4-5). Mirrors cpp/include/socialrec/models/trustmf.hpp."""
from __future__ import annotations

import numpy as np

from . import _init, sgd
from ._logistic import pair_gradient, pair_loss, pair_step
from ._penalty import penalty_weights

SPECIFIES = ("TrustMF",)

# (P, Q, observations, bias prefix): the four kinds of terms; per record the truster model steps before the
# trustee model. With ``biased`` each model's rating term has its own biases ({prefix}user_bias,
# {prefix}item_bias); the trust terms have none (prefix None).
_TERMS = (
    ("user_factors", "item_factors", "ratings", ""),
    ("trustee_user_factors", "trustee_item_factors", "ratings", "trustee_"),
    ("user_factors", "trustee_factors", "trust", None),
    ("trustee_truster_factors", "trustee_user_factors", "trust", None),
)
_PASS_IDS = {"ratings": sgd.RATING_PASS, "trust": sgd.LINK_PASS}


def initial_parameters(spec, train, rng):
    """Draws, in order (``_init.normal``), with their active rows:

    ``user_factors`` B (users who rate or trust), ``item_factors`` V (rated items), ``trustee_factors`` W
    (users trusted by someone), ``trustee_user_factors`` W' (users who rate or are trusted),
    ``trustee_item_factors`` V' (rated items), ``trustee_truster_factors`` B' (users who trust);

    then the trustee model starts where the truster model does: W' = B, V' = V, B' = W on the rows active in
    both. ``global_bias`` = ``_init.logit_offset``. With ``biased``: ``user_bias``, ``item_bias`` (the truster
    model's) and ``trustee_user_bias``, ``trustee_item_bias`` (the trustee model's) start at 0 (no draws)."""
    rated_users, rated_items = _init.has_entries(train.ratings, 1), _init.has_entries(train.ratings, 0)
    trusts, trusted = _init.has_entries(train.trust, 1), _init.has_entries(train.trust, 0)
    draws = (("user_factors", train.n_users, rated_users | trusts),
             ("item_factors", train.n_items, rated_items),
             ("trustee_factors", train.n_users, trusted),
             ("trustee_user_factors", train.n_users, rated_users | trusted),
             ("trustee_item_factors", train.n_items, rated_items),
             ("trustee_truster_factors", train.n_users, trusts))
    params = {name: _init.normal(spec, rng, rows, active) for name, rows, active in draws}
    active = {name: mask for name, _, mask in draws}
    for dst, src in (("trustee_user_factors", "user_factors"), ("trustee_item_factors", "item_factors"),
                     ("trustee_truster_factors", "trustee_factors")):
        for row in range(len(active[dst])):
            if active[dst][row] and active[src][row]:
                params[dst][row] = params[src][row]
    params["global_bias"] = _init.logit_offset(spec, train)
    params.update(_init.biases(spec, train))
    params.update(_init.biases(spec, train, prefix="trustee_"))
    return params


def trust_targets(values):
    """t_uk: each trust value divided by the largest one (binary graphs: all 1), in float64, rounded to
    float32."""
    values = [float(v) for v in values]
    top = max(values) if values else 1.0
    return np.array([v / top for v in values], dtype=np.float64).astype(np.float32)


def training_state(spec, train):
    """The rating grid with values mapped to [0, 1] (training scale) and the truster x trustee grid of the
    trust edges with targets t_uk (``sgd.trust_grid``)."""
    _, _, values = train.user_item_arrays()
    grid = sgd.rating_grid(spec, train, _init.unit_values(values, train.rating_scale))
    grid["trust_grid"] = sgd.trust_grid(spec, train, trust_targets(train.trust.data))
    return grid


def fit(spec, train):
    """Train ``spec``'s set-up with plain NumPy on ``train``; returns the parameter dict."""
    params = initial_parameters(spec, train, np.random.default_rng(spec.require_seed()))
    state = training_state(spec, train)
    grids = {"ratings": {k: state[k] for k in ("records", "offsets", "blocks")}, "trust": state["trust_grid"]}
    gamma, lam, lam_t = spec.learning_rate, spec.regularization, spec.trust_regularization
    bias = params["global_bias"]
    rows = _row_weights(spec, train)

    def both(kind):
        # data weight and offset: ratings 1 and b, edges lambda_T and 0; the penalty weight is 1
        weight, offset = (1.0, bias) if kind == "ratings" else (lam_t, 0.0)
        pairs = [(params[P], params[Q], _biases(spec, params, prefix)) for P, Q, k, prefix in _TERMS if k == kind]

        def step(a, b, y):
            for P, Q, biases in pairs:
                pair_step(P, Q, a, b, y, gamma, lam, weight, 1.0, offset, biases, rows(kind, a, b))
        return step

    for epoch in range(spec.epochs):
        for kind in ("ratings", "trust"):
            sgd.grid_pass(grids[kind], spec.seed, epoch, _PASS_IDS[kind], both(kind))
    return params


def _bias_names(spec, prefix):
    """The (user bias, item bias) parameter names of a term with bias prefix ``prefix`` (None: no biases)."""
    if prefix is None or not spec.biased:
        return None
    return f"{prefix}user_bias", f"{prefix}item_bias"


def _biases(spec, params, prefix):
    """``_logistic``'s ``biases`` argument of a term with bias prefix ``prefix``."""
    return _init.named_biases(spec, params, _bias_names(spec, prefix))


def _row_weights(spec, data):
    """rows(kind, a, b): the penalty weights of a term's two rows: regularization_scaling's (w_u, w_i) from
    ``data``'s rating counts for both models' rating terms, (1, 1) for the trust terms (their per-edge penalty)."""
    w_user, w_item = penalty_weights(spec, data)
    return lambda kind, a, b: (w_user[a], w_item[b]) if kind == "ratings" else (1.0, 1.0)


def _observations(spec, params, data):
    """Yields (P, Q, a, b, y, weight, offset, bias prefix, row weights) for every term of the objective."""
    users, items, values = data.user_item_arrays()
    r = _init.unit_values(values, spec.objective_scale(data))
    src, dst, t = data.trust_arrays()
    t = trust_targets(t)
    offset = float(params["global_bias"])
    rows = _row_weights(spec, data)
    for P, Q, kind, prefix in _TERMS:
        if kind == "ratings":
            for a, b, y in zip(users, items, r):
                yield P, Q, int(a), int(b), float(y), 1.0, offset, prefix, rows(kind, int(a), int(b))
        else:
            for a, b, y in zip(src, dst, t):
                yield P, Q, int(a), int(b), float(y), spec.trust_regularization, 0.0, prefix, (1.0, 1.0)


def loss(spec, params, data):
    total = 0.0
    for P, Q, a, b, y, w, offset, prefix, rows in _observations(spec, params, data):
        total += pair_loss(params[P], params[Q], a, b, y, spec.regularization, w, 1.0, offset,
                           _biases(spec, params, prefix), rows)
    return total


def gradient(spec, params, data):
    grad = {k: np.zeros_like(v, dtype=np.float64) for k, v in params.items() if k != "global_bias"}  # b is fixed
    for P, Q, a, b, y, w, offset, prefix, rows in _observations(spec, params, data):
        names = _bias_names(spec, prefix)
        pair_gradient(grad[P], grad[Q], params[P], params[Q], a, b, y, spec.regularization, w, 1.0, offset,
                      _biases(spec, params, prefix), names and (grad[names[0]], grad[names[1]]), rows)
    return grad
