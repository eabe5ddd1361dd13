"""SocialALS: WRMF with a graph-Laplacian term on the user factors."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .. import _core, _gpu  # noqa: F401  (the CPU kernel is looked up by name in ALS._run_epoch)
from .als import ALS, csr_arrays, wrmf_objective
from ._explain import host64, pull_parts, row_weights
from ._follow import fitted_trust
from .base import NON_NEGATIVE, register


def edge_similarity(trust, normalized=False):
    """The symmetric similarity of SocialALS: ``S = (B + Bᵀ)/2`` with ``B`` the trust graph binarised
    (``B_uf = 1`` where ``trust[u, f] != 0``), so each stored edge u→f carries weight ½ in both ``S_uf`` and
    ``S_fu``. A friendship stored in both directions (LastFM) gets ``S_uf = S_fu = 1``. With ``normalized``
    each entry is divided by ``sqrt(d_u d_f)``, ``d`` the row sums of that S (the normalised Laplacian)."""
    t = sp.coo_matrix(trust)
    keep = (t.data != 0) & (t.row != t.col)  # a self-loop adds nothing to ‖x_u − x_f‖²
    b = sp.csr_matrix((np.ones(int(keep.sum()), np.float64), (t.row[keep], t.col[keep])), shape=t.shape)
    b.data[:] = 1.0  # repeated entries count once
    s = ((b + b.T) * 0.5).tocsr()
    s.sort_indices()
    if normalized:
        inv = np.zeros(s.shape[0])
        degree = np.asarray(s.sum(axis=1)).ravel()
        inv[degree > 0] = 1.0 / np.sqrt(degree[degree > 0])
        s = s.multiply(inv[:, None]).multiply(inv[None, :]).tocsr()
        s.sort_indices()
    return s.astype(np.float32)


def similarity_arrays(row, col, data, n, normalized, xp=np):
    """``edge_similarity`` as CSR arrays (int64 ``indptr``, int32 ``indices`` ascending, float32 ``values``)
    plus the int64 row of each entry (``rows``), from the trust graph's stored entries ``(row, col, data)``,
    computed with the array module ``xp`` (NumPy or CuPy: the CUDA path builds it on the device). Same
    values as ``edge_similarity``: a binarised edge weighs ½ each way, both directions sum to 1."""
    row, col, data = xp.asarray(row).astype(xp.int64), xp.asarray(col).astype(xp.int64), xp.asarray(data)
    keep = (data != 0) & (row != col)
    edges = xp.unique(row[keep] * n + col[keep])  # B binarised: each stored edge once, sorted
    if int(edges.size) == 0:
        return {"indptr": xp.zeros(n + 1, dtype=xp.int64), "indices": xp.zeros(0, dtype=xp.int32),
                "values": xp.zeros(0, dtype=xp.float32), "rows": xp.zeros(0, dtype=xp.int64)}
    r, c = edges // n, edges % n
    both = xp.concatenate([r * n + c, c * n + r])  # B and B': S = (B + B')/2
    keys, inverse = xp.unique(both, return_inverse=True)
    weights = xp.bincount(inverse.ravel(), weights=xp.full(both.size, 0.5), minlength=int(keys.size))
    rows, cols = keys // n, keys % n
    if normalized:
        degree = xp.bincount(rows, weights=weights, minlength=n)
        inv = xp.zeros(n, dtype=xp.float64)
        positive = degree > 0
        inv[positive] = 1.0 / xp.sqrt(degree[positive])
        weights = weights * inv[rows] * inv[cols]
    indptr = xp.searchsorted(rows, xp.arange(n + 1, dtype=xp.int64), side="left").astype(xp.int64)
    return {"indptr": indptr, "indices": cols.astype(xp.int32), "values": weights.astype(xp.float32),
            "rows": rows}


@register
class SocialALS(ALS):
    """ALS (WRMF) whose user factors are smoothed over the social graph by a graph-Laplacian penalty.

    Score ``x_ui = x_u·y_i``. Objective: the WRMF objective of :class:`ALS` (Hu, Koren, Volinsky, ICDM 2008,
    eq. 3) plus, for every **stored** trust edge u→f, ``(β/2)·‖x_u − x_f‖²``::

        Σ_(u,i) c_ui (p_ui − x_u·y_i)² + λ (Σ_u ‖x_u‖² + Σ_i ‖y_i‖²) + (β/2) Σ_u Σ_f S_uf ‖x_u − x_f‖²

    with ``S = (B + Bᵀ)/2`` symmetric, ``B`` the binarised trust graph (``Sim = 1`` on an edge, as stored):
    a friendship stored in both directions (LastFM) weighs ``S_uf = 1``, a one-way trust edge (FilmTrust,
    Epinions) ``½`` each way. The last term equals ``β tr(Xᵀ L X)`` with ``L = D − S`` the graph Laplacian,
    ``D = diag(s_u)``, ``s_u = Σ_f S_uf``: the graph regulariser of GRALS (Rao, Yu, Ravikumar, Dhillon,
    "Collaborative filtering with graph information", NIPS 2015, eq. 3), here on WRMF's implicit-feedback
    loss and solved row by row. No peer library implements it.

    **Derivation of the user solve.** With Y and every other user fixed, the terms that involve x_u are
    ``Σ_i c_ui (p_ui − x_u·y_i)² + λ‖x_u‖² + β Σ_f S_uf ‖x_u − x_f‖²`` (u appears in its own row of the double
    sum and in each neighbour's, ``(β/2)(S_uf + S_fu) = β S_uf``). Setting the gradient to zero gives WRMF's
    normal equations (ALS docstring) with one term more on each side::

        (A_u + β s_u I) x_u = b_u + β Σ_f S_uf x_f

    **Jacobi, not Gauss–Seidel.** Gauss–Seidel would use each neighbour's newest x_f: an exact block-coordinate
    step, but sequential (or needing a graph colouring to run in parallel). This class uses Jacobi: every
    user reads its neighbours' values from before the user half-step, so all user rows stay independent, run
    in parallel, and give identical results on any number of threads. Jacobi is still a descent step here:
    write the user half-step's quadratic with Hessian ``H = M − N``, ``M = blockdiag(A_u + β s_u I)``,
    ``N = β S ⊗ I``. A Jacobi sweep moves X by ``d = −M⁻¹ g`` (g the gradient) and changes the objective by
    ``−½ dᵀ(M + N) d``; ``M + N = blockdiag(A_u) + β (D + S) ⊗ I`` is positive definite, because
    ``A_u ⪰ λI`` and ``D + S`` (the signless Laplacian) is positive semi-definite:
    ``vᵀ(D + S)v = ½ Σ_uf S_uf (v_u + v_f)² ≥ 0``. So with ``solver="cholesky"`` every epoch decreases the
    objective, as for ALS. The item half-step is WRMF's unchanged; ``social_regularization=0`` gives exactly
    (bit for bit) :class:`ALS`.

    Users without any stored interaction but with friends get ``x_u = (YᵀY + (λ + β s_u) I)⁻¹ β Σ_f S_uf x_f``
    (exact solve): a shrunk average of their friends, so cold users get recommendations from their friends'
    tastes (ALS leaves them at 0).

    Explanations and who to follow:
    ``explain`` (models/_explain.py): ``x_u·y_i`` split over the Laplacian neighbours ``f`` with weights
    ``S_uf / s_u`` (the mean the graph term pulls ``x_u`` to): ``(S_uf / s_u) x_f·y_i`` per neighbour (kind
    ``"trustee"``) and the user's deviation from that mean. The parts sum to the score; then the most similar
    consumed items (not parts). ``recommend_users``: the friends-of-friends fallback.

    Parameters
    ----------
    social_regularization : float, default 1.0
        ``β`` (≥ 0), the weight of the graph-Laplacian term (no published value: GRALS tunes it per data set).
        On LastFM (k = 64) the validation split of ``bench/lastfm_als.py`` chose ``β = 10`` with
        ``similarity="normalized"``, ``λ = 50``, ``α = 9``; tune it with λ, the two interact.
    similarity : {"edges", "normalized"}, default "edges"
        ``"edges"``: S as above (1 per friendship). ``"normalized"``: ``S_uf / sqrt(d_u d_f)`` with ``d_u`` the
        row sums of S, i.e. the symmetric normalised Laplacian ``I − D^-½ S D^-½`` of the same graph, which
        keeps users with many friends from being pulled harder than others.
    factors, epochs, regularization, alpha, confidence, epsilon, solver, cg_steps, init_std, seed, num_threads,
    dtype, device, progress
        As in :class:`ALS` (same defaults).
    privacy : socialrec.privacy.PrivacyBudget or None, default None
        As in :class:`ALS`: the item factors are released by private ALS's noisy statistics, which read each
        user's local row (solved without the graph); the graph term acts on the user side only, with the
        friends' local rows as neighbours, so the released items are private ALS's and carry its guarantee
        (docs/PRIVACY.md; the user-side rows are not protected, from friends included).
    """

    uses_trust = True  # trains on the trust graph (sr.compare's social group)
    # sr.tune's default search space (socialrec.tuning.resolve_search_space); epochs come from early stopping
    search_space = {"regularization": ("log", 1e-3, 10.0), "alpha": ("log", 1.0, 100.0),
                    "social_regularization": ("log", 0.01, 10.0)}
    _params = {"social_regularization": 1.0, "similarity": "edges"}
    _checks = {"social_regularization": NON_NEGATIVE,
               "similarity": (lambda v: v in ("edges", "normalized"), "'edges' or 'normalized'")}
    _kernel = "social_als_epoch"

    def _hyper(self):
        return {**super()._hyper(), "social_regularization": float(self.social_regularization)}

    def _prepare(self, train):
        state = super()._prepare(train)
        if "dp" in state:
            return state
        state["arrays"].update(csr_arrays(self._similarity(train.trust), "similarity"))
        return state

    def _prepare_cuda(self, train):
        """ALS's device state plus the similarity S as device CSR arrays, built on the device by
        ``similarity_arrays`` from the fit's ``DeviceTrust`` (the same values as ``edge_similarity``)."""
        cp = _gpu.cupy_module()
        state = super()._prepare_cuda(train)
        src, dst, values = train.trust_arrays()
        state["graph"] = similarity_arrays(src, dst, values, train.n_users, self.similarity == "normalized", xp=cp)
        return state

    def _loss(self, data):
        X = np.asarray(self.parameters_["user_factors"], dtype=np.float64)
        Y = np.asarray(self.parameters_["item_factors"], dtype=np.float64)
        return (wrmf_objective(X, Y, self._weighted(data.ratings), self.alpha, self.regularization)
                + laplacian_penalty(X, self._similarity(data.trust), self.social_regularization))

    def _similarity(self, trust):
        return edge_similarity(trust, normalized=self.similarity == "normalized")

    def _explain_parts(self, u, i):
        """explain's parts: ``x_u·y_i`` split over the Laplacian neighbours ``f`` with weights
        ``S_uf / s_u`` (the mean the graph term pulls ``x_u`` to; ``_explain.pull_parts``)."""
        X = self.parameters_["user_factors"]
        q = host64(self.parameters_["item_factors"][i])
        neighbours, weights = row_weights(self._similarity(fitted_trust(self)), u)
        return pull_parts(u, host64(X[u]), neighbours, weights, X, q)


def laplacian_penalty(X, similarity, beta):
    """``(β/2) Σ_u Σ_f S_uf ‖x_u − x_f‖²`` in float64."""
    s = similarity.tocoo()
    d = X[s.row] - X[s.col]
    return 0.5 * beta * float(np.sum(s.data.astype(np.float64) * np.einsum("ij,ij->i", d, d)))
