"""BiasedMF and PMF."""
from __future__ import annotations

import numpy as np

from .. import _core, _gpu
from .._validate import is_real as _is_real
from . import device
from ._private import PrivateMixin, is_budget
from .base import register
from .device import DeviceMixin
from .sgd import PenaltyScalingMixin, SCALINGS, SGDModel, rated_mask, with_penalty_scaling

SCHEDULES = ("constant", "adaptive")
INITS = ("normal", "uniform")


@register
class BiasedMF(PrivateMixin, DeviceMixin, SGDModel):
    """Biased matrix factorisation (``biased=False``: PMF), trained by SGD.

    Prediction ``r̂_ui = μ + b_u + b_i + p_u·q_i`` (PMF: ``p_u·q_i``), ``μ`` the training mean (fixed).
    Objective (DESIGN §4), a sum over training ratings::

        Σ_(u,i) ½ e_ui² + ½ λ (w_u ‖p_u‖² + w_i ‖q_i‖²) + ½ λ_b (w_u b_u² + w_i b_i²),   e_ui = r_ui − r̂_ui

    with the penalty weights of ``regularization_scaling``: ``w = 1`` (``"occurrence"``, the default),
    ``w_u = |I_u|^-½, w_i = |U_i|^-½`` (``"sqrt_count"``) or ``w_u = 1/|I_u|, w_i = 1/|U_i|`` (``"count"``),
    ``I_u`` the items ``u`` rated and ``U_i`` the raters of ``i`` in training.

    References: Koren, Bell, Volinsky, "Matrix factorization techniques for recommender systems", IEEE
    Computer 2009 (eq. 5); Salakhutdinov & Mnih, "Probabilistic matrix factorization", NIPS 2008.

    Each rating's SGD step uses the gradients of its term at the old parameters,
    ``g_p = −e q_i + λ p_u`` and ``g_q = −e p_u + λ q_i`` (λ, λ_b times ``w_u`` resp. ``w_i`` when weighted). With ``learning_rate_schedule="constant"`` the
    step is ``p_u −= γ g_p``, ``q_i −= γ g_q``, ``b_u += γ (e − λ_b b_u)`` (``b_i`` likewise).
    ``"adaptive"`` is RPCS (Chin, Zhuang, Juan, Lin, "A learning-rate schedule for stochastic gradient
    methods to matrix factorization", PAKDD 2015; the schedule of LIBMF): AdaGrad with one accumulator per
    factor row. Each user row and item row carries a scalar ``G`` that starts at 1 and the step is::

        p_u −= γ / √G_u · g_p,     q_i −= γ / √G_i · g_q
        b_u += γ / √G_u · (e − λ_b b_u),     b_i += γ / √G_i · (e − λ_b b_i)
        G_u += ‖g_p‖² / d,          G_i += ‖g_q‖² / d     (after the step; biases add nothing to G)

    so rows updated often or with large gradients take smaller steps. The accumulators are training state,
    not parameters: they live for one ``fit`` (in the model's dtype), restart at 1 with every ``fit`` and are
    neither in ``parameters_`` nor saved.

    Explanations and who to follow:
    ``explain`` (models/_explain.py): the bias parts and ``p_u·q_i`` as the user's own part; they sum to
    ``predict`` (inside the rating scale). Then the user's rated items most similar to the candidate (cosine of
    ``q``): a similarity, not a part of the sum. ``recommend_users``: the friends-of-friends fallback
    (models/_follow.py).

    Parameters
    ----------
    factors : int, default 10
        Latent dimension ``d``.
    epochs : int, default 18
        Passes over the ratings.
    learning_rate : float, default 0.014
        SGD step ``γ`` (with ``"adaptive"``, the step of a row before its first update: LIBMF's ``eta``,
        typically 0.1).
    learning_rate_schedule : {"constant", "adaptive"}, default "constant"
        ``"constant"``: every step is ``γ``. ``"adaptive"``: the per-row RPCS schedule above, which reaches a
        lower RMSE in the same epochs on most data (CPU only for now: ``device="cuda"`` raises, ``"auto"``
        trains on the CPU).
    learning_rate_decay : float in (0, 1], default 1.0
        Epoch ``e`` (from 0) steps with ``γ · decay^e`` (with ``"adaptive"``, its first-step rate). Below 1 the
        late epochs take smaller steps, which lowers the noise a constant step leaves in the factors; PMF with a
        positive start (``init="uniform"``), ``γ`` .1 and decay .9 reaches LIBMF's test RMSE in the same
        epochs (bench/README.md).
    regularization : float, default 0.2
        ``λ`` on the factor rows.
    bias_regularization : float, default 0.09
        ``λ_b`` on the biases.
    regularization_scaling : {"occurrence", "sqrt_count", "count"}, default "occurrence"
        How a row's penalty grows with its number of ratings ``c``: every rating carries ``λ`` (``"occurrence"``,
        a total of ``λ c`` per row), ``λ c^-½`` (``"sqrt_count"``, total ``λ √c``: the weighted λ of TrustSVD,
        Guo, Zhang, Yorke-Smith, AAAI 2015, eq. 6, as LibRec applies it per rating) or ``λ / c`` (``"count"``,
        total ``λ``: one penalty per parameter, as a batch ridge). The weighted forms shrink rarely rated rows
        relatively more, which sparse data needs: tuned with 20 trials each, Epinions validation RMSE 1.0326
        (``"sqrt_count"``) against 1.0350 (``"occurrence"``) and 1.0355 (``"count"``); the weighted forms take a larger
        ``λ`` (bench/README.md "Penalty scaling"). Constant schedule only, CPU only for now (``device="cuda"``
        raises, ``"auto"`` trains on the CPU).
    biased : bool, default True
        ``False`` gives PMF (no biases, no global mean).
    init : {"normal", "uniform"}, default "normal"
        ``"normal"``: factors start as ``N(0, init_std²)``. ``"uniform"``: as ``U[0, init_std)``, every
        coordinate positive (the start LIBMF uses), so that all rows share a direction in which PMF's ``p·q``
        can learn the rating mean quickly; with ``biased=True`` the biases carry the mean and it matters little.
        Either way users and items without training ratings start (and stay) at 0.
    init_std : float, default 0.1
        Scale of the initial factors (see ``init``).
    seed : int or None, default 0
        Fixes the initial parameters and every visiting order (same seed, same result on any thread count).
    num_threads : int, default 0
        Threads (0 = all cores). The rating pass is stratified: results do not depend on it.
    dtype : {"float32", "float64", "float16"}, default "float32"
        ``"float16"`` (CUDA only) stores the factor matrices in half precision; compute stays float32.
    device : {"auto", "cpu", "cuda"}, default "auto"
        ``"auto"``: the CPU until the CUDA kernels have passed the GPU suite on a real device
        (``socialrec/_gpu_status.py``); then CUDA when socialrec was built with it, a device is present and
        CuPy is installed (and dtype is not float64), else the CPU. ``"cuda"`` opts in explicitly (it warns
        once that the kernels are unverified until then). On CUDA the rating pass is batch-Hogwild SGD (one warp per
        update, Xie et al. HPDC 2017): not bit-reproducible, same objective and step; parameters are CuPy
        arrays, and ``fit`` takes ``cupyx.scipy.sparse`` (or dense CUDA) ratings without copying them to the
        host.
    progress : bool, default False
        Show a progress bar over epochs.
    privacy : socialrec.privacy.PrivacyBudget or None, default None
        Train by DP-SGD (``socialrec.privacy``): Poisson-sampled units, each unit's contribution to the
        released item factors and biases clipped and noised for the budget's (ε, δ) and unit; user factors and
        biases stay on the user's side. ``μ`` is then released privately (a noisy mean of the users' mean ratings,
        accounted with the rest). ``privacy_`` reports the mechanism. CPU, constant schedule only.

    Defaults (issue 15's protocol, bench/README.md "Defaults protocol"): ``d = 10``; the rest were chosen on
    FilmTrust *and* Epinions together -- on each, a validation part (10% of the judged split's training part; the
    test parts were never read) gives the tuned optimum (``sr.tune``, 30 trials), and the setting with the smallest
    worst validation gap to those optima over both data sets became the default: ``epochs = 18``, ``learning_rate =
    0.014``, ``regularization = 0.2``, ``bias_regularization = 0.09`` (the Epinions optimum, rounded). Surprise's
    SVD settings (γ .005, λ = λ_b = .02, 20 epochs), the earlier defaults, were within .004 of the optimum on
    FilmTrust but .006 behind on sparse Epinions, where every rare item needs the stronger penalty.
    """

    # sr.tune's default search space (socialrec.tuning.resolve_search_space); epochs come from early stopping
    search_space = with_penalty_scaling({"learning_rate": ("log", 1e-3, 0.05), "regularization": ("log", 1e-3, 0.5),
                                         "bias_regularization": ("log", 1e-3, 0.5)})
    _params = {"factors": 10, "epochs": 18, "learning_rate": 0.014, "learning_rate_schedule": "constant",
               "learning_rate_decay": 1.0, "regularization": 0.2, "bias_regularization": 0.09,
               "regularization_scaling": "occurrence", "biased": True, "init": "normal", "init_std": 0.1,
               "privacy": None}
    _fitted_params = SGDModel._fitted_params + ("biased",)  # the bias arrays exist only with biased=True
    _BIAS_PARAMETERS = ("user_bias", "item_bias", "global_bias")  # load: the arrays a fitted model holds
    _checks = {"learning_rate_schedule": (lambda v: v in SCHEDULES, "'constant' or 'adaptive'"),
               "learning_rate_decay": (lambda v: _is_real(v) and 0 < v <= 1, "a number in (0, 1]"),
               "init": (lambda v: v in INITS, "'normal' or 'uniform'"),
               "regularization_scaling": (lambda v: v in SCALINGS, "'occurrence', 'sqrt_count' or 'count'"),
               "privacy": (is_budget, "None or a socialrec.privacy.PrivacyBudget")}

    def _check_extra(self):
        super()._check_extra()
        if self.regularization_scaling != "occurrence" and self.learning_rate_schedule != "constant":
            raise ValueError(f"regularization_scaling={self.regularization_scaling!r} needs "
                             "learning_rate_schedule='constant' (the weighted penalties have no RPCS step yet)")
        if self.privacy is not None and self.learning_rate_schedule != "constant":
            raise ValueError("BiasedMF: privacy= trains with learning_rate_schedule='constant' only")
        if self.privacy is not None and self.regularization_scaling != "occurrence":
            raise ValueError("BiasedMF: privacy= trains with regularization_scaling='occurrence' only (the private "
                             "step has no per-row penalty weights)")

    def _cuda_training_unsupported(self):
        if self.learning_rate_schedule != "constant":
            return f"learning_rate_schedule={self.learning_rate_schedule!r}"
        if self.regularization_scaling != "occurrence":
            return f"regularization_scaling={self.regularization_scaling!r}"
        return "privacy=" if self.privacy is not None else None

    def _init_parameters(self, train, rng):
        draw = self._normal if self.init == "normal" else self._uniform
        items = self._dp_item_rows(rated_mask(train.ratings, 0))
        p = {"user_factors": draw(rng, (train.n_users, self.factors), rated_mask(train.ratings, 1)),
             "item_factors": draw(rng, (train.n_items, self.factors), items)}
        if self.biased:
            p["user_bias"] = np.zeros(train.n_users, self._np_dtype)
            p["item_bias"] = np.zeros(train.n_items, self._np_dtype)
            p["global_bias"] = np.array(float(train.ratings.data.mean()), dtype=self._np_dtype)  # privacy: replaced
        return p

    def _uniform(self, rng, shape, active):
        """U[0, init_std) draws (always drawn, as ``_normal``); rows without observations are zero."""
        x = (rng.random(size=shape) * self.init_std).astype(self._np_dtype)
        x[~active] = 0
        return x

    def epoch_learning_rate(self, epoch):
        """``γ · learning_rate_decay^epoch``: the step (RPCS: the first-step rate) of epoch ``epoch`` (from 0)."""
        return self.learning_rate * self.learning_rate_decay ** epoch

    def _hyper(self):
        mu = float(self.parameters_["global_bias"]) if self.biased else 0.0
        return {"factors": self.factors, "biased": self.biased, "global_bias": mu,
                "learning_rate": self.learning_rate, "adaptive": self.learning_rate_schedule == "adaptive",
                "regularization": self.regularization, "bias_regularization": self.bias_regularization,
                "weighted": self.regularization_scaling != "occurrence"}

    _penalty_weights = PenaltyScalingMixin._penalty_weights  # the weights from data's counts |I_u|, |U_i|

    def _prepare(self, train):
        if self.privacy is not None:
            return self._private_prepare(train)
        state = {"grid": self._rating_grid(train), "hyper": self._hyper(), "schedule": {}}
        if self.regularization_scaling != "occurrence":
            state["grid"] = {**state["grid"], **self._penalty_weights(train)}
        if self.learning_rate_schedule == "adaptive":  # RPCS accumulators G, one per row, 1 at the start
            state["schedule"] = {"user_accumulators": np.ones(train.n_users, self._np_dtype),
                                 "item_accumulators": np.ones(train.n_items, self._np_dtype)}
        return state

    def _run_epoch(self, state, settings):
        if "dp" in state:
            return self._private_epoch(state, settings)
        hyper = {**state["hyper"], "learning_rate": self.epoch_learning_rate(settings["epoch"])}
        return _core.biased_mf_epoch({**self.parameters_, **state["grid"], **state["schedule"]}, hyper, settings)

    def _prepare_cuda(self, train):
        """Device training state: the records (users, items, values) shuffled once (cuda/sgd.hpp)."""
        cp, mod = _gpu.cupy_module(), _gpu.cuda_module()
        users, items, values = train.user_item_arrays()
        keys = cp.empty(len(values), dtype=cp.uint64)
        mod.shuffle_keys(_gpu.ptr(keys), len(values), self.seed_, _gpu.stream_ptr())
        order = cp.argsort(keys)
        del keys
        return {"users": cp.ascontiguousarray(users[order], dtype=cp.int32),
                "items": cp.ascontiguousarray(items[order], dtype=cp.int32),
                "values": cp.ascontiguousarray(values[order], dtype=cp.float32),
                "loss": cp.zeros(1, dtype=cp.float64), "hyper": self._hyper()}

    def _run_epoch_cuda(self, state, settings):
        hyper = {**state["hyper"], "learning_rate": self.epoch_learning_rate(settings["epoch"])}
        return device.run_epoch("biased_mf_epoch", {**self.parameters_, **state}, hyper, settings)

    def _dp_step(self, engine, released, private):
        """The C++ DP-SGD step (``_core.dp_mf_step``, cpp/include/socialrec/dp_sgd.hpp)."""
        hyper = {**self._hyper(), "clip_norm": engine.budget.clip_norm,
                 "noise_scale": engine.noise_multiplier * engine.budget.clip_norm}

        def step(params, sampled, noise, rate):
            _core.dp_mf_step({**params, **engine.kernel_arrays(sampled, noise)}, {**hyper, "learning_rate": rate})
        return step

    def _dp_gradients(self, params, users, items, values):
        """Per-rating gradients of the rating terms (reference/dp_biased_mf.py rule 3), float64."""
        p = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
        P, Q = p["user_factors"][users], p["item_factors"][items]
        prediction = np.einsum("ij,ij->i", P, Q)
        if self.biased:
            prediction += p["global_bias"] + p["user_bias"][users] + p["item_bias"][items]
        e = (values - prediction)[:, None]
        g = {"item_factors": self.regularization * Q - e * P, "user_factors": self.regularization * P - e * Q}
        if self.biased:
            g["item_bias"] = self.bias_regularization * p["item_bias"][items] - e[:, 0]
            g["user_bias"] = self.bias_regularization * p["user_bias"][users] - e[:, 0]
        return g

    def _scoring_parts(self):
        p = self.parameters_
        parts = {"user_vectors": p["user_factors"], "item_vectors": p["item_factors"]}
        if self.biased:
            parts.update(user_bias=p["user_bias"], item_bias=p["item_bias"], global_bias=float(p["global_bias"]))
        return parts

    def _loss(self, data):
        users, items, values = data.user_item_arrays()
        p = {k: np.asarray(v, dtype=np.float64) for k, v in self.parameters_.items()}
        P, Q = p["user_factors"][users], p["item_factors"][items]
        w = self._penalty_weights(data)
        wu, wi = w["user_weight"][users], w["item_weight"][items]
        pred = np.einsum("ij,ij->i", P, Q)
        reg = self.regularization * (wu * np.einsum("ij,ij->i", P, P) + wi * np.einsum("ij,ij->i", Q, Q))
        if self.biased:
            bu, bi = p["user_bias"][users], p["item_bias"][items]
            pred = pred + p["global_bias"] + bu + bi
            reg = reg + self.bias_regularization * (wu * bu * bu + wi * bi * bi)
        e = values - pred
        return 0.5 * np.sum(e * e) + 0.5 * np.sum(reg)
