"""ALS: weighted matrix factorisation for implicit feedback (WRMF)."""
from __future__ import annotations

import os

import numpy as np
import scipy.sparse as sp

from .. import _backend, _core, _engine, _gpu
from . import _confidence
from ._private import is_budget
from ._private_als import PrivateALSMixin
from .base import NON_NEGATIVE, POSITIVE, POSITIVE_INT, register
from .device import DeviceMixin
from .ranking import RankingModel

SOLVERS = ("cg", "cholesky")


def _check_solver_memory(k, itemsize, n_rows, threads, cholesky):
    """Refuses up front (MemoryError) a ``factors`` whose k x k solver matrices cannot fit in this machine's
    memory: a half-step holds the Gramian, up to 64 partial Gramians (cpp/include/socialrec/als.hpp gramian,
    one per 256 rows) and, with Cholesky, two k x k matrices per thread. Beyond physical memory the process
    would be killed by the system while filling them, not raise."""
    matrices = 1 + min(64, -(-n_rows // 256)) + (2 * threads if cholesky else 0)
    need = matrices * k * k * itemsize
    try:
        have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return
    if need > have:
        raise MemoryError(f"factors={k} needs about {need / 2**30:.1f} GiB for {matrices} k x k solver matrices "
                          f"of the ALS half-steps, more than this machine's {have / 2**30:.1f} GiB of memory; "
                          "use fewer factors")


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
class ALS(PrivateALSMixin, DeviceMixin, RankingModel):
    """Implicit-feedback matrix factorisation by alternating least squares (WRMF), with conjugate-gradient
    or exact Cholesky row solves.

    Score ``x_ui = x_u·y_i``. Objective (Hu, Koren, Volinsky, "Collaborative filtering for implicit feedback
    datasets", ICDM 2008, eq. 3), a sum over **every** (user, item) pair, stored or not::

        Σ_(u,i) c_ui (p_ui − x_u·y_i)² + λ (Σ_u ‖x_u‖² + Σ_i ‖y_i‖²)

        stored entries r_ui:  p_ui = 1,  c_ui = 1 + α·w_ui
        every other pair:     p_ui = 0,  c_ui = 1

    with ``w_ui`` the weight of the stored value under ``confidence``: ``w = log2(1 + r/ε)`` by default,
    ``w = r`` (the paper's ``c = 1 + α r``) with ``confidence="linear"``; both give ``w = 1`` on 0/1 data.

    ``loss()`` evaluates it in O(nnz·k + (n_users + n_items)·k²) with the Gramian identity
    ``Σ_(u,i) (x_u·y_i)² = ⟨XᵀX, YᵀY⟩`` plus a correction on the stored entries.

    One epoch is one alternation: every user row is solved with the items fixed, then every item row with the
    users fixed. With the other side fixed, row u minimises a quadratic with normal equations (eq. 4)
    ``(YᵀY + Σ_{i∈R(u)} α w_ui y_i y_iᵀ + λI) x_u = Σ_{i∈R(u)} (1 + α w_ui) y_i``; the Gramian ``YᵀY`` is
    computed once per half-step. ``solver="cg"`` runs ``cg_steps`` conjugate-gradient steps warm-started
    from the current row (Takács, Pilászy, Tikk, "Applications of the conjugate gradient method for implicit
    feedback collaborative filtering", RecSys 2011); ``solver="cholesky"`` solves exactly, which makes every
    epoch an exact block-coordinate step, so the objective never increases. Rows are independent given the
    other side: the solves run in parallel and the result is identical on any number of threads.

    **Confidence convention.** Stored values are interactions (listen counts, clicks, or 1 for binarised data)
    and each one's confidence is ``1 + α·w``. Every stored entry counts as a positive (p = 1); negative values
    are rejected. The ``implicit`` library takes ``c = α·r`` on stored entries (its ``alpha`` multiplies the
    stored value, without the "+1"): on binary data implicit's ``alpha=a`` is this class's ``alpha=a − 1``.
    Raw counts are heavy-tailed (LastFM listens: mean 739, largest 352,698): the paper's linear rule then
    gives a few entries confidences ~500 times the average one and WRMF collapses (LastFM NDCG@10 .014 raw
    vs .207 binarised at the defaults), so the default is the log rule of the paper's §4, which leaves 0/1
    data exactly as the linear rule does and gives .227 on the raw counts (bench/README.md, "ALS on raw
    counts"). ``confidence="linear"`` warns when the largest confidence is over 100 times that of an entry
    at the mean value.

    Explanations and who to follow:
    ``explain`` (models/_explain.py): ``x_u·y_i`` as the user's own part (the score); then the most similar
    consumed items (cosine of ``y``, not parts). ``recommend_users``: the friends-of-friends fallback
    (models/_follow.py).

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
    confidence : {"log", "linear"}, default "log"
        How a stored value r becomes its weight w (``c = 1 + α w``): ``"log"``: ``w = log2(1 + r/ε)`` (Hu et
        al. §4's ``1 + α log(1 + r/ε)`` with α scaled by 1/ln 2, so that an entry r = ε weighs 1);
        ``"linear"``: ``w = r`` (their eq. 3). Both give w = 1 on 0/1 data (there ε = 1), so on binarised data
        they train the same model bit for bit. The rule weights the matrix it is applied to (the training
        data for the fit, ``data`` for ``loss(data)``); ``w`` is stored in float32 (models/_confidence.py).
    epsilon : float or None, default None
        ``ε`` (> 0) of the log rule: None takes the mean of the stored values (exactly rounded; 1 when it is 0),
        which makes an entry at the average count weigh as much as an entry of 0/1 data. Unused by
        ``"linear"``.
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
    dtype : {"float32", "float64", "float16"}, default "float32"
        ``"float16"`` (CUDA only) stores both factor matrices in half precision on the device; every row solve
        reads its rows into float32, runs CG in float32 against a float32 Gramian, and rounds the new row to
        half once. ``to("cpu")`` widens the factors to float32.
    device : {"auto", "cpu", "cuda"}, default "auto"
        ``"auto"``: the CPU until the CUDA kernels have passed the GPU suite on a real device
        (``socialrec/_gpu_status.py``); then CUDA when socialrec was built with it, a device and CuPy are
        present and dtype is not float64, else the CPU. On CUDA (``cuda/als.cu``) each half-step takes the Gramian from cuBLAS (CuPy)
        and runs the same ``cg_steps`` CG steps per row as the CPU (one warp per row for ``factors <= 64``, one
        block above; float32 compute, ``factors <= 2048``); results agree with the CPU's to float32 rounding,
        not bit for bit. **CUDA runs CG only**: ``solver="cholesky"`` with ``device="cuda"`` raises
        ``ValueError`` (``"auto"`` trains it on the CPU). Parameters are CuPy arrays. ``fit`` takes
        ``cupyx.scipy.sparse`` (or dense CUDA) interactions and trust graph and builds the user and item CSRs
        (and SocialALS's similarity) on the device, never copying the data to the host; only the per-user and
        per-item masks of the initial factors, drawn on the host, are computed there.
    progress : bool, default False
        Show a progress bar over epochs.
    privacy : socialrec.privacy.PrivacyBudget or None, default None
        Train privately by noisy sufficient statistics (private ALS, Chien et al. ICML 2021;
        ``socialrec.privacy.dp_als``, docs/PRIVACY.md): each epoch the user rows are solved on the users' side
        from the released item factors, then the item factors are released from the Gramian and right-hand
        sides of the clipped user rows (norm ``clip_norm``, weights at most 1, ``max_ratings`` items per user)
        plus Gaussian noise for the budget's (ε, δ) at unit ``"user"``; the item solve is exact (eigenvalues of
        the noisy matrix floored at 0). ``privacy_`` reports the mechanism. CPU only; needs a public
        ``epsilon`` with ``confidence="log"``.
    """

    # sr.tune's default search space (socialrec.tuning.resolve_search_space); epochs come from early stopping
    search_space = {"regularization": ("log", 1e-3, 10.0), "alpha": ("log", 1.0, 100.0)}
    _params = {"factors": 64, "epochs": 15, "regularization": 0.01, "alpha": 40.0, "confidence": "log",
               "epsilon": None, "solver": "cg", "cg_steps": 3, "init_std": 0.01, "privacy": None}
    _checks = {
        "regularization": POSITIVE,
        "alpha": NON_NEGATIVE,
        "confidence": (lambda v: v in _confidence.CONFIDENCES, "'log' or 'linear'"),
        "epsilon": (lambda v: v is None or POSITIVE[0](v), "None or a positive finite number"),
        "cg_steps": POSITIVE_INT,
        "solver": (lambda v: v in SOLVERS, "'cg' or 'cholesky'"),
        "privacy": (is_budget, "None or a socialrec.privacy.PrivacyBudget"),
    }
    _kernel = "als_epoch"

    def _validate_training_data(self, train):
        super()._validate_training_data(train)
        values = train.ratings.data  # NumPy, or CuPy for a CUDA fit (only the minimum comes to the host)
        if values.size and float(values.min()) < 0:
            bad = int(values.argmin())
            raise ValueError(f"{type(self).__name__} needs non-negative interaction values (confidence "
                             f"1 + alpha*w(r)); the training data holds {float(values[bad])} (stored entry {bad})")
        if self.confidence == "linear":
            _confidence.warn_if_heavy_tailed(values, float(self.alpha), type(self).__name__)

    def _divergence_hint(self):
        # no learning rate: a NaN comes from a row solve, typically float32 rounding on large confidences
        return ("a row solve gave NaN or inf (large confidences 1 + alpha * w, e.g. raw counts with "
                "confidence='linear', can make the float32 Cholesky factorisation fail); try dtype='float64', "
                "solver='cg', a smaller alpha, confidence='log' (or binarised values) or a larger "
                "regularization")

    def _cuda_training_unsupported(self):
        if self.privacy is not None:
            return "privacy="
        if self.solver != "cg":
            return f"solver={self.solver!r} (CUDA runs the conjugate-gradient solver only)"
        limit = getattr(_backend.cuda_module(), "ALS_MAX_FACTORS", 2048)
        if self.factors > limit:
            return f"factors={self.factors} (the CUDA solve handles up to {limit})"
        return None

    def _init_parameters(self, train, rng):
        def normal(shape, active):
            x = rng.normal(0.0, self.init_std, size=shape).astype(self._np_dtype)
            x[~active] = 0
            return x

        # host masks from either a scipy CSR or device ratings (DeviceRatings.getnnz returns NumPy)
        rated_users = np.asarray(train.ratings.getnnz(axis=1)) > 0
        rated_items = np.asarray(train.ratings.getnnz(axis=0)) > 0
        if self.privacy is not None:  # whether an item has raters is data: every released row starts drawn
            rated_items = np.ones_like(rated_items)
        return {"user_factors": normal((train.n_users, self.factors), rated_users),
                "item_factors": normal((train.n_items, self.factors), rated_items)}

    def _hyper(self):
        return {"factors": self.factors, "alpha": float(self.alpha), "regularization": float(self.regularization),
                "cg_steps": int(self.cg_steps), "cholesky": self.solver == "cholesky"}

    def _weighted(self, ratings):
        """``ratings`` (scipy CSR) with each stored value replaced by its confidence weight w (float32)."""
        return _confidence.weighted_matrix(ratings, self.confidence, self.epsilon)

    def _prepare(self, train):  # CPU state; on CUDA, fit calls _prepare_cuda instead (DeviceMixin)
        if self.privacy is not None:
            return self._private_prepare(train, csr_arrays)
        _check_solver_memory(self.factors, self._np_dtype.itemsize, max(train.n_users, train.n_items),
                             _engine.resolve_threads(self.num_threads), self.solver == "cholesky")
        weighted = self._weighted(train.ratings)
        arrays = csr_arrays(weighted, "user_items")
        arrays.update(csr_arrays(weighted.T.tocsr(), "item_users"))
        return {"arrays": arrays, "hyper": self._hyper()}

    def _run_epoch(self, state, settings):  # on CUDA, fit calls _run_epoch_cuda instead
        if "dp" in state:
            return self._private_epoch(state, settings)
        return getattr(_core, self._kernel)({**self.parameters_, **state["arrays"]}, state["hyper"], settings)

    # -- CUDA (cuda/als.cu) ---------------------------------------------------------------------------------------
    def _prepare_cuda(self, train):
        """Device training state: the interactions as CSR by user and by item (int64 offsets, int32 columns,
        float32 confidence weights w, columns ascending within a row, as ``csr_arrays`` gives the CPU), built on
        the device (the weights too: ``_confidence.weights`` with CuPy)."""
        cp = _gpu.cupy_module()
        users, items, values = train.user_item_arrays()
        values = _confidence.weights(values, self.confidence, self.epsilon, xp=cp)
        users, items = users.astype(cp.int64), items.astype(cp.int64)
        n_users, n_items = train.ratings.shape
        return {"user_items": device_csr(users, items, values, n_users, n_items),
                "item_users": device_csr(items, users, values, n_items, n_users),
                "row_loss": cp.empty(n_items, dtype=cp.float64), "graph": None, "hyper": self._hyper()}

    def _cuda_half_step(self, rows, X, Y, row_loss=None, graph=None, beta=0.0):
        """Solves every row of X against the fixed side Y on the device (Gramian Y'Y by cuBLAS via CuPy; X and Y
        float32, or float16 under dtype='float16': the kernel reads them into float32 and rounds each new row
        once)."""
        mod = _gpu.cuda_module()
        G = float32_gramian(Y)
        previous = X.copy() if graph is not None else None  # Jacobi: neighbours from before the half-step
        g = graph or {}
        mod.als_half_step(G=_gpu.ptr(G), Y=_gpu.ptr(Y), n_fixed=Y.shape[0], indptr=_gpu.ptr(rows["indptr"]),
                          indices=_gpu.ptr(rows["indices"]), values=_gpu.ptr(rows["values"]), rows=X.shape[0],
                          X=_gpu.ptr(X), factors=self.factors, alpha=float(self.alpha),
                          regularization=float(self.regularization), cg_steps=int(self.cg_steps),
                          graph_indptr=_gpu.ptr(g.get("indptr")), graph_indices=_gpu.ptr(g.get("indices")),
                          graph_values=_gpu.ptr(g.get("values")), previous=_gpu.ptr(previous), beta=float(beta),
                          row_loss=_gpu.ptr(row_loss), stream=_gpu.stream_ptr(), float16=X.dtype == np.float16)

    def _run_epoch_cuda(self, state, settings):
        cp = _gpu.cupy_module()
        X = self._factor("user_factors", self.n_users_)  # float32, or float16 under dtype="float16"
        Y = self._factor("item_factors", self.n_items_)
        beta = float(state["hyper"].get("social_regularization", 0.0))
        graph = state["graph"] if beta != 0.0 else None  # beta = 0: exactly WRMF, as on the CPU
        self._cuda_half_step(state["user_items"], X, Y, graph=graph, beta=beta)
        self._cuda_half_step(state["item_users"], Y, X, row_loss=state["row_loss"])
        # The item rows' terms hold the whole objective but lambda |X|^2 (and the graph term).
        loss = cp.sum(state["row_loss"]) + self.regularization * cp.sum(cp.square(X.astype(cp.float64)))
        if graph is not None:
            loss = loss + device_laplacian_penalty(X, graph, beta)
        return float(loss)  # waits for the epoch (same stream)

    def _scoring_parts(self):
        return {"user_vectors": self.parameters_["user_factors"], "item_vectors": self.parameters_["item_factors"]}

    def _loss(self, data):
        X = np.asarray(self.parameters_["user_factors"], dtype=np.float64)
        Y = np.asarray(self.parameters_["item_factors"], dtype=np.float64)
        return wrmf_objective(X, Y, self._weighted(data.ratings), self.alpha, self.regularization)


def float32_gramian(Y, chunk_bytes=1 << 26):
    """``Y'Y`` as a C-contiguous float32 CuPy matrix (cuBLAS through CuPy). Float16 storage is widened to float32
    in chunks of rows (at most ``chunk_bytes`` at a time), so the Gramian is summed in float32, not in half."""
    cp = _gpu.cupy_module()
    if Y.dtype == np.float32:
        return cp.ascontiguousarray(Y.T @ Y, dtype=cp.float32)
    k = Y.shape[1]
    G = cp.zeros((k, k), dtype=cp.float32)
    step = max(1, chunk_bytes // (4 * max(k, 1)))
    for start in range(0, Y.shape[0], step):
        block = Y[start:start + step].astype(cp.float32)
        G += block.T @ block
    return G


def device_csr(rows, cols, values, n_rows, n_cols):
    """CSR arrays on the device from COO triplets (CuPy; int64 rows and columns, no duplicates): int64
    ``indptr``, int32 ``indices`` ascending within each row, float32 ``values``, and the int64 ``rows``."""
    cp = _gpu.cupy_module()
    order = cp.argsort(rows * n_cols + cols)
    r = rows[order]
    return {"indptr": cp.searchsorted(r, cp.arange(n_rows + 1, dtype=cp.int64), side="left").astype(cp.int64),
            "indices": cp.ascontiguousarray(cols[order], dtype=cp.int32),
            "values": cp.ascontiguousarray(values[order], dtype=cp.float32), "rows": r}


def device_laplacian_penalty(X, graph, beta, chunk=1 << 20):
    """``(β/2) Σ_u Σ_f S_uf ‖x_u − x_f‖²`` on the device, in float64, edges in bounded chunks."""
    cp = _gpu.cupy_module()
    rows, cols, values = graph["rows"], graph["indices"], graph["values"]
    total = cp.zeros((), dtype=cp.float64)
    for start in range(0, int(values.size), chunk):
        r, c = rows[start:start + chunk], cols[start:start + chunk]
        d = X[r].astype(cp.float64) - X[c].astype(cp.float64)
        total += cp.sum(values[start:start + chunk].astype(cp.float64) * cp.sum(d * d, axis=1))
    return 0.5 * beta * total


def wrmf_objective(X, Y, ratings, alpha, regularization):
    """Hu et al.'s objective at (X, Y), in float64, without forming the dense matrix; ``ratings`` holds the
    confidence weights w (``c = 1 + α w`` on stored entries)."""
    coo = ratings.tocoo()
    u, i = coo.row, coo.col
    c = 1.0 + alpha * coo.data.astype(np.float64)
    s = np.einsum("ij,ij->i", X[u], Y[i])
    everywhere = np.sum((X.T @ X) * (Y.T @ Y))  # Σ over all pairs of (x_u·y_i)²
    stored = np.sum(c * (1.0 - s) ** 2 - s * s)  # stored entries: replace s² by c (1 − s)²
    return everywhere + stored + regularization * (np.sum(X * X) + np.sum(Y * Y))
