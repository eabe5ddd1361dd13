"""CUDA support shared by the models that have CUDA kernels (``class M(DeviceMixin, SGDModel)``).

A model with this mixin keeps every fitted array on its device: NumPy on the CPU, CuPy on ``device="cuda"``
(``parameters_``, ``seen_indptr_``, ``seen_indices_`` and the model's ``_FIT_ARRAYS``). ``device_`` says where
they are. The model itself
supplies ``_prepare_cuda(train)`` (device training state, ``train`` a ``_gpu.DeviceRatings``) and
``_run_epoch_cuda(state, settings)`` (one call into ``socialrec._cuda.<model>_epoch`` with the dicts the CPU
``_run_epoch`` passes to ``socialrec._core``, CuPy arrays in place of NumPy ones: ``run_epoch``); the
epoch loop, early stopping and divergence checks are the CPU ones (``Model._train_loop``).

Rules: initial parameters are drawn on the host with the CPU path's generator, so that CPU and CUDA runs
start from the same point (the only host arrays a CUDA fit computes from its data are the per-row masks of
which users and items those draws keep: n_users / n_items numbers); every other training structure is built
on the device from ``_gpu.DeviceRatings`` (ratings and trust), so device input is never copied to the host; ``dtype="float16"`` stores the factor matrices in half precision on the device
(biases stay float32; compute is float32); ``to("cpu")`` widens them to float32. Outputs follow the input:
CuPy in, CuPy out.

Faults: a kernel fault or an out-of-memory reaches the device entry points (a fit's preparation and epochs,
predict, recommend, similar, ranking metrics) as CuPy's error at the next synchronisation; they re-raise it as
``socialrec.CudaError`` (``_faults.device_errors``), and a sticky fault marks CUDA unusable for the process.
A CUDA model unpickled or loaded where CUDA cannot run (no device, a sticky fault, a forked worker) is placed
on the CPU with a warning (``_on_load``).
"""
from __future__ import annotations

import warnings
from typing import Optional

import numpy as np

from .. import _arrays, _backend, _gpu, _interop
from .._faults import device_errors
from ._follow import host_graph
from ._queries import check_ids, id_space, results

_FACTOR_KEYS_SUFFIX = "_factors"

SVDPP_MAX_FACTORS = 256  # socialrec._cuda.SVDPP_MAX_FACTORS: p, z and g of a user stay in a warp's registers


class DeviceMixin:
    """Adds ``device="cuda"`` to a ``Model`` subclass (see the module docstring)."""

    _cuda_kernels = True
    _cuda_max_factors: Optional[int] = None  # the user-grouped kernels (SVD++, TrustSVD, RSTE) keep rows in registers: 256

    def _check_extra(self):
        super()._check_extra()
        limit = type(self)._cuda_max_factors
        if limit and self.device == "cuda" and self.factors > limit:
            raise ValueError(f"{type(self).__name__}: its CUDA pass supports factors <= {limit} (got "
                             f"{self.factors}); use device='cpu'")

    # -- placement --------------------------------------------------------------------------------------------
    @property
    def _device(self):
        return getattr(self, "device_", "cpu")

    def _storage_dtype(self, key, array):
        """Device dtype of a parameter array: float16 for factor matrices under dtype='float16'."""
        if self.dtype == "float16" and key.endswith(_FACTOR_KEYS_SUFFIX):
            return np.float16
        return np.float32 if array.dtype.kind == "f" else array.dtype

    def _place(self, device):
        """Move the fitted arrays to ``device`` ("cpu" or "cuda"); the ``device`` hyper-parameter is unchanged."""
        if device == "cuda":
            self.parameters_ = {k: _gpu.to_device(v, self._storage_dtype(k, v)) for k, v in self.parameters_.items()}
            self.seen_indptr_ = _gpu.to_device(self.seen_indptr_, np.int64)
            self.seen_indices_ = _gpu.to_device(self.seen_indices_, np.int32)
            for name in self._fit_arrays_present():
                setattr(self, name, _gpu.to_device(getattr(self, name)))
        else:
            params = {k: np.asarray(_gpu.to_host(v)) for k, v in self.parameters_.items()}
            if any(v.dtype == np.float16 for v in params.values()):
                params = {k: v.astype(np.float32) if v.dtype == np.float16 else v for k, v in params.items()}
                self.dtype = "float32"  # float16 storage exists on CUDA only
            self.parameters_ = params
            self.seen_indptr_ = np.asarray(_gpu.to_host(self.seen_indptr_), dtype=np.int64)
            self.seen_indices_ = np.asarray(_gpu.to_host(self.seen_indices_), dtype=np.int32)
            for name in self._fit_arrays_present():
                setattr(self, name, np.asarray(_gpu.to_host(getattr(self, name))))
        self.device_ = device
        self._invalidate()

    def _fit_arrays_present(self):
        """The ``_FIT_ARRAYS`` this model holds (e.g. RSTE's trust CSR): they live with the parameters."""
        return [name for name in self._FIT_ARRAYS if getattr(self, name, None) is not None]

    def to(self, device):
        """Move the model to ``device`` (``"cpu"`` or ``"cuda"``) and make it the model's ``device``.

        A fitted model's arrays move with it (a float16 model becomes float32 on the CPU). Returns self.
        """
        if device not in ("cpu", "cuda"):
            raise ValueError(f"device={device!r} must be 'cpu' or 'cuda'")
        if device == "cuda":
            _backend.resolve_device("cuda", self.dtype, self._cuda_kernels, type(self).__name__)
        if self.fitted:
            self._place(device)
        elif self.dtype == "float16" and device == "cpu":
            self.dtype = "float32"
        self.device = device
        return self

    def _host_copy(self):
        """A shallow copy whose fitted arrays are on the host (for save, pickling and the NumPy loss)."""
        clone = object.__new__(type(self))  # not copy.copy: that would call __getstate__, which calls this
        clone.__dict__.update(self.__dict__)
        clone.parameters_ = {k: np.asarray(_gpu.to_host(v)) for k, v in self.parameters_.items()}
        clone.seen_indptr_ = np.asarray(_gpu.to_host(self.seen_indptr_))
        clone.seen_indices_ = np.asarray(_gpu.to_host(self.seen_indices_))
        for name in self._fit_arrays_present():
            setattr(clone, name, np.asarray(_gpu.to_host(getattr(self, name))))
        clone.trust_graph_ = host_graph(getattr(self, "trust_graph_", None))
        clone.device_ = "cpu"
        clone._scoring_cache = None
        return clone

    def _on_load(self):
        """Place a loaded (or unpickled) model's host arrays: on CUDA when it resolves there and the copy to
        the device succeeds, else on the CPU with a ``RuntimeWarning`` naming why (the arrays are untouched
        by a failed placement: the host ones are put back first)."""
        host = dict(self.__dict__)
        try:
            device = self._resolve_device()
            with device_errors("placing the loaded model"):
                self._place(device)
        except (RuntimeError, ValueError, ImportError) as e:  # CudaError is a RuntimeError
            warnings.warn(f"{type(self).__name__} was saved with device={self.device!r} but {e}; loaded on the "
                          "CPU", RuntimeWarning, stacklevel=3)
            self.__dict__.clear()
            self.__dict__.update(host)
            self._place("cpu")

    # -- fitting ----------------------------------------------------------------------------------------------
    def _cuda_training_unsupported(self):
        """Hook: a description of the hyper-parameter setting the CUDA kernels cannot train with, or None (or what a
        base later in the MRO says: sgd.PenaltyScalingMixin)."""
        parent = getattr(super(), "_cuda_training_unsupported", None)
        return parent() if parent is not None else None

    def _resolve_device(self, training=False):
        """As ``Model._resolve_device``; for training, a setting the CUDA kernels lack (``_cuda_training_unsupported``)
        raises a ``ValueError`` under ``device="cuda"`` (before any work) and makes ``"auto"`` pick the CPU; so does
        ``factors`` above ``_cuda_max_factors`` under ``"auto"`` (``"cuda"`` raised in ``_check_extra``)."""
        unsupported = self._cuda_training_unsupported() if training and self.device != "cpu" else None
        if unsupported is not None:
            if self.device == "cuda":
                raise ValueError(f"{type(self).__name__}: {unsupported} is not available with device='cuda' yet "
                                 "(CPU kernels only); use device='cpu' (or 'auto', which trains it on the CPU)")
            return "cpu"
        where = super()._resolve_device(training)
        limit = type(self)._cuda_max_factors
        if where == "cuda" and limit and self.factors > limit and self.device == "auto":
            return "cpu"  # device='auto' with more factors than the kernel holds: the CPU takes it
        return where

    def _training_data(self, data, trust, device):
        if device == "cuda":
            return _gpu.training_data(data, trust)
        return super()._training_data(_host_matrix(data), _host_matrix(trust), device)

    def _seen_structure(self, train):
        if isinstance(train, _gpu.DeviceRatings):
            return train.indptr, train.indices
        return super()._seen_structure(train)

    # fit calls these two (models/base.py); a model's own _prepare / _run_epoch are its CPU path.
    def _prepare_on_device(self, train):
        if self._device != "cuda":
            return self._prepare(train)
        with device_errors(f"{type(self).__name__}.fit (preparing the device state)"):
            self.parameters_ = {k: _gpu.to_device(v, self._storage_dtype(k, v)) for k, v in self.parameters_.items()}
            return self._prepare_cuda(train)

    def _run_epoch_on_device(self, state, settings):
        if self._device != "cuda":
            return self._run_epoch(state, settings)
        with device_errors(f"{type(self).__name__}.fit (epoch {settings.get('epoch', '?')})"):
            return float(self._run_epoch_cuda(state, settings))  # float(): a pending fault surfaces here

    def _restore_or_unfit(self, backup):
        """As ``Model._restore_or_unfit``; after a sticky fault the device arrays cannot be read back, so the
        model is left unfitted rather than raising a second error while restoring."""
        if self._device == "cuda" and _backend._LOST_REASON is not None:
            self._clear_fit()
            return
        super()._restore_or_unfit(backup)

    def _prepare_cuda(self, train):  # pragma: no cover - abstract
        raise NotImplementedError

    def _factor(self, key, rows):
        """The device factor matrix ``parameters_[key]`` (rows x factors), checked before its pointer goes to a
        kernel: float16 under dtype='float16', else float32; C-contiguous."""
        dtype = np.float16 if self.dtype == "float16" else np.float32
        return _gpu.require(self.parameters_[key], dtype, key, size=rows * self.factors)

    def _run_epoch_cuda(self, state, settings):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- prediction -------------------------------------------------------------------------------------------
    def _scoring(self):
        if self._device != "cuda":
            return super()._scoring()
        self._require_fitted()
        if self._scoring_cache is None:
            self._scoring_cache = _gpu.scoring_parts(self._scoring_parts(), self.n_users_, self.n_items_)
        return self._scoring_cache

    def _apply_link(self, x):
        if not _gpu.is_cupy(x):
            return super()._apply_link(x)
        cp = _gpu.cupy_module()
        if self._link == "score":
            return x
        lo, hi = self.rating_scale_
        if self._link == "logistic":
            x = lo + (hi - lo) / (1.0 + cp.exp(-x))
        return cp.clip(x, lo, hi)

    def _device_query(self, side, values, name, ids):
        """A query for the device path: device indices as they are (``_gpu.index_array`` checks them on the
        device), anything else mapped on the host (``Model._query``)."""
        if _interop.is_device_input(values) and not id_space(self, side).translates(ids):
            return values
        return self._query(side, _host_input(values, name), name, ids)

    def predict(self, users, items=None, *, ids="raw"):
        """Predicted ratings (see ``Model.predict``); CuPy arrays in give a CuPy array out."""
        if items is None:  # scikit-learn's predict(X): X holds raw (user id, item id) pairs
            return self._predict_pairs(users)
        on_device = _interop.is_device_input(users) or _interop.is_device_input(items)
        if self._device != "cuda":
            out = super().predict(_host_input(users, "users"), _host_input(items, "items"), ids=ids)
            return _gpu.to_device(out) if on_device else out
        self._require_fitted()
        check_ids(ids)
        u = _gpu.index_array(self._device_query("user", users, "users", ids), self.n_users_, "users")
        i = _gpu.index_array(self._device_query("item", items, "items", ids), self.n_items_, "items")
        if u.shape != i.shape:
            raise ValueError(f"users and items must have the same length ({len(u)} != {len(i)})")
        with device_errors(f"{type(self).__name__}.predict"):
            out = self._apply_link(_gpu.raw_scores(self._scoring(), u, i))
            return out if on_device else out.get()

    def _top_items(self, users, n, exclude_seen, columns, row_exclude, batch_size):
        """``Model._top_items`` on the device for a model on CUDA (``users`` host or device indices)."""
        if self._device == "cuda":
            with device_errors(f"{type(self).__name__}.recommend"):
                return _gpu.recommend(self, users, n=n, exclude_seen=exclude_seen, items=columns,
                                      batch_size=batch_size, row_exclude=row_exclude)
        return super()._top_items(_host_input(users, "users"), n, exclude_seen, columns, row_exclude, batch_size)

    def _similar(self, side, query, n, ids):
        """``similar_items`` / ``similar_users``; CuPy queries give CuPy arrays out."""
        on_device = _interop.is_device_input(query)
        if self._device != "cuda":
            top, cosines = super()._similar(side, _host_input(query, f"{side}s"), n, ids)
            return results(id_space(self, side), top, cosines, "index", on_device)
        self._require_fitted()
        check_ids(ids)
        with device_errors(f"{type(self).__name__}.similar_{side}s"):
            top, cosines = _gpu.similar(self._scoring()[f"{side}_vectors"],
                                        self._device_query(side, query, f"{side}s", ids), n)
        return results(id_space(self, side), top, cosines, ids, on_device)

    def _ranking_values(self, users, test, exclude, k):
        """``Model._ranking_values`` on the device (``_gpu.ranking_values``) for a model on CUDA; lists longer
        than the device selection makes (``_gpu.topk_limit``) are ranked by the host copy."""
        if self._device != "cuda":
            return super()._ranking_values(users, test, exclude, k)
        if k > _gpu.topk_limit():
            return self._host_copy()._ranking_values(users, test, exclude, k)
        with device_errors(f"{type(self).__name__}: ranking metrics"):
            return _gpu.ranking_values(self, users, test, exclude, k)

    def loss(self, data):
        data = _host_matrix(data)
        if self._device == "cuda":
            return self._host_copy().loss(data)
        return super().loss(data)

    # -- persistence ------------------------------------------------------------------------------------------
    def save(self, path):
        """Save (see ``Model.save``); a CUDA model's arrays are copied to the host first."""
        if self._device == "cuda":
            return self._host_copy().save(path)
        return super().save(path)

    def __getstate__(self):
        if self._device == "cuda" and self.fitted:
            state = self._host_copy().__dict__.copy()
            state["_pickled_on"] = "cuda"
        else:
            state = dict(self.__dict__)
        state["_scoring_cache"] = None
        state.pop("_id_spaces", None)  # rebuilt on demand
        return state

    def __setstate__(self, state):
        on = state.pop("_pickled_on", None)
        self.__dict__.update(state)
        if on == "cuda":
            self._on_load()


def _host_input(x, name):
    """Host copy of a device array (CPU-resident models); anything else passes through."""
    if x is not None and _interop.is_device_input(x):
        return _gpu.to_host(_interop.as_cupy(x, name))
    return x


def _host_matrix(m):
    """Host (scipy.sparse) copy of a device matrix, for the CPU path; anything else passes through."""
    if m is None or not _interop.is_device_input(m):
        return m
    if _interop.is_device_sparse(m):
        return m.get()
    import scipy.sparse as sp

    return sp.csr_matrix(_gpu.to_host(_interop.as_cupy(m, "ratings")))


# ------------------------------------------------------------------------------------------------------------
# Device training state shared by the models' _prepare_cuda / _run_epoch_cuda
# ------------------------------------------------------------------------------------------------------------
def shuffled(seed, salt, *arrays):
    """The device copies of ``arrays`` (equal lengths; int32 or float32 kept as given) permuted by one
    once-per-fit shuffle: hash keys of ``seed + salt`` (``_cuda.shuffle_keys``) sorted by ``cupy.argsort``.
    ``salt`` tells the passes of one model apart, so their records are shuffled independently."""
    cp, mod = _gpu.cupy_module(), _gpu.cuda_module()
    arrays = [cp.asarray(a) for a in arrays]
    n = len(arrays[0])
    keys = cp.empty(n, dtype=cp.uint64)
    mod.shuffle_keys(_gpu.ptr(keys), n, (int(seed) + int(salt)) % (1 << 64), _gpu.stream_ptr())
    order = cp.argsort(keys)
    del keys
    out = []
    for a in arrays:
        dtype = cp.float32 if a.dtype.kind == "f" else cp.int32
        out.append(cp.ascontiguousarray(a[order], dtype=dtype))
    return out


def records(seed, salt, a, b, values):
    """A pass's (a, b, value) records on the device, shuffled once per fit (see ``shuffled``)."""
    a, b, values = shuffled(seed, salt, a, b, values)
    return {"a": a, "b": b, "values": values, "n": int(len(values))}


def user_groups(seed, train, values):
    """The state of a user-grouped pass (SVD++, TrustSVD, RSTE): the users with ratings, shuffled once
    (salt 2); each user's ratings as (items, ``values``) in CSR layout (``offsets`` = the ratings' indptr),
    the order inside each user shuffled once per fit (salt 3). ``values`` runs in CSR order with
    ``train.indices``."""
    cp, mod = _gpu.cupy_module(), _gpu.cuda_module()
    indptr, nnz = train.indptr, train.nnz
    keys = cp.empty(nnz, dtype=cp.uint64)
    mod.shuffle_keys(_gpu.ptr(keys), nnz, (int(seed) + 3) % (1 << 64), _gpu.stream_ptr())
    rows = _arrays.rows_of(indptr, cp).astype(cp.uint64)
    order = cp.argsort((rows << cp.uint64(32)) | (keys >> cp.uint64(32)))  # by user, shuffled inside
    del keys, rows
    (users,) = shuffled(seed, 2, cp.flatnonzero(cp.diff(indptr) > 0).astype(cp.int32))
    return {"users": users, "offsets": cp.ascontiguousarray(indptr, dtype=cp.int64),
            "items": cp.ascontiguousarray(train.indices[order], dtype=cp.int32),
            "values": cp.ascontiguousarray(values[order], dtype=cp.float32)}


def unit_ratings(train):
    """The training ratings as device (users, items, r~) with r~ = (r - r_min) / (r_max - r_min), computed
    like ``_social.unit_values`` (float64, then float32)."""
    cp = _gpu.cupy_module()
    users, items, values = train.user_item_arrays()
    lo, hi = train.rating_scale
    return users, items, ((values.astype(cp.float64) - lo) / (hi - lo)).astype(cp.float32)


def mean_pull_state(seed, salt, offsets, neighbours, weights):
    """Device state of a mean-pull user pass: the users with neighbours (shuffled once per fit), the CSR
    offsets (int64), neighbours (int32) and weights (float32, summing to 1 per user). The arrays may be
    NumPy (uploaded) or CuPy."""
    cp = _gpu.cupy_module()
    offsets = cp.asarray(offsets, dtype=cp.int64)
    (users,) = shuffled(seed, salt, cp.flatnonzero(cp.diff(offsets) > 0).astype(cp.int32))
    return {"users": users, "n": int(len(users)), "offsets": offsets,
            "neighbours": cp.asarray(neighbours, dtype=cp.int32), "weights": cp.asarray(weights, dtype=cp.float32)}


def run_epoch(kernel, arrays, hyper, settings):
    """One epoch of ``socialrec._cuda.<kernel>`` (e.g. ``"sorec_epoch"``) on CuPy's current stream: ``arrays``,
    ``hyper`` and ``settings`` are the dicts of the CPU ``_core.<kernel>`` (``{**parameters_, **state}``; the
    state's pass structures as nested dicts, its ``loss`` one float64 slot per pass). The binding checks every
    array's dtype, contiguity and size, launches the passes, waits for them and returns the epoch loss."""
    return getattr(_gpu.cuda_module(), kernel)(arrays, hyper, settings, _gpu.stream_ptr())
