"""Device-array interop: the ``__cuda_array_interface__`` (CAI) protocol, version 0 to 3.

Parsing is plain Python (no CuPy, no GPU), so that it is tested everywhere with fake producers
(tests/test_cuda_interface.py). ``as_cupy`` then wraps a parsed array as a zero-copy CuPy view that keeps
the producer's strides, after making the current CuPy stream wait for the producer's stream.

Protocol summary (numba's "CUDA Array Interface (Version 3)"):

- required: ``shape`` (tuple of int), ``typestr`` (NumPy typestr), ``data`` = (pointer, read-only flag)
  (pointer 0 for zero-size arrays), ``version``;
- optional: ``strides`` (None or byte strides; None means C-contiguous), ``descr``, ``mask`` (None or an
  object with the interface; masked arrays are not supported here), ``stream`` (version 3): None = no
  synchronisation needed, 1 = the legacy default stream, 2 = the per-thread default stream, any other
  integer a ``cudaStream_t``; 0 is disallowed (it would be ambiguous).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from . import _backend

__all__ = ["CudaArrayInfo", "parse_cuda_array_interface", "has_cuda_array_interface", "is_device_sparse",
           "is_device_input", "LEGACY_DEFAULT_STREAM", "PER_THREAD_DEFAULT_STREAM", "as_cupy"]

SUPPORTED_VERSIONS = (0, 1, 2, 3)
LEGACY_DEFAULT_STREAM = 1
PER_THREAD_DEFAULT_STREAM = 2
_KINDS = "biuf"  # bool, signed, unsigned, floating: everything socialrec's kernels can take after a cast


@dataclass(frozen=True)
class CudaArrayInfo:
    """A validated ``__cuda_array_interface__``: byte strides are always filled in."""

    ptr: int
    shape: Tuple[int, ...]
    strides: Tuple[int, ...]
    dtype: np.dtype
    readonly: bool
    stream: Optional[int]
    version: int

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def c_contiguous(self):
        return self.strides == _c_strides(self.shape, self.dtype.itemsize) or self.size <= 1

    def byte_extent(self):
        """(lowest, highest + 1) byte offsets touched, relative to ``ptr`` (negative strides allowed)."""
        if self.size == 0:
            return 0, 0
        lo = sum(s * (n - 1) for s, n in zip(self.strides, self.shape) if s < 0)
        hi = sum(s * (n - 1) for s, n in zip(self.strides, self.shape) if s > 0)
        return lo, hi + self.dtype.itemsize


def _c_strides(shape, itemsize):
    strides, step = [], itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= max(int(n), 1)
    return tuple(reversed(strides))


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def has_cuda_array_interface(obj):
    """True when ``obj`` exposes ``__cuda_array_interface__`` (a CuPy array, a Numba device array...)."""
    try:
        return isinstance(getattr(obj, "__cuda_array_interface__", None), dict)
    except Exception:  # noqa: BLE001 - a property that raises means "not usable"
        return False


def is_device_sparse(obj):
    """True for ``cupyx.scipy.sparse`` matrices (checked by module name: CuPy is imported lazily)."""
    return type(obj).__module__.startswith("cupyx.scipy.sparse")


def is_device_input(obj):
    """True for inputs that live on a CUDA device (CAI producers, DLPack CUDA tensors, CuPy sparse)."""
    if is_device_sparse(obj) or has_cuda_array_interface(obj):
        return True
    dev = getattr(obj, "__dlpack_device__", None)
    if callable(dev) and not isinstance(obj, np.ndarray):
        try:
            return int(dev()[0]) in (2, 3, 13)  # kDLCUDA, kDLCUDAHost, kDLCUDAManaged
        except Exception:  # noqa: BLE001
            return False
    return False


def parse_cuda_array_interface(obj, name="array"):
    """Validate ``obj.__cuda_array_interface__`` (or a CAI dict itself) and return a ``CudaArrayInfo``.

    Raises ``TypeError`` for what is not a CUDA array of numbers and ``ValueError`` for a malformed or
    unsupported interface, naming ``name`` and the offending entry.
    """
    cai = obj if isinstance(obj, dict) else getattr(obj, "__cuda_array_interface__", None)
    if not isinstance(cai, dict):
        raise TypeError(f"{name}: {type(obj).__name__} does not expose __cuda_array_interface__")
    for key in ("shape", "typestr", "data", "version"):
        if key not in cai:
            raise ValueError(f"{name}: __cuda_array_interface__ has no '{key}' entry")
    version = cai["version"]
    if not _is_int(version) or int(version) not in SUPPORTED_VERSIONS:
        raise ValueError(f"{name}: __cuda_array_interface__ version {version!r} is not supported "
                         f"(supported: {', '.join(map(str, SUPPORTED_VERSIONS))})")
    version = int(version)

    shape = cai["shape"]
    if not isinstance(shape, (tuple, list)) or not all(_is_int(n) and n >= 0 for n in shape):
        raise ValueError(f"{name}: shape {shape!r} must be a tuple of non-negative integers")
    shape = tuple(int(n) for n in shape)

    typestr = cai["typestr"]
    if not isinstance(typestr, str):
        raise TypeError(f"{name}: typestr {typestr!r} must be a string")
    try:
        dtype = np.dtype(typestr)
    except TypeError:
        raise TypeError(f"{name}: typestr {typestr!r} is not a NumPy type string") from None
    if dtype.kind not in _KINDS or dtype.fields is not None:
        raise TypeError(f"{name}: dtype {dtype} (typestr {typestr!r}) is not supported; expected booleans, "
                        "integers or floating-point numbers")
    if not dtype.isnative:
        raise TypeError(f"{name}: typestr {typestr!r} has non-native byte order")

    data = cai["data"]
    if not isinstance(data, (tuple, list)) or len(data) != 2 or not _is_int(data[0]):
        raise ValueError(f"{name}: data {data!r} must be a (pointer, read-only flag) pair")
    ptr, readonly = int(data[0]), data[1]
    if not isinstance(readonly, (bool, np.bool_)):
        raise ValueError(f"{name}: data[1] (read-only flag) must be a bool, got {readonly!r}")
    if ptr < 0:
        raise ValueError(f"{name}: negative data pointer {ptr}")

    strides = cai.get("strides")
    if strides is None:
        strides = _c_strides(shape, dtype.itemsize)
    else:
        if not isinstance(strides, (tuple, list)) or not all(_is_int(s) for s in strides):
            raise ValueError(f"{name}: strides {strides!r} must be None or a tuple of integers")
        if len(strides) != len(shape):
            raise ValueError(f"{name}: strides {tuple(strides)} do not match shape {shape}")
        strides = tuple(int(s) for s in strides)

    if cai.get("mask") is not None:
        raise ValueError(f"{name}: masked CUDA arrays are not supported (mask is not None)")

    stream = cai.get("stream") if version >= 3 else None
    if stream is not None:
        if not _is_int(stream):
            raise ValueError(f"{name}: stream {stream!r} must be None or an integer")
        stream = int(stream)
        if stream == 0:
            raise ValueError(f"{name}: stream 0 is disallowed by the CUDA array interface (ambiguous); the "
                             "producer must export 1 (legacy default stream), 2 (per-thread) or a stream handle")
        if stream < 0:
            raise ValueError(f"{name}: invalid stream handle {stream}")

    size = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if ptr == 0 and size > 0:
        raise ValueError(f"{name}: null data pointer for a non-empty array of shape {shape}")
    return CudaArrayInfo(ptr=ptr, shape=shape, strides=strides, dtype=dtype, readonly=bool(readonly),
                         stream=stream, version=version)


# ------------------------------------------------------------------------------------------------------------
# CuPy side (imported lazily; needs a device)
# ------------------------------------------------------------------------------------------------------------
def _cupy():
    return _backend.cupy_module()


def producer_stream(info, cp=None):
    """The producer's stream as a CuPy stream object, or None when no synchronisation is needed."""
    if info.stream is None:
        return None
    cp = cp or _cupy()
    if info.stream == LEGACY_DEFAULT_STREAM:
        return cp.cuda.Stream.null
    if info.stream == PER_THREAD_DEFAULT_STREAM:
        return cp.cuda.Stream.ptds
    return cp.cuda.ExternalStream(info.stream)


def wait_for_producer(info, cp=None):
    """Make CuPy's current stream wait (on the device, without blocking the host) for the producer's work."""
    producer = producer_stream(info, cp)
    if producer is None:
        return
    cp = cp or _cupy()
    consumer = cp.cuda.get_current_stream()
    if producer.ptr == consumer.ptr:
        return
    consumer.wait_event(producer.record())


def as_cupy(obj, name="array"):
    """A CuPy array viewing ``obj`` without a copy (strides kept), ordered after the producer's stream.

    Accepts CuPy arrays (returned as they are), ``__cuda_array_interface__`` producers and DLPack CUDA tensors.
    """
    cp = _cupy()
    if isinstance(obj, cp.ndarray):
        return obj
    if has_cuda_array_interface(obj):
        info = parse_cuda_array_interface(obj, name)
        wait_for_producer(info, cp)
        if info.size == 0:
            return cp.empty(info.shape, dtype=info.dtype)
        lo, hi = info.byte_extent()
        memory = cp.cuda.UnownedMemory(info.ptr + lo, hi - lo, obj)
        return cp.ndarray(info.shape, dtype=info.dtype, memptr=cp.cuda.MemoryPointer(memory, -lo),
                          strides=info.strides)
    if hasattr(obj, "__dlpack__"):
        return cp.from_dlpack(obj)  # the DLPack protocol carries the stream hand-off itself
    raise TypeError(f"{name}: expected a CUDA array (CuPy, __cuda_array_interface__ or DLPack), "
                    f"got {type(obj).__name__}")
