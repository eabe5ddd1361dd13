"""ALS: weighted matrix factorisation for implicit feedback (WRMF)."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .. import _core
from .base import NON_NEGATIVE, POSITIVE, POSITIVE_INT, register
from .ranking import RankingModel

SOLVERS = ("cg", "cholesky")


def csr_arrays(matrix, prefix):
    """The CSR arrays the C++ kernels take: ``<prefix>_indptr`` (int64), ``_indices`` (int32), ``_values``
    (float32), indices sorted within each row."""
    m = sp.csr_matrix(matrix, dtype=np.float32)
    m.sum_duplicates()
    m.sort_indices()
    return {f"{prefix}_indptr": np.ascontiguousarray(m.indptr, dtype=np.int64),
            f"{prefix}_indices": np.ascontiguousarray(m.indices, dtype=np.int32),
            f"{prefix}_values": np.ascontiguousarray(m.data, dtype=np.float32)}


@register
class ALS(RankingModel):
    """Implicit-feedback matrix factorisation by alternating least squares (WRMF), with conjugate-gradient
    or exact Cholesky row solves.

    Score ``x_ui = x_u·y_i``. Objective (Hu, Koren, Volinsky, "Collaborative filtering for implicit feedback
    datasets", ICDM 2008, eq. 3), a sum over **every** (user, item) pair, stored or not::

        Σ_(u,i) c_ui (p_ui − x_u·y_i)² + λ (Σ_u ‖x_u‖² + Σ_i ‖y_i‖²)

        stored entries r_ui:  p_ui = 1,  c_ui = 1 + α·r_ui
        every other pair:     p_ui = 0,  c_ui = 1

    ``loss()`` evaluates it in O(nnz·k + (n_users + n_items)·k²) with the Gramian identity
    ``Σ_(u,i) (x_u·y_i)² = ⟨XᵀX, YᵀY⟩`` plus a correction on the stored entries.

    One epoch is one alternation: every user row is solved with the items fixed, then every item row with the
    users fixed. With the other side fixed, row u minimises a quadratic with normal equations (eq. 4)
    ``(YᵀY + Σ_{i∈R(u)} α r_ui y_i y_iᵀ + λI) x_u = Σ_{i∈R(u)} (1 + α r_ui) y_i``; the Gramian ``YᵀY`` is
    computed once per half-step. ``solver="cg"`` runs ``cg_steps`` conjugate-gradient steps warm-started
    from the current row (Takács, Pilászy, Tikk, "Applications of the conjugate gradient method for implicit
    feedback collaborative filtering", RecSys 2011); ``solver="cholesky"`` solves exactly, which makes every
    epoch an exact block-coordinate step, so the objective never increases. Rows are independent given the
    other side: the solves run in parallel and the result is identical on any number of threads.

    **Confidence convention.** Stored values are interactions (listen counts, clicks, or 1 for binarised data)
    and each one's confidence is ``1 + α·r``, as in the paper. The ``implicit`` library instead takes
    ``c = α·r`` on stored entries (its ``alpha`` multiplies the stored value, without the "+1"): on binary
    data implicit's ``alpha=a`` is this class's ``alpha=a − 1``. Every stored entry counts as a positive
    (p = 1); raw counts with a heavy tail are usually binarised or log-scaled (Hu et al. §4,
    ``1 + α log(1 + r/ε)``) before fitting. Negative values are rejected.

    Parameters
    ----------
    factors : int, default 64
        Latent dimension ``k`` (implicit's default is 100; 64 is the size of the LastFM benchmark).
    epochs : int, default 15
        Alternations (implicit's default ``iterations``).
    regularization : float, default 0.01
        ``λ`` (> 0) on every user and item row.
    alpha : float, default 40.0
        Confidence slope ``α`` (≥ 0); Hu et al. report α = 40 as a good value on their data.
    solver : {"cg", "cholesky"}, default "cg"
        Row solver.
    cg_steps : int, default 3
        Conjugate-gradient steps per row and half-step (Takács et al. find 2–4 enough; implicit uses 3).
    init_std : float, default 0.01
        Rows start as ``N(0, init_std²)``; users and items without any stored entry start (and stay) at 0.
    seed : int or None, default 0
        Fixes the initial factors (the solves themselves are deterministic).
    num_threads : int, default 0
        Threads for the row solves (0 = all cores); the result does not depend on it.
    dtype : {"float32", "float64"}
    device : {"auto", "cpu", "cuda"}
    progress : bool
        Show a progress bar over epochs.
    """

    _params = {"factors": 64, "epochs": 15, "regularization": 0.01, "alpha": 40.0, "solver": "cg",
               "cg_steps": 3, "init_std": 0.01}
    _checks = {
        "regularization": POSITIVE,
        "alpha": NON_NEGATIVE,
        "cg_steps": POSITIVE_INT,
        "solver": (lambda v: v in SOLVERS, "'cg' or 'cholesky'"),
    }
    _kernel = "als_epoch"

    def _validate_training_data(self, train):
        super()._validate_training_data(train)
        values = train.ratings.data
        if values.size and values.min() < 0:
            bad = int(np.argmin(values))
            raise ValueError(f"{type(self).__name__} needs non-negative interaction values (confidence "
                             f"1 + alpha*r); the training data holds {values[bad]} (stored entry {bad})")

    def _init_parameters(self, train, rng):
        def normal(shape, active):
            x = rng.normal(0.0, self.init_std, size=shape).astype(self._np_dtype)
            x[~active] = 0
            return x

        rated_users = np.diff(train.ratings.indptr) > 0
        rated_items = np.bincount(train.ratings.indices, minlength=train.n_items) > 0
        return {"user_factors": normal((train.n_users, self.factors), rated_users),
                "item_factors": normal((train.n_items, self.factors), rated_items)}

    def _hyper(self):
        return {"factors": self.factors, "alpha": float(self.alpha), "regularization": float(self.regularization),
                "cg_steps": int(self.cg_steps), "cholesky": self.solver == "cholesky"}

    def _prepare(self, train):
        arrays = csr_arrays(train.ratings, "user_items")
        arrays.update(csr_arrays(train.ratings.T.tocsr(), "item_users"))
        return {"arrays": arrays, "hyper": self._hyper()}

    def _run_epoch(self, state, settings):
        return getattr(_core, self._kernel)({**self.parameters_, **state["arrays"]}, state["hyper"], settings)

    def _scoring_parts(self):
        return {"user_vectors": self.parameters_["user_factors"], "item_vectors": self.parameters_["item_factors"]}

    def _loss(self, data):
        X = np.asarray(self.parameters_["user_factors"], dtype=np.float64)
        Y = np.asarray(self.parameters_["item_factors"], dtype=np.float64)
        return wrmf_objective(X, Y, data.ratings, self.alpha, self.regularization)


def wrmf_objective(X, Y, ratings, alpha, regularization):
    """Hu et al.'s objective at (X, Y), in float64, without forming the dense matrix."""
    coo = ratings.tocoo()
    u, i = coo.row, coo.col
    c = 1.0 + alpha * coo.data.astype(np.float64)
    s = np.einsum("ij,ij->i", X[u], Y[i])
    everywhere = np.sum((X.T @ X) * (Y.T @ Y))  # Σ over all pairs of (x_u·y_i)²
    stored = np.sum(c * (1.0 - s) ** 2 - s * s)  # stored entries: replace s² by c (1 − s)²
    return everywhere + stored + regularization * (np.sum(X * X) + np.sum(Y * Y))
