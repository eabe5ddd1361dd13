"""A NumPy stand-in for CuPy and ``cupyx.scipy.sparse``, for the device-free tests of the CUDA Python layer
(tests/test_cuda_fake_device.py, tests/test_cuda_python_glue.py).

- ``FakeArray``: an ndarray subclass that passes for a CuPy array (module name ``cupy``, ``.data.ptr`` a real
  host address, registered in ``ARRAYS`` so fake kernels can find the array, ``.get()`` a host copy).
- ``fake_cupy()``: a namespace with exactly the CuPy functions socialrec uses, each the NumPy equivalent
  (``argsort`` stable, as CuPy's is; ``asarray`` a fresh "device" copy). A function missing here is one the
  package should not call on CuPy without checking that CuPy has it.
- ``FakeDeviceSparse`` / ``fake_cupyx_sparse()``: a ``cupyx.scipy.sparse`` matrix over a scipy one.
- ``GETS``: the size of every host copy (``.get()`` of an array or of a sparse matrix), so that a test can
  check what a "device" fit copied to the host.
"""
from __future__ import annotations

import types

import numpy as np
import scipy.sparse as sp

GETS = []  # sizes of the host copies made, oldest first
ARRAYS = {}  # "device address" -> array, filled whenever a pointer is taken


class FakeArray(np.ndarray):
    """A NumPy array that passes for a CuPy one where socialrec takes pointers or copies to the host."""

    def get(self):
        GETS.append(int(self.size))
        return np.array(self)

    @property
    def data(self):
        address = self.__array_interface__["data"][0]
        ARRAYS[address] = self
        return types.SimpleNamespace(ptr=address)


FakeArray.__module__ = "cupy"  # socialrec._gpu.is_cupy goes by the module name


def wrap(x):
    """NumPy arrays (also inside tuples) as FakeArrays; anything else as is."""
    if isinstance(x, np.ndarray) and not isinstance(x, FakeArray):
        return x.view(FakeArray)
    if isinstance(x, tuple):
        return tuple(wrap(v) for v in x)
    return x


def _lift(fn):
    return lambda *a, **k: wrap(fn(*a, **k))


# The CuPy functions that socialrec calls (grep "cp\.\|xp\." python/socialrec), as their NumPy equivalents.
_FUNCTIONS = ("abs", "all", "any", "arange", "bincount", "clip", "concatenate", "cumsum", "diff", "einsum",
              "empty", "exp", "flatnonzero", "full", "isfinite", "log2", "maximum", "mean", "minimum", "nonzero",
              "ones", "round", "searchsorted", "sqrt", "square", "sum", "unique", "where", "zeros")


def fake_cupy():
    cp = types.SimpleNamespace(**{n: _lift(getattr(np, n)) for n in _FUNCTIONS})
    cp.argsort = _lift(lambda a: np.argsort(a, kind="stable"))  # CuPy's argsort is stable
    cp.asarray = lambda a, dtype=None: wrap(np.array(a, dtype=dtype))  # a "device" copy
    cp.ascontiguousarray = _lift(np.ascontiguousarray)
    cp.ndarray = FakeArray
    cp.inf = np.inf
    cp.linalg = types.SimpleNamespace(norm=_lift(np.linalg.norm))
    for t in ("bool_", "float16", "float32", "float64", "int32", "int64", "uint64"):
        setattr(cp, t, getattr(np, t))
    cp.cuda = types.SimpleNamespace(get_current_stream=lambda: types.SimpleNamespace(ptr=0))
    return cp


class FakeDeviceSparse:
    """A ``cupyx.scipy.sparse`` matrix: any scipy sparse matrix (its format and duplicates kept) whose arrays come
    out as FakeArrays; ``get()`` is a host copy (recorded in GETS)."""

    def __init__(self, matrix):
        self._m = matrix

    shape = property(lambda self: self._m.shape)
    dtype = property(lambda self: self._m.dtype)
    nnz = property(lambda self: self._m.nnz)
    ndim = 2

    def tocoo(self):
        c = self._m.tocoo()
        return types.SimpleNamespace(row=wrap(np.asarray(c.row)), col=wrap(np.asarray(c.col)),
                                     data=wrap(np.asarray(c.data)), shape=c.shape)

    def get(self):
        GETS.append(int(self._m.nnz))
        return self._m.copy()

    def __matmul__(self, other):
        return wrap(np.asarray(self._m @ np.asarray(other)))


FakeDeviceSparse.__module__ = "cupyx.scipy.sparse._csr"  # socialrec._interop.is_device_sparse goes by it


def fake_cupyx_sparse():
    def csr_matrix(arg, shape=None):
        if isinstance(arg, tuple):
            arg = tuple(np.asarray(a) for a in arg)
        return FakeDeviceSparse(sp.csr_matrix(arg, shape=shape))

    return types.SimpleNamespace(csr_matrix=csr_matrix)


def install(monkeypatch, kernels, devices=("fake device (host replay)",)):
    """Patch socialrec to see a CUDA device whose CuPy is ``fake_cupy()`` and whose ``_cuda`` is ``kernels``."""
    from socialrec import _backend, _gpu

    cp = fake_cupy()
    monkeypatch.setattr(_backend, "cuda_module", lambda: kernels)
    monkeypatch.setattr(_backend, "_probe", lambda: (list(devices), None))
    monkeypatch.setattr(_backend, "cupy_version", lambda: "fake")
    monkeypatch.setattr(_backend, "cupy_module", lambda: cp)
    monkeypatch.setattr(_gpu, "cupyx_sparse", fake_cupyx_sparse)
    # the fake device replays the kernels on the host: their once-per-process "unverified" warning
    # (device="cuda" while _gpu_status.VERIFIED is False) would only add noise to the warnings tests compare
    monkeypatch.setattr(_backend, "_WARNED", {"unverified"})
    ARRAYS.clear()
    GETS.clear()
    return cp
