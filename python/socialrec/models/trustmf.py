"""TrustMF: truster and trustee models of social collaborative filtering by trust."""
from __future__ import annotations

import numpy as np

from .. import _core, _gpu
from . import device
from .base import NON_NEGATIVE, register
from ._explain import bias_parts, csr_row, host64, link_shares, pull_parts
from ._follow import fitted_trust
from .device import DeviceMixin
from .sgd import (LogisticBiasMixin, PenaltyScalingMixin, SGDModel, penalty_weights, rated_mask,
                  with_penalty_scaling, zero_biases)
from ._social import logit_offset, objective_scale, trust_grid, unit_values

# parameter name -> (rows: "users" or "items", what makes a row active)
_MATRICES = (
    ("user_factors", "B: the truster model's user vectors (rating and trust passes)"),
    ("item_factors", "V: the truster model's item vectors"),
    ("trustee_factors", "W: the truster model's trustee vectors"),
    ("trustee_user_factors", "W': the trustee model's user vectors (rating and trust passes)"),
    ("trustee_item_factors", "V': the trustee model's item vectors"),
    ("trustee_truster_factors", "B': the trustee model's truster vectors"),
)


@register
class TrustMF(DeviceMixin, PenaltyScalingMixin, LogisticBiasMixin, SGDModel):
    """TrustMF: users are embedded twice, as trusters and as trustees, and each embedding is fitted to
    both the ratings and the trust graph (Yang, Lei, Liu, Liu, "Social collaborative filtering by trust",
    IJCAI 2013; extended in IEEE TPAMI 2017).

    Ratings are mapped to [0, 1] (``r̃ = (r − r_min)/(r_max − r_min)``); trust values ``t_uk`` are the stored
    values divided by the largest one (1 for a binary graph; the values must be non-negative, the largest
    positive). Two models::

        truster model (B, V, W):    r̃_ui ≈ g(B_u·V_i),      t_uk ≈ g(B_u·W_k)
        trustee model (W', V', B'): r̃_ki ≈ g(W'_k·V'_i),    t_uk ≈ g(B'_u·W'_k)

    Objective (DESIGN §4), a sum over observations, each with the L2 penalty of the two rows it touches::

        rating (u, i), truster model:   ½ (r̃_ui − g(B_u·V_i))²   + ½ λ (‖B_u‖² + ‖V_i‖²)
        edge u→k, truster model:        ½ λ_T (t_uk − g(B_u·W_k))² + ½ λ (‖B_u‖² + ‖W_k‖²)
        rating (k, i), trustee model:   ½ (r̃_ki − g(W'_k·V'_i))² + ½ λ (‖W'_k‖² + ‖V'_i‖²)
        edge u→k, trustee model:        ½ λ_T (t_uk − g(B'_u·W'_k))² + ½ λ (‖B'_u‖² + ‖W'_k‖²)

    Summed over observations each row is penalised once per observation it takes part in: the paper's
    weighted-λ regularisation. Prediction combines the two models (DESIGN §4)::

        r̂_ui = r_min + g(b + ((B_u + W'_u)/2)·((V_i + V'_i)/2)) (r_max − r_min)

    ``b = logit(mean r̃)`` is a fixed offset (``global_bias``), also inside ``g`` in both rating terms
    above (not in the trust terms). It is our addition (the paper has b = 0) so that users and items
    without training ratings predict the mean rating rather than the middle of the scale.

    Biases (``biased=True``, the default; ``False`` gives the model above). Each model gets its own user and
    item biases inside the link of its rating term: the truster model ``c_u``, ``c_i`` (``user_bias``,
    ``item_bias``), the trustee model ``c'_k``, ``c'_i`` (``trustee_user_bias``, ``trustee_item_bias``)::

        rating (u, i), truster model:   ½ (r̃_ui − g(b + c_u + c_i + B_u·V_i))²    + ½ λ (…) + ½ λ_b (c_u² + c_i²)
        rating (k, i), trustee model:   ½ (r̃_ki − g(b + c'_k + c'_i + W'_k·V'_i))² + ½ λ (…) + ½ λ_b (c'_k² + c'_i²)

    (the trust terms have no biases), and the prediction averages the two models' biases as it averages
    their vectors::

        r̂_ui = r_min + g(b + (c_u + c'_u)/2 + (c_i + c'_i)/2 + ((B_u + W'_u)/2)·((V_i + V'_i)/2)) (r_max − r_min)

    Gradient of a rating's term, ``x`` its logit, ``e = r̃ − g(x)``, ``g'(x) = g(x)(1 − g(x))``:
    ``∂/∂B_u = −e g'(x) V_i + λ B_u`` (the other rows alike), ``∂/∂c_u = −e g'(x) + λ_b c_u`` (every bias
    alike). The biases are those of Koren, Bell, Volinsky ("Matrix factorization techniques for recommender
    systems", IEEE Computer 2009, eq. 5), inside the logistic link as in SoRec and SocialMF here: in a
    prototype on FilmTrust's 80/20 split (validation carved from training) a logistic model with biases inside
    the link reached validation RMSE .8185 with a trust term (.8226 without), biases added outside the link
    .8211, BiasedMF .8211.

    Training: each epoch runs a rating pass (each rating steps the truster model, then the trustee model)
    and a trust pass (each edge likewise). A rating moves rows ``u`` of B, W' and ``i`` of V, V'; an edge
    moves rows ``u`` of B, B' and ``k`` of W, W': every row is keyed by one end of the record, so both passes
    are stratified grid passes (ratings: users × items; trust: trusters × trustees), the result is
    identical on any number of threads, and there is no ``deterministic`` switch.

    Initialisation: ``N(0, init_std²)`` rows, and the trustee model starts where the truster model does
    (``W'₀ = B₀``, ``V'₀ = V₀``, ``B'₀ = W₀`` on rows active in both): the two models are then fitted to the
    same ratings from the same start, their latent spaces stay aligned, and averaging their vectors pairs
    like with like (with independent starts the averaged prediction mixes two unrelated bases: validation
    RMSE .827 instead of .800 on FilmTrust).

    Users with trust but no ratings still learn ``B_u`` from the users they trust (and ``W'_u`` from the
    users who trust them), so their prediction ``g(((B_u + W'_u)/2)·…)`` comes from their place in the trust
    graph. Users without trust are fitted by the rating passes alone (two logistic MFs whose user and item
    vectors are averaged).

    Explanations and who to follow:
    ``explain`` (models/_explain.py): the averaged biases and ``z_u·q_i``, ``z_u = (B_u + W'_u)/2``,
    ``q_i = (V_i + V'_i)/2``, split by the terms that shape the truster vector ``B_u``: at the objective's
    first-order condition ``P_u B_u = Σ_i e_ui g'_ui V_i + λ_T Σ_k e_uk g'_uk W_k`` (``P_u`` = λ summed over u's
    rating and trust terms, ``e_uk = t_uk − g(B_u·W_k)``), so trustee ``k``'s part is ``½ β_k W_k·q_i`` with
    ``β_k = λ_T e_uk g'_uk / P_u`` (``_explain.link_shares``), and the user part is the rest of ``z_u·q_i``
    (rated items, the users who trust u through ``W'_u``, and whatever training left off the optimum). The
    parts sum to the logit inside ``g`` exactly; then the most similar rated items (not parts).
    ``recommend_users``: the trust predictor ``g((B_u·W_v + B'_u·W'_v)/2)``, the mean of the two models'
    logits; ``closure=`` adds Adamic–Adar.

    Parameters
    ----------
    factors : int, default 10
        Latent dimension ``d``.
    epochs : int, default 100
        Epochs (each of four passes).
    learning_rate : float, default 0.1
        SGD step ``γ``.
    regularization : float, default 0.005
        ``λ``, on each row once per observation it takes part in.
    trust_regularization : float, default 1.0
        ``λ_T``, the weight of the trust terms (the paper's setting ``λ_T = 1``).
    bias_regularization : float, default 0.005
        ``λ_b`` on the biases (with ``biased=True``).
    regularization_scaling : {"occurrence", "sqrt_count", "count"}, default "occurrence"
        How the rating term's penalties (λ on each model's user and item rows, λ_b on their biases) are spread over
        the ratings: each rating carries them weighted by 1, ``c^-½`` or ``1/c``, ``c`` the row's training count
        (``|I_u|`` for a user row, ``|U_i|`` for an item row), so that a row's penalty totals ``λ c``, ``λ √c``
        (TrustSVD's weighted λ, Guo et al. AAAI 2015 eq. 6) or ``λ`` (as BiasedMF's; issue 15). The trust terms keep
        their ``λ`` per edge. CPU only: ``device="cuda"`` refuses the weighted forms and ``"auto"`` trains them on
        the CPU.
    biased : bool, default True
        Each model's user and item biases inside its rating term's link (above); ``False`` gives the paper's
        model. Both train on the CPU and on CUDA.
    init_std : float, default 0.1
        Factors start as ``N(0, init_std²)``; rows that take part in no observation stay 0.
    seed, num_threads, progress
        As in :class:`BiasedMF` (same defaults).
    dtype : {"float32", "float64", "float16"}, default "float32"
        ``"float16"`` (CUDA only) stores the six factor matrices in half precision; compute stays float32.
    device : {"auto", "cpu", "cuda"}, default "auto"
        On CUDA (either ``biased``; the biases are written by lane 0 of the warp) both passes are batch-Hogwild SGD (one warp per record, which steps the truster and then the
        trustee model, as on the CPU; docs/CUDA.md): same steps and objective, not bit-reproducible. The
        records and the targets ``t_uk`` are built on the device, so ``cupyx.scipy.sparse`` ratings and trust
        are never copied to the host.

    Defaults: ``d = 10`` and ``λ_T = 1`` as in Yang et al. (IJCAI 2013); Guo, Zhang, Yorke-Smith (AAAI
    2015, Table 2) report TrustMF at RMSE .819 on FilmTrust at d = 10. ``γ``, ``λ`` and the epochs were
    chosen by us on a validation split of FilmTrust (bench/README.md).
    """

    _link = "logistic"
    uses_trust = True  # trains on the trust graph (sr.compare's social group)
    # sr.tune's default search space (socialrec.tuning.resolve_search_space); epochs come from early stopping
    search_space = with_penalty_scaling({
        "learning_rate": ("log", 0.01, 0.5), "regularization": ("log", 1e-4, 0.5),
        "trust_regularization": ("log", 0.01, 10.0), "bias_regularization": ("log", 1e-4, 0.5)})
    _params = {"factors": 10, "epochs": 100, "learning_rate": 0.1, "regularization": 0.005,
               "trust_regularization": 1.0, "bias_regularization": 0.005, "biased": True, "init_std": 0.1}
    _PARAMETERS = ("user_factors", "item_factors", "trustee_factors", "trustee_user_factors", "trustee_item_factors",
                   "trustee_truster_factors", "global_bias")
    _BIAS_PARAMETERS = ("user_bias", "item_bias", "trustee_user_bias", "trustee_item_bias")
    _checks = {"trust_regularization": NON_NEGATIVE}

    def _validate_training_data(self, train):
        super()._validate_training_data(train)
        data = train.trust.data
        if data.size and (float(data.min()) < 0 or float(data.max()) <= 0):
            # t_uk = value / largest value: a negative value has no target in g's range (0, 1), and a graph
            # whose largest value is not positive would flip or divide by zero
            raise ValueError(f"TrustMF needs non-negative trust values, the largest positive (targets are "
                             f"value / largest value in [0, 1]); they range over [{float(data.min())!r}, "
                             f"{float(data.max())!r}]")

    def _init_parameters(self, train, rng):
        return _initial_parameters(self, train, rng)

    def _prepare(self, train):
        arrays = _training_state(self, train)
        return {"arrays": {**arrays, **self._weight_arrays(train)}, "hyper": self._hyper()}

    def _hyper(self):
        return {"factors": self.factors, "learning_rate": self.learning_rate,
                "global_bias": float(self.parameters_["global_bias"]),
                "regularization": self.regularization, "trust_regularization": self.trust_regularization,
                **self._bias_hyper(), **self._scaling_hyper()}

    def _run_epoch(self, state, settings):
        return _core.trustmf_epoch({**self.parameters_, **state["arrays"]}, state["hyper"], settings)

    def _prepare_cuda(self, train):
        """Device state: the rating records (u, i, r~) and the trust records (u, k, t_uk), each built on the
        device and shuffled once."""
        cp = _gpu.cupy_module()
        src, dst, t = train.trust_arrays()
        return {"ratings": device.records(self.seed_, 0, *device.unit_ratings(train)),
                "trust": device.records(self.seed_, 1, src, dst, trust_targets(t, xp=cp)),
                "loss": cp.zeros(2, dtype=cp.float64), "hyper": self._hyper()}

    def _run_epoch_cuda(self, state, settings):
        return device.run_epoch("trustmf_epoch", {**self.parameters_, **state}, state["hyper"], settings)

    def _scoring_parts(self):
        p = self.parameters_
        parts = {"user_vectors": _mean(p["user_factors"], p["trustee_user_factors"]),
                 "item_vectors": _mean(p["item_factors"], p["trustee_item_factors"]),
                 "global_bias": float(p["global_bias"])}
        if self.biased:  # the two models' biases averaged, as their vectors are
            parts.update(user_bias=_mean(p["user_bias"], p["trustee_user_bias"]),
                         item_bias=_mean(p["item_bias"], p["trustee_item_bias"]))
        return parts

    def _loss(self, data):
        return objective(self, self.parameters_, data)

    def _explain_parts(self, u, i):
        """explain's parts: the averaged biases, ``½ β_k W_k·q_i`` per trustee ``k`` (``_explain.link_shares``
        over u's training edges with their targets t_uk) and the rest of ``z_u·q_i`` as the user's own part."""
        p = self.parameters_
        t = fitted_trust(self)
        trustees = csr_row(t.indptr, t.indices, u)
        values = np.asarray(t.data, dtype=np.float64)
        targets = values[t.indptr[u]:t.indptr[u + 1]] / values.max() if len(trustees) else values[:0]
        B, W = host64(p["user_factors"][u]), host64(p["trustee_factors"])
        rated = len(csr_row(self.seen_indptr_, self.seen_indices_, u))
        # λ over B_u's terms: the truster model's rating terms (regularization_scaling) and λ per trust term
        penalty = self.regularization * (rated * float(penalty_weights([rated], self.regularization_scaling)[0])
                                         + len(trustees))
        weights = link_shares(B, W[trustees], targets, self.trust_regularization, penalty) / 2
        s = self._scoring()
        own, q = host64(s["user_vectors"][u]), host64(s["item_vectors"][i])
        return bias_parts(self, u, i) + pull_parts(u, own, trustees, weights, W, q)

    def _link_scores(self, users):
        """recommend_users' scores: ``g`` of the mean of the two models' trust logits,
        ``(B_u·W_v + B'_u·W'_v) / 2`` (truster model ``t_uv ≈ g(B_u·W_v)``, trustee model ``g(B'_u·W'_v)``)."""
        p = {k: host64(p) for k, p in self.parameters_.items()
             if k in ("user_factors", "trustee_factors", "trustee_truster_factors", "trustee_user_factors")}
        x = (p["user_factors"][users] @ p["trustee_factors"].T
             + p["trustee_truster_factors"][users] @ p["trustee_user_factors"].T) / 2
        return 1.0 / (1.0 + np.exp(-x))


def _mean(a, b):
    """(a + b) / 2 of two factor matrices (NumPy or CuPy); float16 (CUDA storage) is averaged in float32."""
    if a.dtype == np.float16:
        a = a.astype(np.float32)
    return (a + b) / 2


def _initial_parameters(model, train, rng):
    rated_users, rated_items = rated_mask(train.ratings, 1), rated_mask(train.ratings, 0)
    trusts, trusted = rated_mask(train.trust, 1), rated_mask(train.trust, 0)
    active = {"user_factors": rated_users | trusts, "item_factors": rated_items, "trustee_factors": trusted,
              "trustee_user_factors": rated_users | trusted, "trustee_item_factors": rated_items,
              "trustee_truster_factors": trusts}
    rows = {"item_factors": train.n_items, "trustee_item_factors": train.n_items}
    params = {name: model._normal(rng, (rows.get(name, train.n_users), model.factors), active[name])
              for name, _ in _MATRICES}
    # The trustee model starts where the truster model does (W'_0 = B_0, V'_0 = V_0, B'_0 = W_0 on active
    # rows), so that the two latent spaces stay aligned and the averaged prediction pairs like with like.
    for dst, src in (("trustee_user_factors", "user_factors"), ("trustee_item_factors", "item_factors"),
                     ("trustee_truster_factors", "trustee_factors")):
        both = active[dst] & active[src]
        params[dst][both] = params[src][both]
    params["global_bias"] = logit_offset(train, model._np_dtype)
    if model.biased:  # zeros, no draws: each model's user and item biases
        params.update(zero_biases(model, train))
        params.update(zero_biases(model, train, prefix="trustee_"))
    return params


def trust_targets(values, xp=np):
    """t_uk: trust values divided by the largest (binary graphs: all 1), float32 (``xp``: NumPy or CuPy)."""
    values = xp.asarray(values).astype(xp.float64)
    top = float(values.max()) if values.size else 1.0
    return (values / top).astype(xp.float32)


def _training_state(model, train):
    """The rating grid (values mapped to [0, 1]) and the truster x trustee grid of the trust edges."""
    arrays = model._rating_grid(train)
    arrays["records"]["value"] = unit_values(arrays["records"]["value"], train.rating_scale)
    t = train.trust
    arrays["trust_grid"] = trust_grid(t, trust_targets(t.data), model.factors, model._np_dtype.itemsize)
    return arrays


def _pair_terms(P, Q, a, b, y, weight, lam, offset=0.0, biases=None):
    """Σ w/2 (y − g(x))² + λ/2 (‖P_a‖² + ‖Q_b‖²) over the observations (a, b, y), x = offset + P_a·Q_b; with
    ``biases`` = (c_P, c_Q, λ_b), x also adds c_P[a] + c_Q[b] and the sum ½ λ_b (c_P[a]² + c_Q[b]²). float64."""
    x = offset + np.einsum("ij,ij->i", P[a], Q[b])
    penalty = 0.0
    if biases is not None:
        ca, cb, lam_b = biases[0][a], biases[1][b], biases[2]
        x = x + (ca + cb)
        penalty = 0.5 * lam_b * (np.sum(ca * ca) + np.sum(cb * cb))
    e = y - 1.0 / (1.0 + np.exp(-x))
    return 0.5 * weight * np.sum(e * e) + 0.5 * lam * (np.sum(P[a] * P[a]) + np.sum(Q[b] * Q[b])) + penalty


def objective(model, params, data):
    p = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    users, items, values = data.user_item_arrays()
    r = unit_values(values, objective_scale(model, data)).astype(np.float64)
    src, dst, t = data.trust_arrays()
    t = trust_targets(t).astype(np.float64)
    lam, lam_t, b = model.regularization, model.trust_regularization, float(p["global_bias"])
    # each model's (user biases, item biases, 0) with biased=True: their penalty λ_b is _rating_penalty's
    truster = trustee = None
    if model.biased:
        truster = (p["user_bias"], p["item_bias"], 0.0)
        trustee = (p["trustee_user_bias"], p["trustee_item_bias"], 0.0)
    # the rating terms' penalties apart (regularization_scaling's weights, PenaltyScalingMixin._rating_penalty)
    return (_pair_terms(p["user_factors"], p["item_factors"], users, items, r, 1.0, 0.0, b, truster)
            + model._rating_penalty(data, users, items, p["user_factors"], p["item_factors"], truster)
            + _pair_terms(p["user_factors"], p["trustee_factors"], src, dst, t, lam_t, lam)
            + _pair_terms(p["trustee_user_factors"], p["trustee_item_factors"], users, items, r, 1.0, 0.0, b,
                          trustee)
            + model._rating_penalty(data, users, items, p["trustee_user_factors"], p["trustee_item_factors"], trustee)
            + _pair_terms(p["trustee_truster_factors"], p["trustee_user_factors"], src, dst, t, lam_t, lam))
