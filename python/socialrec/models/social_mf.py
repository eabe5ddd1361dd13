"""SocialMF: matrix factorisation with trust propagation (a user's factors drawn to his trustees' mean)."""
from __future__ import annotations

import numpy as np

from .. import _core, _gpu
from .._arrays import bincount, rows_of
from . import device
from .base import register
from ._explain import bias_parts, host64, pull_parts, row_weights
from ._follow import fitted_trust
from .device import DeviceMixin
from ._social import check_positive_trust, logistic, objective_scale, rating_offset, unit_values
from .sgd import LogisticRatingModel, rated_mask, with_penalty_scaling


@register
class SocialMF(DeviceMixin, LogisticRatingModel):
    """SocialMF (Jamali & Ester, RecSys 2010): each user's factors are pulled towards the weighted mean of the
    factors of the users he trusts, which propagates taste along the trust graph.

    Ratings are min-max mapped to ``r̃ = (r − r_min)/(r_max − r_min)`` and predicted as
    ``r_min + g(b + U_u·V_i)(r_max − r_min)``, ``g`` the logistic function, ``b`` a fixed offset (see
    ``offset``). Direction: ``trust[u, v] != 0``
    means u trusts v, and ``U_u`` is drawn towards u's trustees (out-neighbours ``N⁺(u)``); ``T`` is the
    trust matrix row-normalised so that ``Σ_v T_uv = 1`` (stored trust values, which must be positive,
    weight the trustees).

    Objective (the paper's eq. 7 with the rating-side L2 penalties carried per rating, DESIGN §4), with
    ``biased=True`` (the default) user and item biases ``b_u``, ``b_i`` inside the link::

        Σ_(u,i)  ½ (r̃_ui − g(b + b_u + b_i + U_u·V_i))² + ½ λ (‖U_u‖² + ‖V_i‖²) + ½ λ_b (b_u² + b_i²)
      + Σ_(u: N⁺(u) ≠ ∅)  ½ λ_T ‖U_u − Σ_v T_uv U_v‖²

    ``b = logit(mean r̃)`` over the training ratings (``global_bias``, fixed during training) when
    ``offset=True``, else ``b = 0`` (the paper's form). ``biased=False`` drops ``b_u``, ``b_i`` and ``λ_b``: the
    paper's model (with the offset). The trust term does not involve the biases.

    Gradient of a rating's term, ``x = b + b_u + b_i + U_u·V_i``, ``e = r̃_ui − g(x)``,
    ``g'(x) = g(x)(1 − g(x))``: ``∂/∂U_u = −e g'(x) V_i + λ U_u`` (``V_i`` alike), ``∂/∂b_u = −e g'(x) + λ_b b_u``
    (``b_i`` alike). The biases are those of Koren, Bell, Volinsky ("Matrix factorization techniques for
    recommender systems", IEEE Computer 2009, eq. 5), put inside the logistic link: in a prototype on
    FilmTrust's 80/20 split (a small random search on a validation part carved from training) biases inside
    the link with this trust term reached validation RMSE .8185 (.8226 without the trust term), against
    .8211 for biases added outside the link (``r_min + span·g(b + U·V) + b_u + b_i``, with the trust term)
    and .8211 for BiasedMF; inside, predictions stay in the scale and sparse rows shrink to ``g(b + b_u + b_i)``.

    Training: each epoch runs the rating pass (stratified grid, identical on any thread count) and then the
    user pass: for every user with out-links, ``D_u = U_u − Σ_v T_uv U_v`` and one SGD step on
    ``U_u -= γ λ_T D_u`` and on every trustee ``U_v += γ λ_T T_uv D_u``. The user pass touches arbitrary
    rows, so it runs in one order on one thread (``deterministic=True``, the default) or lock-free on all
    threads (Hogwild; not bit-reproducible across thread counts) with ``deterministic=False``. Users with trust links but no ratings learn their factors through the user pass
    (as trusters and as trustees); users without trust links get the plain logistic PMF; ``λ_T = 0`` gives
    exactly that plain model.

    Explanations and who to follow:
    ``explain`` (models/_explain.py): the biases and ``U_u·V_i`` split along the model's trust propagation,
    ``U_u = Σ_v T_uv U_v + d_u`` (Jamali & Ester eq. 4): one ``"trustee"`` part ``T_uv U_v·V_i`` per trustee and
    the user's own deviation ``d_u·V_i``. The parts sum to the logit inside ``g`` exactly; then the most similar
    rated items (a similarity, not parts). ``recommend_users``: the friends-of-friends fallback.

    Parameters
    ----------
    factors : int, default 10
        Latent dimension ``d``.
    epochs : int, default 100
        Passes over the ratings and the trusting users.
    learning_rate : float, default 0.1
        SGD step ``γ``. The user step moves ``U_u`` by ``γ λ_T D_u``: keep ``γ λ_T`` well below 1.
    regularization : float, default 0.005
        ``λ`` (the paper's ``λ_U = λ_V``) on the factor rows, carried by each rating.
    social_regularization : float, default 0.1
        ``λ_T``, the weight of the trust-propagation term.
    bias_regularization : float, default 0.005
        ``λ_b`` on the biases (with ``biased=True``).
    regularization_scaling : {"occurrence", "sqrt_count", "count"}, default "occurrence"
        How the rating term's penalties (λ on ``U_u`` and ``V_i``, λ_b on the biases) are spread over the ratings:
        each rating carries them weighted by 1, ``c^-½`` or ``1/c``, ``c`` the row's training count (``|I_u|`` for a
        user row, ``|U_i|`` for an item row), so that a row's penalty totals ``λ c``, ``λ √c`` (TrustSVD's weighted
        λ, Guo et al. AAAI 2015 eq. 6) or ``λ`` (as BiasedMF's; issue 15). The trust term has no L2 penalty to
        scale. CPU only: ``device="cuda"`` refuses the weighted forms and ``"auto"`` trains them on the CPU.
    biased : bool, default True
        User and item biases inside the link (above); ``False`` gives the paper's model. Both train on the
        CPU and on CUDA.
    offset : bool, default True
        Put the fixed offset ``b = logit(mean r̃)`` inside ``g`` (ours, as in RSTE and TrustMF here): users and
        items with few or no training ratings are then shrunk towards the mean rating rather than the middle
        of the scale. ``False`` gives the paper's ``g(U_u·V_i)``.
    deterministic : bool, default True
        Run the user pass in one order on one thread, so that results do not depend on ``num_threads``;
        ``False``: lock-free over threads (Hogwild), faster on several threads but not bit-reproducible
        (bench/README.md, "Deterministic by default").
    init_std : float, default 0.1
        Factors start as ``N(0, init_std²)``; rows that no observation touches start (and stay) at 0.
    seed : int or None, default 0
        Fixes the initial parameters and every visiting order.
    num_threads : int, default 0
        Threads (0 = all cores).
    dtype : {"float32", "float64", "float16"}, default "float32"
        ``"float16"`` (CUDA only) stores the factor matrices in half precision; compute stays float32.
    device : {"auto", "cpu", "cuda"}, default "auto"
        On CUDA (either ``biased``; the biases are written by lane 0 of the warp) the rating pass is batch-Hogwild SGD (one warp per rating) and the user pass runs one warp per
        truster, Hogwild over users (docs/CUDA.md); same steps and objective, not bit-reproducible
        (``deterministic`` applies to the CPU only). The records and the row-normalised ``T`` are built on the
        device (row sums equal to float64 rounding), so ``cupyx.scipy.sparse`` ratings and trust are never
        copied to the host.
    progress : bool, default False
        Show a progress bar over epochs.

    Notes
    -----
    Defaults (d = 10, FilmTrust-like data). ``d = 10`` as in the comparisons of Guo, Zhang, Yorke-Smith
    (AAAI 2015, Table 2: SocialMF RMSE .844 on FilmTrust). The paper tunes its weights for batch gradient
    descent on Epinions/Flixster; neither those nor LibRec 2.0's example configuration (γ = 0.05,
    λ = 0.01, λ_T = 0.01, 100 iterations of batch gradient descent) carry over to per-observation SGD,
    where the penalties are summed per rating; so ``γ = 0.1``, ``λ = 0.005``, ``λ_T = 0.1`` and 100
    epochs were chosen on a validation split carved from FilmTrust training data (fold 0 of
    ``split.kfold(ds, 5, seed=0)``, then ``train_test_split(seed=1)``; the test folds were never used;
    bench/tune_sorec_socialmf.py). With the offset the best ``λ_T`` fell from 0.3 to 0.1. 5-fold CV
    (FilmTrust, ``split.kfold(ds, 5, seed=0)``) with these defaults (``biased=True``): RMSE .799, MAE .622,
    and .866 on the test ratings of users with < 5 training ratings; with ``biased=False`` RMSE .813, MAE
    .639 and .886 there; the paper's form (``biased=False, offset=False``, ``λ_T = 0.3``, the earlier
    defaults) gives RMSE .827 and .999 on those users (bench/README.md). On data whose trust links carry no taste signal the trust term costs a
    little accuracy (< 1 % RMSE on ``synthetic(homophily=0)`` at ``λ_T = 0.1``, 3-4 % at 0.3).

    Fitted parameters: ``user_factors`` (U), ``item_factors`` (V), ``global_bias`` (b), and with
    ``biased=True`` ``user_bias`` (b_u) and ``item_bias`` (b_i).
    """

    uses_trust = True  # trains on the trust graph (sr.compare's social group)
    # issue 19: no DP-SGD (docs/PRIVACY.md "Models without a private fit"); base.Model.__init__ raises this
    _privacy_refusal = ("its trust term pulls U_u towards the trustees' U_v and pushes gradients into U_v, "
                        "user-side factors shaped by the trustees' own ratings, so one user's data would reach "
                        "the released item factors through other users' contributions (no clipping bounds it)")
    # sr.tune's default search space (socialrec.tuning.resolve_search_space); epochs come from early stopping
    search_space = with_penalty_scaling({
        "learning_rate": ("log", 0.01, 0.5), "regularization": ("log", 1e-4, 0.5),
        "social_regularization": ("log", 0.01, 10.0), "bias_regularization": ("log", 1e-4, 0.5)})
    _params = {"factors": 10, "epochs": 100, "learning_rate": 0.1, "regularization": 0.005,
               "social_regularization": 0.1, "bias_regularization": 0.005, "biased": True, "offset": True,
               "deterministic": True, "init_std": 0.1}

    def _validate_training_data(self, train):
        super()._validate_training_data(train)
        check_positive_trust(self, train)

    def _init_parameters(self, train, rng):
        trust = train.trust
        linked = np.asarray(trust.getnnz(axis=1) > 0) | np.asarray(trust.getnnz(axis=0) > 0)
        return {
            "user_factors": self._normal(rng, (train.n_users, self.factors),
                                         rated_mask(train.ratings, 1) | linked),
            "item_factors": self._normal(rng, (train.n_items, self.factors), rated_mask(train.ratings, 0)),
            "global_bias": rating_offset(self, train),
            **self._init_biases(train),
        }

    def _trust_state(self, train):
        """Row-normalised trust CSR and the list of users with out-links (the user pass's records)."""
        offsets, trustees, weights = normalised_trust(train.trust)
        trusters = np.flatnonzero(np.diff(offsets) > 0).astype(np.int32)
        return {"trusters": trusters, "trust_offsets": offsets, "trustees": trustees,
                "trust_weights": weights.astype(self._np_dtype)}

    def _prepare(self, train):
        return {"grid": {**self._rating_grid(train), **self._weight_arrays(train)}, "trust": self._trust_state(train),
                "hyper": self._hyper()}

    def _run_epoch(self, state, settings):
        arrays = {**self.parameters_, **state["grid"], **state["trust"]}
        return _core.social_mf_epoch(arrays, state["hyper"], settings)

    def _prepare_cuda(self, train):
        """Device state, built on the device: the rating records (u, i, r~) shuffled once, and the row-normalised
        trust CSR with the list of trusters (the user pass's records, shuffled once)."""
        cp = _gpu.cupy_module()
        offsets, trustees, weights = normalised_trust(train.trust, xp=cp)
        return {"ratings": device.records(self.seed_, 0, *device.unit_ratings(train)),
                "trust": device.mean_pull_state(self.seed_, 2, offsets, trustees, weights),
                "loss": cp.zeros(2, dtype=cp.float64), "hyper": self._hyper()}

    def _run_epoch_cuda(self, state, settings):
        return device.run_epoch("social_mf_epoch", {**self.parameters_, **state}, state["hyper"], settings)

    def _loss(self, data):
        p = {k: np.asarray(v, dtype=np.float64) for k, v in self.parameters_.items()}
        U = p["user_factors"]
        users, items, values = data.user_item_arrays()
        x = self._rating_logits(p, users, items)
        e = unit_values(values, objective_scale(self, data)).astype(np.float64) - logistic(x)
        total = 0.5 * np.sum(e * e) + self._rating_term_penalty(p, data, users, items)
        offsets, trustees, weights = normalised_trust(data.trust)
        trusters = np.flatnonzero(np.diff(offsets) > 0)
        mean = np.zeros_like(U)
        np.add.at(mean, np.repeat(np.arange(len(U)), np.diff(offsets)), weights[:, None] * U[trustees])
        D = U[trusters] - mean[trusters]
        return total + 0.5 * self.social_regularization * np.sum(D * D)

    def _explain_parts(self, u, i):
        """explain's parts: the biases and ``U_u·V_i`` split along the trust propagation of the model
        (``U_u = Σ_v T_uv U_v + d_u``, Jamali & Ester eq. 4): ``T_uv U_v·V_i`` per trustee, ``d_u·V_i`` the
        user's own (``_explain.pull_parts``)."""
        U = self.parameters_["user_factors"]
        q = host64(self.parameters_["item_factors"][i])
        neighbours, weights = row_weights(fitted_trust(self), u)
        return bias_parts(self, u, i) + pull_parts(u, host64(U[u]), neighbours, weights, U, q)


def normalised_trust(trust, xp=np):
    """The trust graph as CSR arrays (int64 offsets, int32 trustees, float64 weights), each row scaled to sum
    to 1: T_uv = t_uv / Σ_w t_uw (Jamali & Ester 2010, §4). Temporaries: one float64 per edge. ``xp``: NumPy,
    or CuPy for a ``DeviceTrust`` (row sums by ``bincount``: the same values to float64 rounding)."""
    trust = trust.tocsr()
    offsets = xp.asarray(trust.indptr).astype(xp.int64)
    rows = rows_of(offsets, xp)
    weights = trust.data.astype(xp.float64)
    row_sums = bincount(rows, trust.shape[0], weights=weights, xp=xp)
    weights /= row_sums[rows]
    return offsets, trust.indices.astype(xp.int32), weights
