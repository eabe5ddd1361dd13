"""BPR: Bayesian personalised ranking (matrix factorisation with item biases), trained on sampled triples."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .. import _core, _gpu
from .._arrays import bincount, chunks, expand_rows, offsets_of, rows_of, sorted_member
from . import device
from .base import register
from .device import DeviceMixin
from .ranking import RankingModel
from .sgd import SGDModel

# Budget of one dense block of pairwise terms in ``_loss`` (rows x items float64 values).
_LOSS_BLOCK = 1 << 21


@register
class BPR(DeviceMixin, RankingModel, SGDModel):
    """Bayesian personalised ranking (BPR-MF) for implicit feedback.

    Every stored entry of the training matrix is a positive interaction (its value is ignored). The score of
    user ``u`` for item ``i`` is ``x_ui = b_i + p_u·q_i``; ``predict`` returns it and ``recommend`` ranks by it.

    Objective (Rendle et al. 2009, BPR-Opt, eq. 4, with the MF derivatives of sec. 5.2), a sum over the
    sampled triples ``(u, i⁺, j⁻)`` of one epoch::

        −ln σ(x_ui − x_uj) + ½ λ (‖p_u‖² + ‖q_i‖² + ‖q_j‖²) + ½ λ_b (b_i² + b_j²)

    An epoch draws ``n`` triples (``n`` = the number of training interactions of users who have at least one
    unconsumed item): ``(u, i⁺)`` is a uniformly drawn training interaction and ``j⁻`` is uniform over the
    items ``u`` has not interacted with (rejection sampling), and one SGD step (LearnBPR) is taken on each.
    The draws come from SplitMix64 streams fixed by ``(seed, epoch)``: the samples are cut into chunks of
    4096, chunk ``c`` draws from ``stream_seed(seed, epoch, 3, c)`` (see ``socialrec.reference.bpr``).

    ``loss(data)`` reports the expectation of an epoch's sum under this sampling, computed exactly::

        Σ_(u,i⁺) 1/|J_u| Σ_(j ∈ J_u) [−ln σ(x_ui − x_uj) + ½ λ (‖p_u‖² + ‖q_i‖² + ‖q_j‖²) + ½ λ_b (b_i² + b_j²)]

    over ``data``'s interactions ``(u, i⁺)``, ``J_u`` the items ``u`` has no interaction with in ``data``.
    This is the function whose unbiased estimate each epoch descends (``history[e]["loss"]`` estimates it
    during epoch ``e``). It costs ``O(nnz · n_items)`` (seconds on LastFM-2k).

    References: S. Rendle, C. Freudenthaler, Z. Gantner, L. Schmidt-Thieme, "BPR: Bayesian personalized
    ranking from implicit feedback", UAI 2009.

    Explanations and who to follow:
    ``explain`` (models/_explain.py): the item bias and ``p_u·q_i`` (the user's own part), which sum to the
    score; then the most similar consumed items (cosine of ``q``, not parts). ``recommend_users``: the
    friends-of-friends fallback (models/_follow.py).

    Parameters
    ----------
    factors : int, default 10
        Latent dimension ``d``.
    epochs : int, default 100
        Passes; each draws as many triples as there are training interactions.
    learning_rate : float, default 0.05
        SGD step ``γ``.
    regularization : float, default 0.01
        ``λ`` on the user and item factor rows.
    bias_regularization : float, default 0.01
        ``λ_b`` on the item biases.
    init_std : float, default 0.1
        Factors start as ``N(0, init_std²)``; users without interactions have zero factors (they are ranked
        by the item biases); item biases start at 0.
    deterministic : bool, default True
        ``True``: the chunks of samples run in order on one thread (same seed, same result on any thread
        count, equal to ``socialrec.reference``). ``False``: threads run the same chunks lock-free (Hogwild,
        Niu et al. 2011), faster on several threads, not bit-reproducible but of the same quality
        (bench/README.md, "Deterministic by default").
    seed : int or None, default 0
        Fixes the initial parameters and every sample.
    num_threads : int, default 0
        Threads in the parallel mode (0 = all cores).
    dtype : {"float32", "float64", "float16"}, default "float32"
        ``"float16"`` (CUDA only) stores the factor matrices in half precision (item biases float32).
    device : {"auto", "cpu", "cuda"}, default "auto"
        On CUDA the samples are drawn on the device (sample ``s`` of an epoch from a counter-based SplitMix64
        stream of ``(seed, epoch, s)``, the same draw rules as above) and stepped one warp per sample,
        Hogwild (docs/CUDA.md): other samples than the CPU's, the same distribution, step and objective.
        Each user's sorted items and the pool of positive pairs (SBPR: also the social items, counted from
        the trust edges) are built on the device, so ``cupyx.scipy.sparse`` interactions and trust are never
        copied to the host.
    progress : bool, default False
        Show a progress bar over epochs.

    The defaults: ``λ = 0.01`` and 100 epochs as in Cornac's and implicit's BPR; ``γ = 0.05`` is the rate
    that a validation split chose for Cornac BPR on LastFM-2k (PEERS.md); ``d = 10`` as the other models.
    """

    # sr.tune's default search space (socialrec.tuning.resolve_search_space); epochs come from early stopping
    search_space = {"learning_rate": ("log", 5e-3, 0.2), "regularization": ("log", 1e-4, 0.1),
                    "bias_regularization": ("log", 1e-4, 0.1)}
    _params = {"factors": 10, "epochs": 100, "learning_rate": 0.05, "regularization": 0.01,
               "bias_regularization": 0.01, "init_std": 0.1, "deterministic": True}
    _PARAMETERS = ("user_factors", "item_factors", "item_bias")

    def _validate_training_data(self, train):
        super()._validate_training_data(train)
        if train.n_items < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 items to rank, got {train.n_items}")
        xp = _gpu.array_module(train)
        counts = xp.diff(train.ratings.indptr)
        if not bool(xp.any((counts > 0) & (counts < train.n_items))):
            raise ValueError(f"{type(self).__name__}: no user has both a consumed and an unconsumed item, "
                             "so there is no (positive, negative) pair to learn from")

    def _init_parameters(self, train, rng):
        active = np.asarray(train.ratings.getnnz(axis=1)) > 0
        return {"user_factors": self._normal(rng, (train.n_users, self.factors), active),
                "item_factors": self._normal(rng, (train.n_items, self.factors)),
                "item_bias": np.zeros(train.n_items, self._np_dtype)}

    def _hyper(self):
        return {"factors": self.factors, "learning_rate": self.learning_rate,
                "regularization": self.regularization, "bias_regularization": self.bias_regularization}

    def _prepare(self, train):
        return {"arrays": interaction_arrays(train.ratings), "hyper": self._hyper()}

    def _run_epoch(self, state, settings):
        return _core.bpr_epoch({**self.parameters_, **state["arrays"]}, state["hyper"], settings)

    def _social_arrays(self, train, xp=np):
        """SBPR's social items (CSR of s_uk); None for BPR."""
        return None

    def _prepare_cuda(self, train):
        """Device state, built on the device: each user's sorted items, the pool of positive pairs (and SBPR's
        social items), the same arrays the CPU path builds on the host."""
        cp = _gpu.cupy_module()
        arrays = interaction_arrays(train, xp=cp)
        social = self._social_arrays(train, xp=cp)
        if social is not None:
            arrays.update(social)
        return {"arrays": arrays, "n_pool": int(len(arrays["pool_users"])),
                "loss": cp.zeros(1, dtype=cp.float64), "hyper": self._hyper()}

    def _run_epoch_cuda(self, state, settings):
        kernel = "sbpr_epoch" if "social_indptr" in state["arrays"] else "bpr_epoch"  # SBPR's social items
        return device.run_epoch(kernel, {**self.parameters_, **state["arrays"], "loss": state["loss"]},
                                state["hyper"], settings)

    def _scoring_parts(self):
        p = self.parameters_
        return {"user_vectors": p["user_factors"], "item_vectors": p["item_factors"], "item_bias": p["item_bias"]}

    def _loss(self, data):
        return expected_loss(self, data, social=False)


# ------------------------------------------------------------------------------------------------------------
# training state and the vectorised objective, shared with SBPR
# ------------------------------------------------------------------------------------------------------------
def binary(matrix):
    """The sparsity pattern of ``matrix`` as a canonical CSR matrix of float64 ones."""
    m = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
    m.sum_duplicates()
    m.sort_indices()
    m.data[:] = 1.0
    return m


def interaction_arrays(ratings, xp=np):
    """Sorted CSR rows of each user's items and the pool of positive pairs (interactions of users with at
    least one unconsumed item), as the C++ sampler and the reference take them. ``xp`` = CuPy: from a CUDA
    fit's ``DeviceRatings`` (canonical already), on the device."""
    if xp is not np:
        r = ratings
        indptr, indices = r.indptr.astype(xp.int64), r.indices.astype(xp.int32)
    else:  # a Dataset's CSR is canonical already: its int32 indices are used as they are, not copied
        r = ratings if sp.isspmatrix_csr(ratings) and ratings.has_canonical_format else binary(ratings)
        indptr, indices = np.asarray(r.indptr, dtype=np.int64), np.asarray(r.indices, dtype=np.int32)
    n_users, n_items = r.shape
    counts = xp.diff(indptr)
    users = rows_of(indptr, xp)
    keep = (counts < n_items)[users]
    if bool(keep.all()):  # the usual case (nobody consumed every item): the pool is every interaction, no copy
        return {"indptr": indptr, "indices": indices, "pool_users": users, "pool_items": indices}
    return {"indptr": indptr, "indices": indices, "pool_users": xp.ascontiguousarray(users[keep]),
            "pool_items": xp.ascontiguousarray(indices[keep])}


SOCIAL_PAIRS_PER_RUN = 1 << 20  # social_matrix: (friend, item) pairs per run, about 30 MiB of temporaries


def social_matrix(ratings, trust):
    """SBPR's social items: entry (u, k) = s_uk, the number of u's friends (trust out-neighbours) who consumed
    k, for the items k that u did not consume; canonical CSR of int32 counts."""
    r, f = binary(ratings), binary(trust)
    # Rows of trusters in runs of about SOCIAL_PAIRS_PER_RUN (friend, item) pairs, each run's product finished and
    # packed as int32 before the next: the product's float64 / int64 temporaries (several times the result,
    # which is often ten times the ratings) exist for one run at a time. Rows are independent: same result.
    pairs = np.zeros(f.shape[0] + 1, dtype=np.int64)  # pairs before each truster's first edge
    np.cumsum(bincount(rows_of(f.indptr), f.shape[0], weights=np.diff(r.indptr)[f.indices]).astype(np.int64),
              out=pairs[1:])
    counts, items, lengths = [], [], [np.zeros(1, dtype=np.int64)]
    for u0, u1 in chunks(pairs, limit=SOCIAL_PAIRS_PER_RUN) or [(0, f.shape[0])]:
        s = (f[u0:u1] @ r).tocsr()
        s = (s - s.multiply(r[u0:u1])).tocsr()
        s.eliminate_zeros()
        s.sort_indices()
        counts.append(np.rint(s.data).astype(np.int32))
        items.append(s.indices.astype(np.int32))
        lengths.append(np.diff(s.indptr).astype(np.int64))
    indptr = np.cumsum(np.concatenate(lengths))
    return sp.csr_matrix((np.concatenate(counts), np.concatenate(items), indptr), shape=(f.shape[0], r.shape[1]))


def device_social_matrix(ratings, trust, xp):
    """``social_matrix`` of a CUDA fit's ``DeviceRatings`` and ``DeviceTrust``, built on the device: for every
    edge u → f each item of f gives a key (u, k); equal keys are counted (``unique``) and u's own items
    dropped. Trusters are taken in runs of about ``_arrays.PAIRS_PER_CHUNK`` keys (a run holds whole users,
    so no count is split). Returns (indptr int64, items int32, counts int32), rows sorted: the arrays of
    ``social_matrix``."""
    n_users, n_items = ratings.shape
    src, dst, _ = trust.trust_arrays()
    own = rows_of(ratings.indptr, xp).astype(xp.int64) * n_items + ratings.indices  # sorted
    lengths = xp.diff(ratings.indptr)[dst]
    per_edge = xp.zeros(int(dst.size) + 1, dtype=xp.int64)
    per_edge[1:] = xp.cumsum(lengths)
    keys, counts = [], []
    for u0, u1 in chunks(per_edge[trust.indptr], xp=xp):  # cumulative keys at each truster's first edge
        e0, e1 = int(trust.indptr[u0]), int(trust.indptr[u1])
        k, entry = expand_rows(ratings.indptr, dst[e0:e1].astype(xp.int64), xp)
        if int(k.size) == 0:
            continue
        key, count = xp.unique(src[e0:e1][k].astype(xp.int64) * n_items + ratings.indices[entry],
                               return_counts=True)
        mine, _ = sorted_member(own, key, xp)
        keys.append(key[~mine])
        counts.append(count[~mine])
    keys = xp.concatenate(keys) if keys else xp.zeros(0, dtype=xp.int64)
    counts = xp.concatenate(counts) if counts else xp.zeros(0, dtype=xp.int64)
    return offsets_of(keys // n_items, n_users, xp), (keys % n_items).astype(xp.int32), counts.astype(xp.int32)


def _softplus(x):
    """ln(1 + e^x) = −ln σ(−x), without overflow."""
    return np.logaddexp(0.0, x)


def expected_loss(model, data, social):
    """The expected epoch objective of BPR (``social=False``) or SBPR, vectorised over blocks of rows of
    pairwise terms (see the class docstrings for the formula)."""
    p = {k: np.asarray(v, dtype=np.float64) for k, v in model.parameters_.items()}
    P, Q, b = p["user_factors"], p["item_factors"], p["item_bias"]
    lam, lam_b = model.regularization, model.bias_regularization
    alpha = float(getattr(model, "social_weight", 1.0)) if social else 1.0  # SBPR's social_weight
    r = binary(data.ratings)
    n_users, n_items = r.shape
    n_own = np.diff(r.indptr)
    in_pool = (n_own > 0) & (n_own < n_items)
    item_reg = 0.5 * lam * np.einsum("ij,ij->i", Q, Q) + 0.5 * lam_b * b * b
    user_reg = 0.5 * lam * np.einsum("ij,ij->i", P, P)
    own_reg = r @ item_reg

    if social:
        s = social_matrix(data.ratings, data.trust)
        n_social = np.diff(s.indptr)
        is_social = in_pool & (n_social > 0) & (n_own + n_social < n_items)
        s_bin = binary(s)
        social_reg = s_bin @ item_reg
    else:
        is_social = np.zeros(n_users, dtype=bool)
        n_social = np.zeros(n_users, dtype=np.int64)
        social_reg = np.zeros(n_users)

    pos_users = np.repeat(np.arange(n_users), n_own)
    pos_items = r.indices.astype(np.int64)
    keep = in_pool[pos_users]
    pos_users, pos_items = pos_users[keep], pos_items[keep]
    soc = is_social[pos_users]

    # regularisation: closed form per interaction
    n_neg = np.where(is_social, n_items - n_own - n_social, n_items - n_own).astype(np.float64)
    neg_reg_sum = item_reg.sum() - own_reg - np.where(is_social, social_reg, 0.0)
    total = np.sum(user_reg[pos_users] + item_reg[pos_items] + neg_reg_sum[pos_users] / n_neg[pos_users])
    total += alpha * np.sum((social_reg / np.maximum(n_social, 1))[pos_users[soc]])

    # pairwise terms, one row per (user, reference item): weight * sum_j mask_j softplus((x_uj - x_ref) * scale_j)
    # kind 0: BPR pair rows (positives of non-social users)   mask: j not consumed,        weight 1/|J_u|
    # kind 1: SBPR first term (positives of social users)      mask: j social (scale 1/(1+s_uj)), weight 1/|SP_u|
    # kind 2: SBPR second term, one row per (u, k social)     mask: j neither,              weight |I_u|/(|SP_u||N_u|)
    # kind 3: BPR pair term of SBPR's positives (α < 1)       mask: j neither,              weight 1/|N_u|
    # (kinds 1 and 2 carry the factor α, kind 3 the factor 1 − α)
    row_user = [pos_users[~soc], pos_users[soc]]
    row_item = [pos_items[~soc], pos_items[soc]]
    row_kind = [np.zeros((~soc).sum(), np.int8), np.ones(soc.sum(), np.int8)]
    row_weight = [1.0 / n_neg[pos_users[~soc]], alpha / np.maximum(n_social, 1)[pos_users[soc]]]
    if social:
        s_users = np.repeat(np.arange(n_users), n_social)
        sel = is_social[s_users]
        ku = s_users[sel]
        row_user.append(ku)
        row_item.append(s.indices[sel].astype(np.int64))
        row_kind.append(np.full(len(ku), 2, np.int8))
        row_weight.append(alpha * n_own[ku] / (n_social[ku] * n_neg[ku]))
        if alpha < 1:
            row_user.append(pos_users[soc])
            row_item.append(pos_items[soc])
            row_kind.append(np.full(soc.sum(), 3, np.int8))
            row_weight.append((1.0 - alpha) / n_neg[pos_users[soc]])
    row_user, row_item = np.concatenate(row_user), np.concatenate(row_item)
    row_kind, row_weight = np.concatenate(row_kind), np.concatenate(row_weight)

    step = max(1, _LOSS_BLOCK // n_items)
    for start in range(0, len(row_user), step):
        u, ref = row_user[start:start + step], row_item[start:start + step]
        kind, weight = row_kind[start:start + step], row_weight[start:start + step]
        scores = P[u] @ Q.T + b
        diff = scores - scores[np.arange(len(u)), ref][:, None]
        own = r[u].toarray() > 0
        if social:
            counts = s[u].toarray().astype(np.float64)
            is_k = counts > 0
            diff = np.where(kind[:, None] == 1, diff / (1.0 + counts), diff)
            mask = np.where(kind[:, None] == 1, is_k, ~own & np.where(kind[:, None] >= 2, ~is_k, True))
        else:
            mask = ~own
        total += np.sum(weight * np.sum(np.where(mask, _softplus(diff), 0.0), axis=1))
    return total
