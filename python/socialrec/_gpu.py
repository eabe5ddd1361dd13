"""The Python side of the CUDA back-end: device training data, array placement, prediction and top-N.

Everything here runs only on ``device="cuda"``; CuPy is imported lazily (``_backend.cupy_module``). Device arrays are
allocated by CuPy and filled by the kernels of ``socialrec._cuda``, which take raw pointers and CuPy's
current stream, so kernels and CuPy operations stay ordered on one stream.

Training data of a CUDA fit is a ``DeviceRatings`` (ratings CSR) with a ``DeviceTrust`` (trust CSR), both
canonical and on the device; the models build every training structure from them with CuPy
(``socialrec._arrays``), so device input is never copied to the host.
"""
from __future__ import annotations

import numpy as np

from . import _arrays, _backend, _engine, _interop, _sparse, _validate
from .data import Dataset, as_dataset


def cupy_module():
    """``cupy`` (``_backend.cupy_module``, looked up on each call so that tests can stand a fake in for it)."""
    return _backend.cupy_module()


def cuda_module():
    """``socialrec._cuda``, or a RuntimeError when socialrec was built without it."""
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
def array_module(data):
    """``cupy`` for device training data (``DeviceRatings``, ``DeviceTrust``), ``numpy`` for anything else: the
    ``xp`` with which a model builds its training structures (``socialrec._arrays``)."""
    return cupy_module() if isinstance(data, (DeviceRatings, DeviceTrust)) else np


def cupyx_sparse():
    """``cupyx.scipy.sparse`` (imported lazily, like ``cupy_module``)."""
    cupy_module()
    import cupyx.scipy.sparse

    return cupyx.scipy.sparse


class _DeviceCsr:
    """A CSR matrix on the device (``indptr`` int64, ``indices`` int32, ``data`` float32, CuPy) with the part of
    scipy's CSR surface the models use: ``shape``, ``nnz``, ``tocsr``, ``getnnz``."""

    nnz = property(lambda self: int(self.indices.size))

    def tocsr(self):
        return self

    def getnnz(self, axis):
        """Entries per row (axis=1) or per column (axis=0) as a host int64 array: one number per user or item,
        for the masks of the initial parameters, which are drawn on the host (DESIGN §5)."""
        cp = cupy_module()
        if axis == 1:
            return to_host(cp.diff(self.indptr))
        return to_host(_arrays.bincount(self.indices, self.shape[1], xp=cp))


class DeviceRatings(_DeviceCsr):
    """Training ratings on the device, with the part of ``Dataset``'s surface that ``Model.fit`` uses.

    A canonical CSR (rows sorted by column, no duplicates; ``indptr`` int64, ``indices`` int32, ``data``
    float32, CuPy); ``ratings`` is the object itself (``shape``, ``nnz``, ``data``, ``getnnz``, ``tocsr``), and
    ``trust`` the trust graph as a ``DeviceTrust``. Built from a ``Dataset`` (one upload) or from device input
    (``from_device``); either way a CUDA fit builds every training structure from these device arrays and
    never copies the ratings or the trust graph to the host.
    """

    def __init__(self, indptr, indices, data, shape, rating_scale, trust, user_ids=None, item_ids=None):
        self.indptr, self.indices, self.data = indptr, indices, data
        self.shape = (int(shape[0]), int(shape[1]))
        self.rating_scale = tuple(float(x) for x in rating_scale)
        self.trust = trust
        self.user_ids, self.item_ids = user_ids, item_ids

    ratings = property(lambda self: self)
    n_users = property(lambda self: self.shape[0])
    n_items = property(lambda self: self.shape[1])

    def user_item_arrays(self):
        """(users int32, items int32, values float32) on the device, in CSR order."""
        return _arrays.rows_of(self.indptr, cupy_module()), self.indices, self.data

    def trust_arrays(self):
        """The trust edges (src int32, dst int32, values float32) on the device, in CSR order."""
        return self.trust.trust_arrays()

    @classmethod
    def from_dataset(cls, ds):
        cp = cupy_module()
        r = ds.ratings.tocsr()
        return cls(cp.asarray(np.asarray(r.indptr, dtype=np.int64)), cp.asarray(np.asarray(r.indices, np.int32)),
                   cp.asarray(np.asarray(r.data, np.float32)), r.shape, ds.rating_scale,
                   DeviceTrust.from_host(ds.trust), ds.user_ids, ds.item_ids)

    @classmethod
    def from_device(cls, ratings, trust=None, rating_scale=None):
        """From a ``cupyx.scipy.sparse`` matrix (any format) or a dense 2-D CUDA array (its nonzeros are the
        ratings), with the CPU path's rules: duplicates of a COO input are summed, stored zeros of a sparse
        input are ratings, NaN/inf raise ``ValueError``; the trust graph goes through ``device_trust``. All of it
        runs on the device; the input is never modified."""
        cp = cupy_module()
        if _interop.is_device_sparse(ratings):
            shape, dtype = tuple(ratings.shape), ratings.dtype
        else:
            ratings = _interop.as_cupy(ratings, "ratings")
            shape, dtype = ratings.shape, ratings.dtype
        if len(shape) != 2:
            raise ValueError(f"ratings must be 2-D, got shape {shape}")
        if np.dtype(dtype).kind not in "biuf":
            raise TypeError(f"ratings has dtype {dtype}; expected real numbers")
        rows, cols, values = _device_entries(ratings)
        if int(values.size) == 0:
            raise ValueError("no ratings: the ratings matrix stores no entries")
        rows, cols, values = _canonical_entries(rows, cols, values, shape[1])
        bad = cp.flatnonzero(~cp.isfinite(values))
        if bad.size:
            k = int(bad[0])
            raise ValueError(f"ratings contain a non-finite value at (user {int(rows[k])}, item {int(cols[k])})")
        if rating_scale is None:
            rating_scale = (float(values.min()), float(values.max()))
        return cls(_arrays.offsets_of(rows, shape[0], cp), cols.astype(cp.int32), values.astype(cp.float32), shape,
                   rating_scale, device_trust(trust, shape[0]))


class DeviceTrust(_DeviceCsr):
    """The trust graph of a CUDA fit on the device, in the form ``Dataset.trust`` has on the host: a canonical
    CSR (rows sorted, no duplicates, no self-loops, no stored zeros; ``indptr`` int64, ``indices`` int32,
    ``data`` float32, CuPy) with the part of scipy's CSR surface the models use."""

    def __init__(self, indptr, indices, data, n_users):
        self.indptr, self.indices, self.data = indptr, indices, data
        self.shape = (int(n_users), int(n_users))

    def trust_arrays(self):
        """(src int32, dst int32, values float32) on the device, in CSR order (``Dataset.trust_arrays``)."""
        return _arrays.rows_of(self.indptr, cupy_module()), self.indices, self.data

    @classmethod
    def from_host(cls, trust):
        """Upload a canonical host CSR (``Dataset.trust``)."""
        cp = cupy_module()
        t = trust.tocsr()
        return cls(cp.asarray(np.asarray(t.indptr, dtype=np.int64)), cp.asarray(np.asarray(t.indices, np.int32)),
                   cp.asarray(np.asarray(t.data, np.float32)), t.shape[0])


def device_trust(trust, n_users):
    """The trust graph of a CUDA fit as a ``DeviceTrust``, cleaned by the CPU path's rules
    (``Dataset.from_sparse``): square n_users x n_users, duplicates summed, NaN/inf or values beyond float32
    raise ``ValueError``, self-loops and stored zeros dropped with a ``UserWarning``. A ``cupyx.scipy.sparse``
    matrix or dense CUDA array is cleaned on the device, without a host copy; host input (scipy.sparse, NumPy)
    is cleaned on the host, where it already is, and uploaded; None gives an empty graph."""
    cp = cupy_module()
    if trust is None:
        return DeviceTrust(cp.zeros(n_users + 1, dtype=cp.int64), cp.zeros(0, dtype=cp.int32),
                           cp.zeros(0, dtype=cp.float32), n_users)
    if not _interop.is_device_input(trust):
        import scipy.sparse as sp

        host = trust if sp.issparse(trust) else sp.csr_matrix(np.asarray(trust))
        return DeviceTrust.from_host(_sparse.clean_sparse_trust(host, n_users))
    if not _interop.is_device_sparse(trust):
        trust = _interop.as_cupy(trust, "trust")
    _validate.check_trust_shape(tuple(trust.shape), n_users)
    rows, cols, values = _canonical_entries(*_device_entries(trust), n_users)
    bad = cp.flatnonzero(~cp.isfinite(values))
    if bad.size:
        k = int(bad[0])
        raise ValueError(f"trust[{int(rows[k])}, {int(cols[k])}] is {float(values[k])}")
    big = cp.flatnonzero(cp.abs(values) > _validate.FLOAT32_MAX)
    if big.size:
        k = int(big[0])
        raise ValueError(f"trust[{int(rows[k])}, {int(cols[k])}] = {float(values[k])!r} does not fit float32")
    loops, zeros = rows == cols, values == 0
    _sparse.warn_dropped_trust(int(loops.sum()), int((zeros & ~loops).sum()), stacklevel=5)
    keep = ~(loops | zeros)
    rows, cols, values = rows[keep], cols[keep], values[keep]
    return DeviceTrust(_arrays.offsets_of(rows, n_users, cp), cols.astype(cp.int32), values.astype(cp.float32),
                       n_users)


def _device_entries(matrix):
    """(rows, cols, values) of the stored entries of a ``cupyx.scipy.sparse`` matrix (any format), or of the
    nonzeros of a dense CuPy array, on the device (the matrix itself is not modified)."""
    cp = cupy_module()
    if _interop.is_device_sparse(matrix):
        coo = matrix.tocoo()
        return coo.row, coo.col, coo.data
    rows, cols = cp.nonzero(matrix)
    return rows, cols, matrix[rows, cols]


def _canonical_entries(rows, cols, values, n_cols):
    """Entries sorted by (row, col) with the values of repeated pairs summed (in float64), on the device: the
    canonical form that scipy's ``sum_duplicates`` gives the CPU path. Returns int64 rows and columns and
    float64 values."""
    cp = cupy_module()
    keys = rows.astype(cp.int64) * int(n_cols) + cols.astype(cp.int64)
    if int(keys.size) == 0:
        return keys, keys.copy(), values.astype(cp.float64)
    keys, inverse = cp.unique(keys, return_inverse=True)
    values = _arrays.bincount(inverse.ravel(), int(keys.size), weights=values.astype(cp.float64), xp=cp)
    return keys // int(n_cols), keys % int(n_cols), values


def training_data(data, trust):
    """``DeviceRatings`` from a Dataset, a scipy.sparse matrix (uploaded once) or device input (no copy); a
    device trust graph next to host ratings stays on the device too (``device_trust``)."""
    if isinstance(data, DeviceRatings):
        return data
    if _interop.is_device_input(data):
        return DeviceRatings.from_device(data, trust)
    if isinstance(data, Dataset):
        return DeviceRatings.from_dataset(data)
    if trust is not None and _interop.is_device_input(trust):
        ratings = DeviceRatings.from_dataset(as_dataset(data))
        ratings.trust = device_trust(trust, ratings.n_users)
        return ratings
    return DeviceRatings.from_dataset(as_dataset(data, trust))


# ------------------------------------------------------------------------------------------------------------
# Prediction and top-N on the device
# ------------------------------------------------------------------------------------------------------------
def index_array(values, bound, name):
    """Validated int64 CuPy index array (1-D), from host or device input: the rules and errors of
    ``_validate.index_array``, checked on the device for device input (no host copy)."""
    cp = cupy_module()
    if not _interop.is_device_input(values):
        return cp.asarray(_validate.index_array(values, bound, name))
    arr = _validate.query_vector(_interop.as_cupy(values, name), name)
    if arr.size == 0:
        return cp.empty(0, dtype=cp.int64)
    # a fresh contiguous int64 array: strided or foreign inputs are read once
    return _validate.integer_indices(arr, bound, name, xp=cp)


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


def recommend(model, users, n=10, exclude_seen=True, items=None, batch_size=None, exclude=None, row_exclude=None):
    """``Model.recommend`` in index space on the device: scores by cuBLAS (CuPy matmul), selection by
    ``_cuda.topk_select``.

    Returns CuPy arrays when ``users`` is a device array, NumPy arrays otherwise. ``exclude``: a device CSR
    ``(indptr int64, indices int32)`` of items to leave out per user, instead of the model's training items.
    ``row_exclude``: a CSR (host or device) with one row per entry of ``users``, items left out of that row on top
    of those (merged with the user's row on the device; the selection then looks rows up by position).
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
    rows = None  # the exclusion row of each score row: its user, or its position under row_exclude
    if row_exclude is not None:
        extra = (cp.asarray(row_exclude[0], dtype=cp.int64), cp.asarray(row_exclude[1], dtype=cp.int32))
        if indptr is not None:
            extra = _arrays.union_rows(indptr, indices, users, extra[0], extra[1], model.n_items_, xp=cp)
        indptr = require(cp.ascontiguousarray(extra[0]), np.int64, "row_exclude indptr", ndim=1, size=len(users) + 1)
        indices = require(cp.ascontiguousarray(extra[1]), np.int32, "row_exclude indices", ndim=1)
        rows = cp.arange(len(users), dtype=cp.int64)
    step = _engine.score_batch_size(n_cols, batch_size)
    for start in range(0, len(users), step):
        batch = cp.ascontiguousarray(users[start:start + step])
        scores = cp.ascontiguousarray(s["user_vectors"][batch] @ item_vectors.T, dtype=cp.float32)
        scores += item_bias
        ids, top = out_ids[start:start + len(batch)], out_scores[start:start + len(batch)]
        row_ids = batch if rows is None else cp.ascontiguousarray(rows[start:start + len(batch)])
        mod.topk_select(ptr(scores), len(batch), n_cols, n_cols, ptr(row_ids), ptr(indptr), ptr(indices),
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
    step = _engine.score_batch_size(len(vectors), None)
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
    rows = _arrays.rows_of(indptr, cp)
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


def topk_limit():
    """The longest top list the device selection makes (``_cuda.TOPK_MAX_N``; 0 without the CUDA module)."""
    return getattr(_backend.cuda_module(), "TOPK_MAX_N", 0)


def ranking_values(model, users, test, exclude, k):
    """``Model._ranking_values`` for a model on CUDA: top lists, exclusion and metrics on the device (one warp
    per user); same definitions and values as the CPU path (``metrics.list_metrics``). ``users`` host int64,
    ``test`` and ``exclude`` host CSR pairs (``exclude`` None: the model's training items). Returns the
    ``(len(users), 6)`` float64 values on the host."""
    cp = cupy_module()
    users = cp.asarray(users, dtype=cp.int64)
    if exclude is None:
        exclude = (model.seen_indptr_, model.seen_indices_)
        top, _ = recommend(model, users, n=k)
    else:
        exclude = sorted_csr(cp.asarray(exclude[0]), cp.asarray(exclude[1]))
        top, _ = recommend(model, users, n=k, exclude=exclude)
    test = (cp.asarray(test[0]), cp.asarray(test[1]))
    return ranking_metrics(top, users, test, exclude, model.n_items_).get()
