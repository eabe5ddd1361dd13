"""SoReg: matrix factorisation with social regularisation."""
from __future__ import annotations

import numpy as np

from .. import _core, _engine, _gpu
from .._arrays import bincount, chunks, expand_rows, map_chunks, rows_of, sorted_member
from . import device
from .base import NON_NEGATIVE, register
from ._explain import bias_parts, host64, pull_parts, row_weights
from ._follow import fitted_trust
from .device import DeviceMixin
from .sgd import PenaltyScalingMixin, SGDModel, factor_scoring_parts, rated_mask, with_penalty_scaling
from ._social import has_rows, row_normalised, trust_csr

SIMILARITIES = (None, "pcc", "vss")
REGULARIZERS = ("SR1", "SR2")


@register
class SoReg(DeviceMixin, PenaltyScalingMixin, SGDModel):
    """SoReg: PMF whose user factors are pulled towards those of the users they trust, weighted by how
    similarly the two rate (Ma, Zhou, Liu, Lyu, King, "Recommender systems with social regularization",
    WSDM 2011).

    Prediction ``r̂_ui = μ + b_u + b_i + U_u·V_i`` (identity link) with user and item biases ``b_u``,
    ``b_i`` as plain additive terms (Koren, Bell, Volinsky, "Matrix factorization techniques for recommender
    systems", IEEE Computer 2009; our addition, ``biased=True``), or ``r̂_ui = μ + U_u·V_i`` with
    ``biased=False``, the paper's model. ``μ`` is the training mean, held fixed: the paper's ``U_u·V_i``
    fitted to the centred ratings ``r − μ``. The constant is our choice: it makes users and items without
    training ratings predict ``μ`` instead of 0 (on FilmTrust about 2.5% of held-out ratings have an item
    unseen in training; predicting 0 for them costs about .1 RMSE). Why biases: on sparse data (Epinions)
    the paper's model loses to plain BiasedMF; a prototype on FilmTrust (validation part of the 80/20 training
    split, small random search) gave validation RMSE .8195 for linear biases with a trust pull against
    .8211 for BiasedMF. Objective (DESIGN §4), a sum over observations, with ``e_ui = r_ui − r̂_ui``::

        rating (u, i):         ½ e_ui² + ½ λ (‖U_u‖² + ‖V_i‖²) + ½ λ_b (b_u² + b_i²)   (no λ_b term unbiased)
        SR2, trust edge u→f:   ½ β Sim(u, f) ‖U_u − U_f‖²                       (regularizer="SR2", model 2)
        SR1, user u:           ½ β ‖U_u − Σ_f Sim(u, f) U_f / Σ_f Sim(u, f)‖²    (regularizer="SR1", model 1)

    ``f`` runs over u's out-neighbours (the users u trusts). ``Sim`` is 1 (``similarity=None``), the
    Pearson correlation mapped to [0, 1] by ``(1 + PCC)/2`` (``"pcc"``), or the cosine (``"vss"``), both
    over the items u and f both rated (the paper's Section 4 similarity functions), computed in C++ once
    before training (``socialrec._core.edge_similarity``; NumPy twin ``socialrec.reference.soreg.
    edge_similarity``). A pair without co-rated items (or with a zero PCC denominator) gets Sim 0, so its
    edge carries no social term; so does an edge with a negative cosine (VSS on a scale with negative
    ratings): training and ``loss`` use the edges with Sim > 0 only. ``loss(data)`` computes Sim from
    ``data``'s own ratings.

    Gradient of a rating's term: ``−e V_i + λ U_u`` on ``U_u``, ``−e U_u + λ V_i`` on ``V_i``, ``−e + λ_b b``
    on ``b_u`` and on ``b_i``; of an SR2 term: ``β Sim (U_u − U_f)`` on ``U_u`` and its negative on ``U_f``.

    Training: each epoch runs the rating pass (BiasedMF's SGD step on ``r − μ``, or PMF's without biases;
    stratified grid, thread-count independent), then the
    social pass: one step per trust edge (SR2) or per user with trust (SR1). Those steps move two or more
    user rows, so the social pass runs in one shuffled order when ``deterministic=True`` and lock-free over
    threads (Hogwild) otherwise; both reach the same accuracy (tested within 1%).

    Users with trust but no ratings start at random factors (if some edge keeps Sim > 0) and learn only
    from the social term: with SR2 they converge to a Sim-weighted mean of the users they trust and of the
    users who trust them; with SR1 they are pulled to the mean of the users they trust. With
    ``similarity="pcc"``/``"vss"`` such a user has no co-rated items, so every edge it has gets Sim 0 and
    it stays at zero (predicting the training mean ``μ``, like any user whose factors are zero). Users
    without trust are plain PMF users.

    Explanations and who to follow:
    ``explain`` (models/_explain.py): the biases and ``U_u·V_i`` split over the trustees ``f`` the social term
    pulls ``U_u`` to, each with weight ``1/|F_u|`` (``Sim`` needs the training ratings, not kept after fit):
    ``w U_f·V_i`` per trustee and the user's deviation from their mean. The parts sum to ``predict`` (inside
    the rating scale); then the most similar rated items (not parts). ``recommend_users``: the
    friends-of-friends fallback.

    Parameters
    ----------
    factors : int, default 10
        Latent dimension ``d``.
    epochs : int, default 60
        Passes over the ratings (each followed by one social pass).
    learning_rate : float, default 0.01
        SGD step ``γ``.
    regularization : float, default 0.1
        ``λ`` on ``U_u`` and ``V_i``, once per rating (λ₁ = λ₂ in the paper).
    bias_regularization : float, default 0.1
        ``λ_b`` on ``b_u`` and ``b_i``, once per rating (unused with ``biased=False``).
    regularization_scaling : {"occurrence", "sqrt_count", "count"}, default "occurrence"
        How the rating term's penalties (λ on ``U_u`` and ``V_i``, λ_b on ``b_u``, ``b_i``) are spread over the
        ratings: each rating carries them weighted by 1, ``c^-½`` or ``1/c``, ``c`` the row's training count
        (``|I_u|`` for a user row, ``|U_i|`` for an item row), so that a row's penalty totals ``λ c``, ``λ √c``
        (TrustSVD's weighted λ, Guo et al. AAAI 2015 eq. 6) or ``λ`` (as BiasedMF's; issue 15). The social term has
        no L2 penalty to scale. CPU only: ``device="cuda"`` refuses the weighted forms and ``"auto"`` trains them on
        the CPU.
    biased : bool, default True
        User and item biases in the prediction; ``False`` is the paper's model (no ``user_bias``/``item_bias``).
    social_regularization : float, default 0.1
        ``β``, the weight of the social term.
    regularizer : {"SR2", "SR1"}, default "SR2"
        Individual-based (SR2, the paper's better model) or average-based (SR1) regularisation.
    similarity : {"pcc", "vss", None}, default "pcc"
        Edge similarity; ``None`` weighs every edge 1.
    deterministic : bool, default True
        Run the social pass in one order on one thread (bit-reproducible for every ``num_threads``);
        ``False``: lock-free over threads (Hogwild), the faster opt-in on several threads
        (bench/README.md, "Deterministic by default").
    init_std : float, default 0.1
        Factors start as ``N(0, init_std²)``; users and items that take part in no observation stay 0.
    seed, num_threads, progress
        As in :class:`BiasedMF` (same defaults).
    dtype : {"float32", "float64", "float16"}, default "float32"
        ``"float16"`` (CUDA only) stores the factor matrices in half precision; compute stays float32.
    device : {"auto", "cpu", "cuda"}, default "auto"
        Both ``biased`` settings train on CUDA. On CUDA the rating pass is BiasedMF's batch-Hogwild pass on
        ``r − μ`` (its biased step with μ = 0, or its PMF step with ``biased=False``); the SR2 pass runs one warp
        per edge and the SR1 pass one warp per user, Hogwild (docs/CUDA.md). ``Sim`` is computed once per fit
        on the device (``co_rated_similarity``: the C++ kernel's values to float64 rounding), and so are the
        records and SR1's weights, so ``cupyx.scipy.sparse`` ratings and trust are never copied to the host.
        Same steps and objective; ``deterministic`` applies to the CPU only.

    Defaults: ``d = 10`` and SR2 with PCC, the combination Ma et al. report best; Guo, Zhang, Yorke-Smith
    (AAAI 2015, Table 2) report SoReg at RMSE .875 on FilmTrust at d = 10. ``β``, ``γ``, ``λ`` and the
    number of epochs are our choice on a validation split of FilmTrust (80/20, seed 1; bench/README.md);
    the paper tunes β per data set.
    """

    uses_trust = True  # trains on the trust graph (sr.compare's social group)
    # issue 19: no DP-SGD (docs/PRIVACY.md "Models without a private fit"); base.Model.__init__ raises this
    _privacy_refusal = ("its social regularizer couples U_u with the trustees' U_v (both user-side, each shaped "
                        "by its own user's ratings) and its similarity weights read both users' ratings, so one "
                        "user's data would reach the released item factors through other users' contributions")
    # sr.tune's default search space (socialrec.tuning.resolve_search_space); epochs come from early stopping
    search_space = with_penalty_scaling({
        "learning_rate": ("log", 1e-3, 0.05), "regularization": ("log", 1e-3, 1.0),
        "social_regularization": ("log", 1e-3, 1.0), "bias_regularization": ("log", 1e-4, 0.5)})
    _params = {"factors": 10, "epochs": 60, "learning_rate": 0.01, "regularization": 0.1,
               "bias_regularization": 0.1, "biased": True, "social_regularization": 0.1, "regularizer": "SR2",
               "similarity": "pcc", "deterministic": True, "init_std": 0.1}
    _fitted_params = SGDModel._fitted_params + ("biased",)  # the bias arrays exist only with biased=True
    _PARAMETERS = ("user_factors", "item_factors", "global_bias")
    _BIAS_PARAMETERS = ("user_bias", "item_bias")
    _checks = {
        "social_regularization": NON_NEGATIVE,
        "regularizer": (lambda v: v in REGULARIZERS, "'SR2' or 'SR1'"),
        "similarity": (lambda v: v in SIMILARITIES, "None, 'pcc' or 'vss'"),
    }


    # -- training state --------------------------------------------------------------------------------
    def _edge_similarity(self, data):
        """Sim of every trust edge of ``data`` in CSR order: the C++ kernel on the host, ``co_rated_similarity``
        on the device for a CUDA fit's ``DeviceRatings``."""
        xp = _gpu.array_module(data)
        if self.similarity is None:
            return xp.ones(data.trust.nnz, dtype=xp.float64)
        if xp is not np:
            src, dst, _ = data.trust_arrays()
            return co_rated_similarity(data.indptr, data.indices, data.data, data.n_items, src, dst,
                                       self.similarity, xp)
        r = data.ratings
        src, dst, _ = data.trust_arrays()
        return _core.edge_similarity(r.indptr.astype(np.int64), r.indices.astype(np.int32),
                                     r.data.astype(np.float32), src, dst, self.similarity,
                                     _engine.resolve_threads(self.num_threads))

    def _init_parameters(self, train, rng):
        self._train_sim = self._edge_similarity(train)  # kept for _prepare / _prepare_cuda, which drop it
        return _initial_parameters(self, train, rng, self._train_sim)

    def _hyper(self):
        return {"factors": self.factors, "average_based": self.regularizer == "SR1", "biased": self.biased,
                "learning_rate": self.learning_rate, "regularization": self.regularization,
                "bias_regularization": self.bias_regularization,
                "social_regularization": self.social_regularization, **self._scaling_hyper()}

    def _prepare(self, train):
        sim = self.__dict__.pop("_train_sim", None)
        sim = self._edge_similarity(train) if sim is None else sim
        return {"arrays": {**_centred_grid(self, train, self.parameters_["global_bias"]),
                           **_social_state(train, sim, self.regularizer), **self._weight_arrays(train)},
                "hyper": self._hyper()}

    def _run_epoch(self, state, settings):
        return _core.soreg_epoch({**self.parameters_, **state["arrays"]}, state["hyper"], settings)

    def _prepare_cuda(self, train):
        """Device state, built on the device: rating records (u, i, r - mu) shuffled once; SR2 the edges
        (u, f, Sim) with Sim > 0, shuffled once; SR1 the users with sum Sim > 0 and their kept out-edges with
        weights Sim / sum Sim. Sim comes from ``co_rated_similarity`` over the device ratings."""
        cp = _gpu.cupy_module()
        sim = self.__dict__.pop("_train_sim", None)
        sim = self._edge_similarity(train) if sim is None else sim
        users, items, values = train.user_item_arrays()
        mu = float(self.parameters_["global_bias"])
        state = {"ratings": device.records(self.seed_, 0, users, items,
                                           (values.astype(cp.float64) - mu).astype(cp.float32)),
                 "loss": cp.zeros(2, dtype=cp.float64), "hyper": self._hyper()}
        keep = sim > 0
        if self.regularizer == "SR2":
            src, dst, _ = train.trust_arrays()
            state["edges"] = device.records(self.seed_, 1, src[keep], dst[keep], sim[keep].astype(cp.float32))
        else:
            offsets, trust_dst, trust_sim = trust_csr(train.trust, keep=keep, weights=sim, xp=cp)
            state["users"] = device.mean_pull_state(self.seed_, 2, offsets, trust_dst,
                                                    row_normalised(offsets, trust_sim, xp=cp))
        return state

    def _run_epoch_cuda(self, state, settings):
        return device.run_epoch("soreg_epoch", {**self.parameters_, **state}, state["hyper"], settings)

    _scoring_parts = factor_scoring_parts  # b + (b_u + b_i) + U_u·V_i, the biases with biased

    def _explain_parts(self, u, i):
        """explain's parts: the biases and ``U_u·V_i`` split over the trustees ``f`` the social term pulls
        ``U_u`` to, each with weight ``1/|F_u|`` (``_explain.pull_parts``; ``Sim`` needs the training ratings,
        which the fitted model does not keep)."""
        U = self.parameters_["user_factors"]
        q = host64(self.parameters_["item_factors"][i])
        graph = fitted_trust(self)
        neighbours, weights = row_weights(graph, u, np.ones(graph.indptr[u + 1] - graph.indptr[u]))
        return bias_parts(self, u, i) + pull_parts(u, host64(U[u]), neighbours, weights, U, q)

    # -- objective ---------------------------------------------------------------------------------------
    def _loss(self, data):
        return objective(self, self.parameters_, data, self._edge_similarity(data))


def _initial_parameters(model, train, rng, sim):
    """N(0, init_std²) factors; zero rows for users in no rating and no edge with Sim > 0, and for items
    without ratings; zero biases (``biased``). (For a CUDA fit the users' mask is made on the device and only it comes to the host.)"""
    xp = _gpu.array_module(train)
    src, dst, _ = train.trust_arrays()
    keep = sim > 0
    linked = xp.zeros(train.n_users, dtype=bool)
    linked[src[keep]] = True
    linked[dst[keep]] = True
    users = rated_mask(train.ratings, 1) | _gpu.to_host(linked)
    p = {"user_factors": model._normal(rng, (train.n_users, model.factors), users),
         "item_factors": model._normal(rng, (train.n_items, model.factors), rated_mask(train.ratings, 0)),
         "global_bias": np.array(float(train.ratings.data.mean()), dtype=model._np_dtype)}
    if model.biased:  # b_u = b_i = 0 (no draws: the factors' stream is the unbiased model's)
        p["user_bias"] = np.zeros(train.n_users, model._np_dtype)
        p["item_bias"] = np.zeros(train.n_items, model._np_dtype)
    return p


def co_rated_similarity(indptr, indices, values, n_items, src, dst, kind, xp):
    """Sim of each pair (src[e], dst[e]) over the items both rated, vectorised with the array module ``xp``
    (CuPy: a CUDA fit builds it on the device): the values of ``socialrec._core.edge_similarity``
    (cpp/include/socialrec/similarity.hpp; ``"pcc"`` → (1 + PCC)/2 with each user's mean over all their
    ratings, ``"vss"`` → cosine, 0 without co-rated items or with a zero denominator) to float64 rounding, as
    its sums run in another order. ``indptr``/``indices``/``values``: the ratings as a canonical CSR.

    For each edge, the shorter of the two users' rows is walked and each of its items looked up in the other's
    row (a binary search over the CSR's (row, item) keys), in chunks of about ``_arrays.PAIRS_PER_CHUNK``
    items, so the work and memory are Σ_e min(|I_u|, |I_f|)."""
    n_users = int(indptr.size) - 1
    n_edges = int(src.size)
    counts = xp.diff(indptr)
    values = values.astype(xp.float64)
    rows = rows_of(indptr, xp)
    mean = xp.zeros(n_users, dtype=xp.float64)
    if kind == "pcc":
        mean = bincount(rows, n_users, weights=values, xp=xp) / xp.maximum(counts, 1)
    keys = rows.astype(xp.int64) * int(n_items) + indices  # sorted: the CSR is canonical
    src, dst = src.astype(xp.int64), dst.astype(xp.int64)
    swap = counts[dst] < counts[src]
    a, b = xp.where(swap, dst, src), xp.where(swap, src, dst)  # walk a's row, search b's
    sums = xp.zeros((3, n_edges), dtype=xp.float64)  # Σ x y, Σ x², Σ y² with x on a's side
    cumulative = xp.zeros(n_edges + 1, dtype=xp.int64)
    cumulative[1:] = xp.cumsum(counts[a])
    for start, stop in (chunks(cumulative, xp=xp) if int(keys.size) else []):
        k, entry = expand_rows(indptr, a[start:stop], xp)
        found, where = sorted_member(keys, b[start:stop][k] * int(n_items) + indices[entry], xp)
        k, entry, where = k[found], entry[found], where[found]
        x = values[entry] - mean[a[start:stop][k]]
        y = values[where] - mean[b[start:stop][k]]
        for row, terms in enumerate((x * y, x * x, y * y)):
            sums[row, start:stop] = bincount(k, stop - start, weights=terms, xp=xp)
    num, su, sf = sums[0], xp.where(swap, sums[2], sums[1]), xp.where(swap, sums[1], sums[2])
    den = xp.sqrt(su) * xp.sqrt(sf)
    s = num / xp.where(den > 0, den, 1.0)
    return xp.where(den > 0, (1.0 + s) / 2.0 if kind == "pcc" else s, 0.0)


def _centred_grid(model, train, global_bias):
    """The rating grid with r − μ as record values (float32)."""
    grid = model._rating_grid(train)
    mu = float(global_bias)
    map_chunks(lambda v: v.astype(np.float64) - mu, grid["records"]["value"], grid["records"]["value"])  # in place
    return grid


def _social_state(train, sim, regularizer):
    """The arrays of the social pass: SR2 packed edges (u, f, Sim) with Sim > 0; SR1 the users with
    Σ Sim > 0 and the CSR of their kept out-edges (float64 Sim)."""
    src, dst, _ = train.trust_arrays()
    keep = sim > 0
    if regularizer == "SR2":
        return {"edges": _engine.pack_edges(src[keep], dst[keep], sim[keep].astype(np.float32))}
    offsets, trust_dst, trust_sim = trust_csr(train.trust, keep=keep, weights=sim)
    users = np.flatnonzero(has_rows(offsets)).astype(np.int32)
    return {"social_users": users, "trust_offsets": offsets, "trust_dst": trust_dst, "trust_sim": trust_sim}


def objective(model, params, data, sim):
    """The SoReg objective at ``params`` on ``data`` with edge similarities ``sim`` (vectorised)."""
    U = np.asarray(params["user_factors"], dtype=np.float64)
    V = np.asarray(params["item_factors"], dtype=np.float64)
    users, items, values = data.user_item_arrays()
    Uu, Vi = U[users], V[items]
    centred = (values.astype(np.float64) - float(params["global_bias"])).astype(np.float32)
    e = centred - np.einsum("ij,ij->i", Uu, Vi)
    biases = None
    if model.biased:
        biases = (np.asarray(params["user_bias"], dtype=np.float64), np.asarray(params["item_bias"], dtype=np.float64))
        e = e - biases[0][users] - biases[1][items]
    # the penalties with regularization_scaling's weights (PenaltyScalingMixin._rating_penalty)
    total = 0.5 * np.sum(e * e) + model._rating_penalty(data, users, items, U, V, biases)
    src, dst, _ = data.trust_arrays()
    beta = model.social_regularization
    if model.regularizer == "SR2":
        d = U[src] - U[dst]
        # the pass weighs edges with float32 Sim and skips those with Sim <= 0 (a negative cosine, possible
        # with negative ratings, would otherwise reward pulling the two users apart)
        w = np.where(sim > 0, sim.astype(np.float32).astype(np.float64), 0.0)
        return total + 0.5 * beta * np.sum(w * np.einsum("ij,ij->i", d, d))
    keep = sim > 0
    offsets, trust_dst, trust_sim = trust_csr(data.trust, keep=keep, weights=sim)
    counts = np.diff(offsets)
    rows = np.flatnonzero(counts > 0)
    if rows.size == 0:
        return total
    owner = np.repeat(np.arange(data.n_users), counts)
    weighted = np.zeros_like(U)
    np.add.at(weighted, owner, trust_sim[:, None] * U[trust_dst])
    totals = np.bincount(owner, weights=trust_sim, minlength=data.n_users)
    D = U[rows] - weighted[rows] / totals[rows, None]
    return total + 0.5 * beta * np.sum(D * D)
