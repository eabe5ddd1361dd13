"""SoRec: probabilistic matrix factorisation of the ratings and the trust graph with shared user factors."""
from __future__ import annotations

from typing import Dict

import numpy as np

from .. import _core, _gpu
from .._arrays import bincount, rows_of
from . import device
from .base import Check, register
from ._explain import bias_parts, csr_row, host64, link_shares, pull_parts
from ._follow import fitted_trust
from ._private import PrivateMixin, is_budget
from .device import DeviceMixin
from ._social import logistic, objective_scale, rating_offset, trust_grid, unit_values
from .sgd import LogisticRatingModel, penalty_weights, rated_mask, with_penalty_scaling


@register
class SoRec(PrivateMixin, DeviceMixin, LogisticRatingModel):
    """SoRec (Ma, Yang, Lyu, King, CIKM 2008): ratings and trust factorised with shared user factors.

    Ratings are min-max mapped to ``r̃ = (r − r_min)/(r_max − r_min)`` and predicted as
    ``r_min + g(b + U_u·V_i)(r_max − r_min)``, ``g`` the logistic function, ``b`` a fixed offset (see
    ``offset``). The trust graph is factorised as
    ``c*_uk ≈ g(U_u·Z_k)`` with the paper's degree-damped target (eq. 8)
    ``c*_uk = √(d⁻(k) / (d⁺(u) + d⁻(k)))`` (``d⁺`` out-degree of the truster, ``d⁻`` in-degree of the
    trustee), so a user's factors ``U_u`` are shaped by whom he trusts. The direction used: an edge u→k
    (``trust[u, k] != 0``, u trusts k) ties ``U_u`` to the trustee's "trusted" factors ``Z_k``; stored trust
    values are ignored (every edge counts as 1).

    Objective (the paper's eq. 9 with the L2 penalties carried per observation, DESIGN §4), with
    ``biased=True`` (the default) user and item biases ``b_u``, ``b_i`` inside the link of the rating term::

        Σ_(u,i)  ½ (r̃_ui − g(b + b_u + b_i + U_u·V_i))² + ½ λ (‖U_u‖² + ‖V_i‖²) + ½ λ_b (b_u² + b_i²)
      + Σ_(u→k)  λ_C [ ½ (c*_uk − g(U_u·Z_k))² + ½ λ (‖U_u‖² + ‖Z_k‖²) ]

    ``b = logit(mean r̃)`` over the training ratings (``global_bias``, fixed during training) when
    ``offset=True``, else ``b = 0`` (the paper's form). The link term has no offset and no biases.
    ``biased=False`` drops ``b_u``, ``b_i`` and ``λ_b``: the paper's model (with the offset).

    Gradient of a rating's term, ``x = b + b_u + b_i + U_u·V_i``, ``e = r̃_ui − g(x)``,
    ``g'(x) = g(x)(1 − g(x))``: ``∂/∂U_u = −e g'(x) V_i + λ U_u`` (``V_i`` alike), ``∂/∂b_u = −e g'(x) + λ_b b_u``
    (``b_i`` alike); each rating takes one SGD step along it (old parameters on the right). The biases are
    those of Koren, Bell, Volinsky ("Matrix factorization techniques for recommender systems", IEEE Computer
    2009, eq. 5), put inside the logistic link: in a prototype on FilmTrust's 80/20 split (a small random
    search on a validation part carved from training) biases inside the link reached validation RMSE .8185
    with a SocialMF-style trust term (.8226 without it), against .8211 for biases added outside the link
    (``r_min + span·g(b + U·V) + b_u + b_i``) and .8211 for BiasedMF; inside, they shift a rating along the
    link, so predictions stay in the scale and sparse rows shrink to ``g(b + b_u + b_i)``.

    Training: each epoch runs the rating pass and then the link pass, both on the stratified grid (the link
    pass touches one row of ``U`` and one row of ``Z``, so it is bipartite like the rating pass). The result
    is therefore identical for every ``num_threads``. Users with trust links but no ratings learn ``U_u``
    from the link pass alone; users without trust links get the plain logistic PMF. ``λ_C = 0`` gives
    exactly that plain model (Salakhutdinov & Mnih's PMF with the logistic link).

    Explanations and who to follow:
    ``explain`` (models/_explain.py): the biases and ``U_u·V_i`` split by the terms that shape ``U_u``. The
    rating logit holds no trustee, but the link terms write ``U_u``: at the objective's first-order condition
    ``P_u U_u = Σ_i e_ui g'_ui V_i + λ_C Σ_k e_uk g'_uk Z_k`` (``P_u`` = λ summed over u's rating and link terms,
    ``e_uk = c*_uk − g(U_u·Z_k)``), so trustee ``k``'s part is ``β_k Z_k·V_i`` with
    ``β_k = λ_C e_uk g'_uk / P_u`` (``_explain.link_shares``: which trustees' link terms pulled ``U_u`` towards
    ``V_i``, and how far), and the user part is the rest of ``U_u·V_i`` (the rated items' pulls and whatever
    training left off the optimum). The parts sum to the logit inside ``g`` exactly; then the most similar rated
    items (cosine of ``V``, not parts of the sum). ``recommend_users``: the trust predictor ``g(U_u·Z_v)``;
    ``closure=`` adds Adamic–Adar.

    Parameters
    ----------
    factors : int, default 10
        Latent dimension ``d``.
    epochs : int, default 80
        Passes over the ratings and the trust edges.
    learning_rate : float, default 0.1
        SGD step ``γ``.
    regularization : float, default 0.005
        ``λ`` (the paper's ``λ_U = λ_V = λ_Z``) on ``U``, ``V`` and ``Z`` rows.
    social_regularization : float, default 1.0
        ``λ_C``, the weight of the trust factorisation relative to the ratings.
    bias_regularization : float, default 0.005
        ``λ_b`` on the biases (with ``biased=True``).
    regularization_scaling : {"occurrence", "sqrt_count", "count"}, default "occurrence"
        How the rating term's penalties (λ on ``U_u`` and ``V_i``, λ_b on the biases) are spread over the ratings:
        each rating carries them weighted by 1, ``c^-½`` or ``1/c``, ``c`` the row's training count (``|I_u|`` for a
        user row, ``|U_i|`` for an item row), so that a row's penalty totals ``λ c``, ``λ √c`` (TrustSVD's weighted
        λ, Guo et al. AAAI 2015 eq. 6) or ``λ`` (as BiasedMF's; issue 15). The link term keeps its ``λ_C λ`` per
        edge (an edge's rows are not scaled by the truster's out-degree: the trust term is weighted by ``λ_C``
        already). CPU only: ``device="cuda"`` refuses the weighted forms and ``"auto"`` trains them on the CPU.
    biased : bool, default True
        User and item biases inside the rating term's link (above); ``False`` gives the paper's model. Both
        train on the CPU and on CUDA.
    offset : bool, default True
        Put the fixed offset ``b = logit(mean r̃)`` inside ``g`` on the rating term (ours, as in RSTE and
        TrustMF here): users and items with few or no training ratings are then shrunk towards the mean
        rating rather than the middle of the scale. ``False`` gives the paper's ``g(U_u·V_i)``.
    init_std : float, default 0.1
        Factors start as ``N(0, init_std²)``; rows that no observation touches start (and stay) at 0.
    seed : int or None, default 0
        Fixes the initial parameters and every visiting order.
    num_threads : int, default 0
        Threads (0 = all cores); results do not depend on it.
    dtype : {"float32", "float64", "float16"}, default "float32"
        ``"float16"`` (CUDA only) stores the factor matrices in half precision; compute stays float32.
    device : {"auto", "cpu", "cuda"}, default "auto"
        On CUDA (either ``biased``; the biases are written by lane 0 of the warp) both passes are batch-Hogwild SGD with the same steps (one warp per update; records shuffled
        once per fit, chunk order per epoch; docs/CUDA.md): not bit-reproducible, same objective. The records
        and the targets c* are built on the device, so ``cupyx.scipy.sparse`` ratings and trust are never
        copied to the host.
    progress : bool, default False
        Show a progress bar over epochs.
    privacy : socialrec.privacy.PrivacyBudget or None, default None
        Train by DP-SGD at user level (``unit="user"`` only: a user's ratings and outgoing edges are one unit):
        each sampled user's contribution to the released ``V``, ``b_i`` and ``Z`` is clipped and noised; ``U``
        and ``b_u`` stay on the user's side. The private model fits every edge to the target 1 (the paper's
        c* reads the trustees' in-degrees, the other users' data), starts every item and link row drawn and
        takes ``b`` from the private mean (docs/PRIVACY.md, reference/dp_sorec.py). CPU,
        ``regularization_scaling="occurrence"`` only.

    Notes
    -----
    Defaults (d = 10, FilmTrust-like data). ``d = 10`` as in the comparisons of Guo, Zhang, Yorke-Smith
    (AAAI 2015, Table 2: SoRec RMSE .831 on FilmTrust). ``λ_C = 1``: the paper's best on Epinions is
    ``λ_C = 10`` (Ma et al. 2008, with λ_U = λ_V = λ_Z = 0.001), which Cornac keeps as its default,
    but on FilmTrust ``λ_C = 1`` is better for Cornac's SoRec too (.818 against .837, PEERS.md) and here.
    LibRec 2.0's example configuration (γ = 0.05, λ = 0.01, batch gradient descent) does not carry over to
    per-observation SGD, where the penalties are summed per rating; so ``γ = 0.1``, ``λ = 0.005`` and 80
    epochs were chosen on a validation split carved from FilmTrust training data (fold 0 of
    ``split.kfold(ds, 5, seed=0)``, then ``train_test_split(seed=1)``; the test folds were never used),
    and re-checked there with ``offset=True`` (bench/tune_sorec_socialmf.py: still within .0003 of the
    grid's best). 5-fold CV (FilmTrust, ``split.kfold(ds, 5, seed=0)``, the protocol of
    bench/accuracy_filmtrust.py) with these defaults (``biased=True``): RMSE .798, MAE .622, and .862 on the
    test ratings of users with < 5 training ratings; with ``biased=False`` RMSE .814, MAE .640 and .886
    there, and with ``biased=False, offset=False`` RMSE .831 and 1.022 on those users (bench/README.md).

    Fitted parameters: ``user_factors`` (U), ``item_factors`` (V), ``link_factors`` (Z), ``global_bias`` (b),
    and with ``biased=True`` ``user_bias`` (b_u) and ``item_bias`` (b_i).
    """

    uses_trust = True  # trains on the trust graph (sr.compare's social group)
    # sr.tune's default search space (socialrec.tuning.resolve_search_space); epochs come from early stopping
    search_space = with_penalty_scaling({
        "learning_rate": ("log", 0.01, 0.5), "regularization": ("log", 1e-4, 0.5),
        "social_regularization": ("log", 0.01, 10.0), "bias_regularization": ("log", 1e-4, 0.5)})
    _params = {"factors": 10, "epochs": 80, "learning_rate": 0.1, "regularization": 0.005,
               "social_regularization": 1.0, "bias_regularization": 0.005, "biased": True, "offset": True,
               "init_std": 0.1, "privacy": None}
    _checks: Dict[str, Check] = {**LogisticRatingModel._checks,
                                 "privacy": (is_budget, "None or a socialrec.privacy.PrivacyBudget")}
    _PARAMETERS = LogisticRatingModel._PARAMETERS + ("link_factors",)
    # DP-SGD (models/_private.py): released V, b_i (rows by item) and Z (rows by user); U, b_u user side
    _dp_released = ("item_factors", "item_bias", "link_factors")
    _dp_released_by_user = ("link_factors",)
    _dp_units = ("user",)
    _dp_unit_refusal = ("one rating or edge of a user moves U_u, which all the user's other ratings and edges "
                        "read, so only the user is a unit whose influence the clipping bounds")

    # the trust graph's out- and in-degrees (rows 0, 1): fold-in's link targets c*_uk (models/_fold_in_models.py)
    _OPTIONAL_FIT_ARRAYS = ("trust_degree_",)

    def _check_extra(self):
        super()._check_extra()
        if self.privacy is not None and self.regularization_scaling != "occurrence":
            raise ValueError("SoRec: privacy= trains with regularization_scaling='occurrence' only (the weighted "
                             "penalties read every row's count, the other users' data)")

    def _cuda_training_unsupported(self):
        return "privacy=" if self.privacy is not None else super()._cuda_training_unsupported()

    def _init_parameters(self, train, rng):
        trust = train.trust
        if self.privacy is None:  # fold-in's link targets; a private fit keeps no degrees (the others' data)
            self.trust_degree_ = np.stack([np.asarray(trust.getnnz(axis=1), dtype=np.int64),
                                           np.asarray(trust.getnnz(axis=0), dtype=np.int64)])
        else:
            self.__dict__.pop("trust_degree_", None)
        trusters = np.asarray(trust.getnnz(axis=1) > 0)
        trustees = self._dp_item_rows(np.asarray(trust.getnnz(axis=0) > 0))  # every row under privacy
        return {
            "user_factors": self._normal(rng, (train.n_users, self.factors),
                                         rated_mask(train.ratings, 1) | trusters),
            "item_factors": self._normal(rng, (train.n_items, self.factors),
                                         self._dp_item_rows(rated_mask(train.ratings, 0))),
            "link_factors": self._normal(rng, (train.n_users, self.factors), trustees),
            "global_bias": rating_offset(self, train),
            **self._init_biases(train),
        }

    def _link_grid(self, train):
        """The trust edges with their targets c*, packed into a user-block x user-block grid."""
        trust = train.trust.tocsr()
        return trust_grid(trust, link_target_values(trust).astype(np.float32), self.factors,
                          self._np_dtype.itemsize)

    def _prepare(self, train):
        if self.privacy is not None:
            state = self._private_prepare(train)
            if self.offset:  # b from the private mean (reference/dp_sorec.py private_offset)
                lo, hi = train.rating_scale
                mean = (float(self.parameters_["global_bias"]) - lo) / (hi - lo)  # _private_prepare's private mean
                mean = min(max(mean, 1e-6), 1 - 1e-6)
                self.parameters_["global_bias"][...] = np.log(mean / (1 - mean))
            else:
                self.parameters_["global_bias"][...] = 0.0
            return state
        return {"grid": {**self._rating_grid(train), **self._weight_arrays(train)}, "link_grid": self._link_grid(train),
                "hyper": self._hyper()}

    def epoch_learning_rate(self, epoch):
        """The step of epoch ``epoch``: ``learning_rate`` (constant)."""
        return self.learning_rate

    def _dp_step(self, engine, released, private):
        """The C++ DP-SGD step (``_core.dp_sorec_step``, cpp/include/socialrec/dp_sorec.hpp)."""
        train = engine.train
        users, items, values = train.user_item_arrays()
        trust = train.trust.tocsr()
        data = {"rating_offsets": np.asarray(train.ratings.indptr, dtype=np.int64), "items": items,
                "values": unit_values(values, train.rating_scale),
                "edge_offsets": np.asarray(trust.indptr, dtype=np.int64),
                "trustees": trust.indices.astype(np.int32), "targets": private_link_targets(trust)}
        hyper = {**self._hyper(), "clip_norm": engine.budget.clip_norm,
                 "noise_scale": engine.noise_multiplier * engine.budget.clip_norm}

        def step(params, sampled, noise, rate):
            item_noise, link_noise = noise if noise is not None else (None, None)
            _core.dp_sorec_step({**params, **data, "sampled": sampled.astype(np.int64), "item_noise": item_noise,
                                 "link_noise": link_noise}, {**hyper, "learning_rate": rate})
        return step

    def _run_epoch(self, state, settings):
        if "dp" in state:
            return self._private_epoch(state, settings)
        arrays = {**self.parameters_, **state["grid"], "link_grid": state["link_grid"]}
        return _core.sorec_epoch(arrays, state["hyper"], settings)

    def _prepare_cuda(self, train):
        """Device state: the rating records (u, i, r~) and the edge records (u, k, c*_uk), each built on the
        device and shuffled once."""
        cp = _gpu.cupy_module()
        src, dst, target = link_targets(train.trust, xp=cp)
        return {"ratings": device.records(self.seed_, 0, *device.unit_ratings(train)),
                "links": device.records(self.seed_, 1, src, dst, target.astype(np.float32)),
                "loss": cp.zeros(2, dtype=cp.float64), "hyper": self._hyper()}

    def _run_epoch_cuda(self, state, settings):
        return device.run_epoch("sorec_epoch", {**self.parameters_, **state}, state["hyper"], settings)

    def _loss(self, data):
        p = {k: np.asarray(v, dtype=np.float64) for k, v in self.parameters_.items()}
        U, V, Z = p["user_factors"], p["item_factors"], p["link_factors"]
        lam = self.regularization
        users, items, values = data.user_item_arrays()
        r = unit_values(values, objective_scale(self, data)).astype(np.float64)
        total = _pair_loss(U[users], V[items], r, 0.0, logits=self._rating_logits(p, users, items))
        total += self._rating_term_penalty(p, data, users, items)
        src, dst, target = link_targets(data.trust)
        if self.privacy is not None:
            target = private_link_targets(data.trust)
        return total + self.social_regularization * _pair_loss(U[src], Z[dst], target, lam)

    def _explain_parts(self, u, i):
        """explain's parts: the biases, ``β_k Z_k·V_i`` per trustee ``k`` (``_explain.link_shares`` over u's
        training edges with their targets c*_uk) and the rest of ``U_u·V_i`` as the user's own part."""
        p = self.parameters_
        t = fitted_trust(self)
        trustees = csr_row(t.indptr, t.indices, u)
        in_degree = np.bincount(t.indices, minlength=t.shape[1]).astype(np.float64)[trustees]
        targets = np.sqrt(in_degree / (len(trustees) + in_degree))  # c*_uk (Ma et al. eq. 8)
        if getattr(self, "privacy_", None) is not None:  # a private fit's targets are 1 (private_link_targets)
            targets = np.ones_like(targets)
        own, Z = host64(p["user_factors"][u]), host64(p["link_factors"])
        rated = len(csr_row(self.seen_indptr_, self.seen_indices_, u))
        # λ over U_u's terms: the rating terms' (regularization_scaling) and λ_C λ per link term
        penalty = self.regularization * (rated * float(penalty_weights([rated], self.regularization_scaling)[0])
                                         + self.social_regularization * len(trustees))
        weights = link_shares(own, Z[trustees], targets, self.social_regularization, penalty)
        q = host64(p["item_factors"][i])
        return bias_parts(self, u, i) + pull_parts(u, own, trustees, weights, Z, q)

    def _link_scores(self, users):
        """recommend_users' scores: the trust the link term predicts, ``g(U_u·Z_v)`` (Ma et al. eq. 9)."""
        p = self.parameters_
        return logistic(host64(p["user_factors"][users]) @ host64(p["link_factors"]).T)


def link_targets(trust, xp=np):
    """Edges (u, k) of ``trust`` in CSR order with SoRec's target c*_uk = sqrt(d⁻(k) / (d⁺(u) + d⁻(k)))
    (Ma et al. CIKM 2008, eq. 8), computed in float64 (``xp``: NumPy, or CuPy for a ``DeviceTrust``)."""
    trust = trust.tocsr()
    return rows_of(trust.indptr, xp), trust.indices.astype(xp.int32), link_target_values(trust, xp)


def private_link_targets(trust):
    """The private model's target of every edge of ``trust``: 1 (the edge itself; c* would read the
    trustees' in-degrees, which the other users' edges set: reference/dp_sorec.py)."""
    return np.ones(trust.nnz, dtype=np.float64)


def link_target_values(trust, xp=np):
    """c*_uk of every stored edge of the CSR matrix ``trust`` (CSR order, float64), computed in place: one
    float64 per edge beyond the result."""
    out_degree = xp.diff(trust.indptr).astype(xp.float64)
    in_degree = bincount(trust.indices, trust.shape[1], xp=xp).astype(xp.float64)
    target = in_degree[trust.indices]
    denominator = out_degree[rows_of(trust.indptr, xp)]
    denominator += target
    target /= denominator
    del denominator
    return xp.sqrt(target, out=target)


def _pair_loss(A, B, target, lam, logits=None):
    """Σ ½ (c − g(x))² + ½ λ (‖a‖² + ‖b‖²) over the rows a, b of A, B (float64); x = a·b unless ``logits``
    gives it."""
    x = np.einsum("ij,ij->i", A, B) if logits is None else logits
    e = target - logistic(x)
    return 0.5 * np.sum(e * e) + 0.5 * lam * (np.sum(A * A) + np.sum(B * B))
