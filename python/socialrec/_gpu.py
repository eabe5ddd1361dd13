"""The Python side of the CUDA back-end: device training data, array placement, prediction and top-N.

Everything here runs only on ``device="cuda"``; CuPy is imported lazily (``cupy_module``). Device arrays are
allocated by CuPy and filled by the kernels of ``socialrec._cuda``, which take raw pointers and CuPy's
current stream, so kernels and CuPy operations stay ordered on one stream.
"""
from __future__ import annotations

import numpy as np

from . import _interop


def cupy_module():
    """``cupy``, or an ImportError that says how to install it."""
    try:
        import cupy
    except ImportError as e:
        raise ImportError("device='cuda' needs CuPy: pip install 'socialrec[cuda13]' (or 'socialrec[cuda12]')") from e
    return cupy


def cuda_module():
    from . import _backend

    mod = _backend.cuda_module()
    if mod is None:
        raise RuntimeError("socialrec was built without CUDA; use device='cpu'")
    return mod


def is_cupy(a):
    """True for CuPy arrays, without importing CuPy."""
    return type(a).__module__.split(".")[0] == "cupy"


def stream_ptr():
    """The handle of CuPy's current stream (what every kernel launch uses)."""
    return cupy_module().cuda.get_current_stream().ptr


def to_host(a):
    """NumPy copy of a CuPy array; NumPy arrays and scalars pass through."""
    return a.get() if is_cupy(a) else a


def to_device(a, dtype=None):
    """CuPy array (C-contiguous) from a NumPy or CuPy array."""
    cp = cupy_module()
    x = cp.asarray(a, dtype=dtype)
    return x if x.flags.c_contiguous else x.copy()  # keeps 0-d arrays 0-d (ascontiguousarray would not)


def ptr(a):
    """Device address of a CuPy array (0 for None)."""
    return 0 if a is None else int(a.data.ptr)


def require(a, dtype, name, ndim=None, size=None):
    """Checks that ``a`` is a C-contiguous CuPy array of exactly ``dtype`` before its pointer goes to a kernel."""
    cp = cupy_module()
    if not isinstance(a, cp.ndarray):
        raise TypeError(f"{name} must be a CuPy array, got {type(a).__name__}")
    if a.dtype != np.dtype(dtype):
        raise TypeError(f"{name} has dtype {a.dtype}, expected {np.dtype(dtype)}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {a.shape}")
    if size is not None and a.size != size:
        raise ValueError(f"{name} has {a.size} elements, expected {size}")
    return a


# ------------------------------------------------------------------------------------------------------------
# Training data on the device
# ------------------------------------------------------------------------------------------------------------
class DeviceRatings:
    """Training ratings on the device, with the part of ``Dataset``'s surface that ``Model.fit`` uses.

    CSR arrays (``indptr`` int64, ``indices`` int32, ``data`` float32, CuPy); ``ratings`` is the object
    itself (``shape``, ``nnz``, ``data``, ``getnnz``, ``tocsr``). Built from a ``Dataset`` (one upload) or
    from device input without any host copy of the ratings (``from_device``).
    """

    def __init__(self, indptr, indices, data, shape, rating_scale, user_ids=None, item_ids=None, trust=None,
                 host=None):
        self.indptr, self.indices, self.data = indptr, indices, data
        self.shape = (int(shape[0]), int(shape[1]))
        self.rating_scale = tuple(float(x) for x in rating_scale)
        self.user_ids, self.item_ids, self.trust = user_ids, item_ids, trust
        self._host = host  # the Dataset these ratings came from (None: built from device input)

    def host(self):
        """The ratings and trust as a host ``Dataset`` (the source Dataset, or one download, cached). The social
        and ranking models build their training structures (trust CSR, link targets, similarities, the
        sampling pool) from it on the host and upload them once per fit."""
        if self._host is None:
            import scipy.sparse as sp

            from .data import Dataset

            ratings = sp.csr_matrix((self.data.get(), self.indices.get(), self.indptr.get()), shape=self.shape)
            self._host = Dataset.from_sparse(ratings, trust=self.trust, rating_scale=self.rating_scale)
        return self._host

    ratings = property(lambda self: self)
    n_users = property(lambda self: self.shape[0])
    n_items = property(lambda self: self.shape[1])
    nnz = property(lambda self: int(self.data.size))

    def tocsr(self):
        return self

    def getnnz(self, axis):
        """Stored ratings per user (axis=1) or per item (axis=0), as a host int64 array (n_users/n_items
        numbers: the initial parameters are drawn on the host, DESIGN §5)."""
        cp = cupy_module()
        if axis == 1:
            return cp.diff(self.indptr).get()
        return cp.bincount(self.indices, minlength=self.shape[1]).get()

    def user_item_arrays(self):
        """(users int32, items int32, values float32) on the device, in CSR order."""
        return _rows_of(self.indptr, self.nnz), self.indices, self.data

    @classmethod
    def from_dataset(cls, ds):
        cp = cupy_module()
        r = ds.ratings.tocsr()
        return cls(cp.asarray(np.asarray(r.indptr, dtype=np.int64)), cp.asarray(np.asarray(r.indices, np.int32)),
                   cp.asarray(np.asarray(r.data, np.float32)), r.shape, ds.rating_scale, ds.user_ids,
                   ds.item_ids, ds.trust, host=ds)

    @classmethod
    def from_device(cls, ratings, trust=None, rating_scale=None):
        """From a ``cupyx.scipy.sparse`` matrix (any format) or a dense 2-D CUDA array (its nonzeros are the
        ratings), with the CPU path's rules: duplicates of a COO input are summed, stored zeros of a sparse
        input are ratings, NaN/inf raise ``ValueError``. The input is never modified."""
        cp = cupy_module()
        import cupyx.scipy.sparse as csp

        if _interop.is_device_sparse(ratings):
            if len(ratings.shape) != 2:
                raise ValueError(f"ratings must be 2-D, got shape {ratings.shape}")
            if ratings.dtype.kind not in "biuf":
                raise TypeError(f"ratings has dtype {ratings.dtype}; expected real numbers")
            csr = ratings.tocsr().copy()  # our own arrays: the caller's matrix stays untouched
            if csr.dtype != cp.float64:
                csr = csr.astype(cp.float64)
            csr.sum_duplicates()
        else:
            dense = _interop.as_cupy(ratings, "ratings")
            if dense.ndim != 2:
                raise ValueError(f"ratings must be 2-D, got shape {dense.shape}")
            if dense.dtype.kind not in "biuf":
                raise TypeError(f"ratings has dtype {dense.dtype}; expected real numbers")
            csr = csp.csr_matrix(cp.ascontiguousarray(dense, dtype=cp.float64))
        if csr.nnz == 0:
            raise ValueError("no ratings: the ratings matrix stores no entries")
        bad = cp.flatnonzero(~cp.isfinite(csr.data))
        if bad.size:
            k = int(bad[0])
            row = int(cp.searchsorted(csr.indptr, cp.asarray([k]), side="right")[0]) - 1
            raise ValueError(f"ratings contain a non-finite value at (user {row}, item {int(csr.indices[k])})")
        data = csr.data
        if rating_scale is None:
            rating_scale = (float(data.min()), float(data.max()))
        if trust is not None:
            shape = tuple(trust.shape)
            if shape != (csr.shape[0], csr.shape[0]):
                raise ValueError(f"trust has shape {shape}; expected ({csr.shape[0]}, {csr.shape[0]}) to match "
                                 "the ratings' users")
        return cls(csr.indptr.astype(cp.int64), csr.indices.astype(cp.int32), data.astype(cp.float32),
                   csr.shape, rating_scale, trust=host_trust(trust, csr.shape[0]))


def host_trust(trust, n_users):
    """The trust graph as the CPU path keeps it: a canonical host CSR (float32, no self-loops or stored zeros,
    as ``Dataset.from_sparse``), from a scipy.sparse, ``cupyx.scipy.sparse`` or dense (host or CUDA) matrix;
    an empty graph for None. Trust graphs are small next to the ratings, and the social models build their
    training structures from it on the host."""
    import scipy.sparse as sp

    from .data import _clean_sparse_trust

    if trust is None:
        return sp.csr_matrix((n_users, n_users), dtype=np.float32)
    if _interop.is_device_sparse(trust):
        trust = trust.get()
    elif _interop.is_device_input(trust):
        trust = sp.csr_matrix(to_host(_interop.as_cupy(trust, "trust")))
    elif not sp.issparse(trust):
        trust = sp.csr_matrix(np.asarray(trust))
    return _clean_sparse_trust(trust, n_users)


def host_dataset(train):
    """The host ``Dataset`` of training data: a Dataset passes through, ``DeviceRatings.host()`` otherwise."""
    return train.host() if isinstance(train, DeviceRatings) else train


def _rows_of(indptr, nnz):
    """Row index of each stored entry of a CSR matrix (int32), computed on the device."""
    cp = cupy_module()
    return (cp.searchsorted(indptr, cp.arange(nnz, dtype=cp.int64), side="right") - 1).astype(cp.int32)


def training_data(data, trust):
    """``DeviceRatings`` from a Dataset, a scipy.sparse matrix (uploaded once) or device input (no copy)."""
    from .data import Dataset

    if isinstance(data, DeviceRatings):
        return data
    if _interop.is_device_input(data):
        return DeviceRatings.from_device(data, trust)
    from .models.base import as_dataset

    return DeviceRatings.from_dataset(as_dataset(data, trust) if not isinstance(data, Dataset) else data)


# ------------------------------------------------------------------------------------------------------------
# Prediction and top-N on the device
# ------------------------------------------------------------------------------------------------------------
def index_array(values, bound, name):
    """Validated int64 CuPy index array (1-D), from host or device input; raises like the CPU path."""
    cp = cupy_module()
    if _interop.is_device_input(values):
        arr = _interop.as_cupy(values, name)
    else:
        from .models.base import _index_array

        return cp.asarray(_index_array(values, bound, name))
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and bool(cp.all(cp.isfinite(arr) & (arr == cp.round(arr)))):
            arr = arr.astype(cp.int64)
        else:
            raise TypeError(f"{name} must be integer indices, got dtype {arr.dtype}")
    arr = arr.astype(cp.int64)  # always a fresh contiguous array: strided or foreign inputs are read once
    if arr.size:
        bad = cp.flatnonzero((arr < 0) | (arr >= bound))
        if bad.size:
            k = int(bad[0])
            raise IndexError(f"{name}[{k}] = {int(arr[k])} is out of range [0, {bound})")
    return arr


def scoring_parts(parts, n_users, n_items):
    """The model's scoring parts on the device, with float32 vectors for cuBLAS and zero biases filled in."""
    cp = cupy_module()
    out = dict(parts)
    out["user_vectors"] = cp.ascontiguousarray(parts["user_vectors"], dtype=cp.float32)
    out["item_vectors"] = cp.ascontiguousarray(parts["item_vectors"], dtype=cp.float32)
    out["user_bias"] = cp.asarray(parts.get("user_bias", cp.zeros(n_users, cp.float32)), dtype=cp.float32)
    out["item_bias"] = cp.asarray(parts.get("item_bias", cp.zeros(n_items, cp.float32)), dtype=cp.float32)
    out["global_bias"] = float(parts.get("global_bias", 0.0))
    return out


def raw_scores(s, users, items):
    """x_ui for the pairs (float64 CuPy), in bounded chunks like the CPU path."""
    cp = cupy_module()
    out = cp.empty(len(users), dtype=cp.float64)
    step = 1 << 20
    for start in range(0, len(users), step):
        u, i = users[start:start + step], items[start:start + step]
        dots = cp.einsum("ij,ij->i", s["user_vectors"][u], s["item_vectors"][i])
        out[start:start + len(u)] = dots + s["user_bias"][u] + s["item_bias"][i] + s["global_bias"]
    return out


def _batch_size(n_items, batch_size):
    from .topn import _batch_size as cpu_batch_size

    return cpu_batch_size(n_items, batch_size)


def recommend(model, users, n=10, exclude_seen=True, items=None, batch_size=None, exclude=None):
    """``Model.recommend`` on the device: scores by cuBLAS (CuPy matmul), selection by ``_cuda.topk_select``.

    Returns CuPy arrays when ``users`` is a device array, NumPy arrays otherwise. ``exclude``: a device CSR
    ``(indptr int64, indices int32)`` of items to leave out per user, instead of the model's training items.
    """
    cp, mod = cupy_module(), cuda_module()
    on_device = _interop.is_device_input(users)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"n={n!r} must be a positive integer")
    if n > mod.TOPK_MAX_N:
        raise ValueError(f"n={n} exceeds the CUDA top-N limit of {mod.TOPK_MAX_N}; use model.to('cpu')")
    users = index_array(users, model.n_users_, "users")
    s = model._scoring()
    item_vectors, item_bias, candidates = s["item_vectors"], s["item_bias"], None
    if items is not None:
        candidates = cp.unique(index_array(items, model.n_items_, "items"))
        item_vectors, item_bias = item_vectors[candidates], item_bias[candidates]
    n_cols = int(item_vectors.shape[0])
    out_ids = cp.full((len(users), n), -1, dtype=cp.int64)
    out_scores = cp.full((len(users), n), -cp.inf, dtype=cp.float32)
    indptr = require(model.seen_indptr_, np.int64, "seen_indptr_") if exclude_seen else None
    indices = require(model.seen_indices_, np.int32, "seen_indices_") if exclude_seen else None
    if exclude is not None:
        indptr = require(exclude[0], np.int64, "exclude indptr", ndim=1, size=model.n_users_ + 1)
        indices = require(exclude[1], np.int32, "exclude indices", ndim=1)
    step = _batch_size(n_cols, batch_size)
    for start in range(0, len(users), step):
        batch = cp.ascontiguousarray(users[start:start + step])
        scores = cp.ascontiguousarray(s["user_vectors"][batch] @ item_vectors.T, dtype=cp.float32)
        scores += item_bias
        ids, top = out_ids[start:start + len(batch)], out_scores[start:start + len(batch)]
        mod.topk_select(ptr(scores), len(batch), n_cols, n_cols, ptr(batch), ptr(indptr), ptr(indices),
                        ptr(candidates), int(n), ptr(ids), ptr(top), stream_ptr())
    if on_device:
        return out_ids, out_scores
    return out_ids.get(), out_scores.get()


def select_top(scores, n, exclude_indptr=None, exclude_indices=None, row_ids=None):
    """Row-wise top-n of a dense CuPy float32 score block (the selection kernel alone; the block is used as
    scratch). Same contract as ``socialrec.topn.select_top``; tests compare the two exactly."""
    cp, mod = cupy_module(), cuda_module()
    scores = cp.ascontiguousarray(scores, dtype=cp.float32)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D, got shape {scores.shape}")
    rows, cols = scores.shape
    ids = cp.empty((rows, n), dtype=cp.int64)
    top = cp.empty((rows, n), dtype=cp.float32)
    if exclude_indptr is not None:
        exclude_indptr = require(cp.asarray(exclude_indptr), np.int64, "exclude_indptr", ndim=1)
        exclude_indices = require(cp.asarray(exclude_indices), np.int32, "exclude_indices", ndim=1)
    if row_ids is not None:
        row_ids = require(cp.asarray(row_ids), np.int64, "row_ids", ndim=1, size=rows)
    mod.topk_select(ptr(scores), rows, cols, cols, ptr(row_ids), ptr(exclude_indptr), ptr(exclude_indices), 0,
                    int(n), ptr(ids), ptr(top), stream_ptr())
    return ids, top


def similar(vectors, queries, n):
    """Cosine top-n neighbours on the device (the query itself excluded through the selection kernel)."""
    cp, mod = cupy_module(), cuda_module()
    if not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"n={n!r} must be a positive integer")
    if n > mod.TOPK_MAX_N:
        raise ValueError(f"n={n} exceeds the CUDA top-N limit of {mod.TOPK_MAX_N}; use model.to('cpu')")
    on_device = _interop.is_device_input(queries)
    queries = index_array(queries, len(vectors), "queries")
    vectors = cp.asarray(vectors, dtype=cp.float32)
    norms = cp.linalg.norm(vectors, axis=1)
    unit = vectors / cp.where(norms > 0, norms, 1.0)[:, None]
    self_indptr = cp.arange(len(vectors) + 1, dtype=cp.int64)
    self_indices = cp.arange(len(vectors), dtype=cp.int32)
    out_ids = cp.empty((len(queries), n), dtype=cp.int64)
    out_scores = cp.empty((len(queries), n), dtype=cp.float32)
    step = _batch_size(len(vectors), None)
    for start in range(0, len(queries), step):
        q = cp.ascontiguousarray(queries[start:start + step])
        scores = cp.ascontiguousarray(unit[q] @ unit.T, dtype=cp.float32)
        mod.topk_select(ptr(scores), len(q), len(vectors), len(vectors), ptr(q), ptr(self_indptr),
                        ptr(self_indices), 0, int(n), ptr(out_ids[start:]), ptr(out_scores[start:]), stream_ptr())
    if on_device:
        return out_ids, out_scores
    return out_ids.get(), out_scores.get()


# ------------------------------------------------------------------------------------------------------------
# Ranking metrics on the device
# ------------------------------------------------------------------------------------------------------------
def sorted_csr(indptr, indices):
    """A device CSR (int64 indptr, int32 indices) whose rows are sorted ascending: the input itself when it
    already is, else a sorted copy (the metrics kernel binary-searches the rows)."""
    cp = cupy_module()
    indptr = cp.ascontiguousarray(cp.asarray(indptr), dtype=cp.int64)
    indices = cp.ascontiguousarray(cp.asarray(indices), dtype=cp.int32)
    if indices.size < 2:
        return indptr, indices
    rows = _rows_of(indptr, int(indices.size))
    if not bool(cp.any((indices[1:] < indices[:-1]) & (rows[1:] == rows[:-1]))):
        return indptr, indices
    order = cp.argsort(rows.astype(cp.int64) * (int(indices.max()) + 1) + indices)
    return indptr, cp.ascontiguousarray(indices[order])


def ranking_metrics(top_ids, users, test, exclude, n_items):
    """Per-list ranking metrics on the device (``_cuda.ranking_metrics``): CuPy ``top_ids`` (rows x k int64)
    and ``users`` (int64), ``test`` and ``exclude`` device CSR pairs (``exclude`` may be None). Returns the
    ``(rows, 6)`` float64 CuPy array of ``socialrec._core.ranking_metrics``."""
    cp, mod = cupy_module(), cuda_module()
    top_ids = cp.ascontiguousarray(top_ids, dtype=cp.int64)
    users = cp.ascontiguousarray(users, dtype=cp.int64)
    rows, k = top_ids.shape
    test_indptr, test_indices = sorted_csr(*test)
    ex_indptr, ex_indices = sorted_csr(*exclude) if exclude is not None else (None, None)
    out = cp.empty((rows, 6), dtype=cp.float64)
    mod.ranking_metrics(ptr(top_ids), rows, k, ptr(users), ptr(test_indptr), ptr(test_indices), ptr(ex_indptr),
                        ptr(ex_indices), int(n_items), ptr(out), stream_ptr())
    return out
