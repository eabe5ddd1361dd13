"""Back-end discovery: which compiled modules exist and which devices they can reach.

Three facts are kept apart (``build_info()`` reports each): whether ``socialrec._cuda`` was built
(``cuda_built``), which devices its runtime sees (``cuda_devices``; ``cuda_status`` says why none), and
whether CuPy, which holds the device arrays, can be imported (``cupy``). Nothing here touches the driver at
import time; the first probe happens when a model resolves ``device="cuda"`` (or ``"auto"`` once the kernels are
verified) or when ``build_info()`` is called.

Quiet by default (issue 16): a CPU run never warns. ``device="auto"`` means the CPU until the GPU suite has
passed on a real device (``_gpu_status.VERIFIED``, recorded in the repository); after that it picks CUDA when
it can and falls back to the CPU silently. ``device="cuda"`` is the explicit opt-in: it raises when CUDA
cannot run, and while the kernels are unverified it warns once per process (``UnverifiedCudaWarning``).
"""
from __future__ import annotations

import functools
import os
import warnings
from typing import Any, Dict

from . import _core, _gpu_status
from ._errors import CudaError, UnverifiedCudaWarning

_WARNED: set = set()

# Why CUDA cannot be used in this process although the probe found a device: a sticky fault (``mark_lost``,
# ``_faults``) or a fork after the parent initialised CUDA (``_after_fork_in_child``). None while usable.
_LOST_REASON = None


@functools.lru_cache(maxsize=None)
def cuda_module():
    """``socialrec._cuda`` when it was built, else None."""
    try:
        from . import _cuda  # noqa: F401
    except ImportError:
        return None
    return _cuda


def cupy_module():
    """``cupy``, or an ImportError that says how to install it (imported on first use: CuPy is optional)."""
    try:
        import cupy
    except ImportError as e:
        raise ImportError("device='cuda' needs CuPy: pip install 'socialrec[cuda13]' (or 'socialrec[cuda12]')") from e
    return cupy


@functools.lru_cache(maxsize=None)
def _probe():
    """(device names, reason there are none or None). Never raises: a driver problem is a reason."""
    mod = cuda_module()
    if mod is None:
        return [], "socialrec was built without CUDA (no nvcc at build time, or SOCIALREC_CUDA=OFF)"
    try:
        devices = list(mod.devices())
    except Exception as e:  # noqa: BLE001 - a missing driver must not break anything
        return [], f"socialrec was built with CUDA but the CUDA runtime reports: {e}"
    if not devices:
        return [], "socialrec was built with CUDA but no CUDA device is present"
    return devices, None


def _state():
    """``_probe()``, unless CUDA was lost in this process since (a sticky fault, a fork): then ([], why)."""
    if _LOST_REASON is not None:
        return [], _LOST_REASON
    return _probe()


def mark_lost(reason):
    """CUDA cannot be used again in this process (``reason`` says why): clear the cached probe, and make
    ``cuda_available()`` False and ``device="cuda"`` raise ``CudaError`` with ``reason`` from now on."""
    global _LOST_REASON
    _LOST_REASON = reason
    getattr(_probe, "cache_clear", lambda: None)()


def _after_fork_in_child():
    """``os.register_at_fork`` hook: a child forked after its parent initialised CUDA (a successful cached probe)
    inherits a context it cannot use, so CUDA is marked lost there (models fall back to the CPU: see
    ``models/device.py`` ``_on_load``); otherwise the cached probe is only cleared, and the child probes again."""
    info = getattr(_probe, "cache_info", None)
    initialised = info is not None and info().currsize > 0 and bool(_probe()[0])
    if initialised:
        mark_lost("this process was forked from one that had initialised CUDA, which a forked child cannot use "
                  "(start workers with the 'spawn' or 'forkserver' method to use the GPU in them)")
    else:
        getattr(_probe, "cache_clear", lambda: None)()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@functools.lru_cache(maxsize=None)
def cupy_version():
    """CuPy's version string, or None when CuPy cannot be imported."""
    try:
        import cupy
    except Exception:  # noqa: BLE001 - ImportError, or a CuPy built for another CUDA
        return None
    return str(cupy.__version__)


def cuda_devices():
    """Names of the CUDA devices the built back-end can see ([] when not built or none present)."""
    return list(_state()[0])


def _warn_once(key, message, category=RuntimeWarning):
    if key in _WARNED:
        return
    _WARNED.add(key)
    warnings.warn(message, category, stacklevel=4)


def cuda_available(warn=True):
    """True when CUDA kernels can run here: built, a device present, CuPy importable.

    A CUDA build without a usable device (or without CuPy) warns once per process when ``warn``.
    """
    devices, reason = _state()
    if cuda_module() is None:
        return False  # a CPU-only build is a normal configuration: no warning
    if not devices:
        if warn:
            _warn_once("device", f"{reason}; socialrec runs on the CPU")
        return False
    if cupy_version() is None:
        if warn:
            _warn_once("cupy", "a CUDA device is present but CuPy is not installed; socialrec runs on the CPU "
                               "(pip install 'socialrec[cuda13]' or 'socialrec[cuda12]' to use the GPU)")
        return False
    return True


def require_cuda():
    """Raise ``RuntimeError`` (``socialrec.CudaError`` for driver problems) naming what is missing."""
    devices, reason = _state()
    if cuda_module() is None:
        raise RuntimeError(f"{reason}; use device='cpu'")
    if not devices:
        raise CudaError(f"{reason}; use device='cpu'")
    if cupy_version() is None:
        raise RuntimeError("device='cuda' needs CuPy (pip install 'socialrec[cuda13]' or 'socialrec[cuda12]')")


def resolve_device(device, dtype, cuda_kernels, name):
    """The device a model with these settings runs on: ``"cpu"`` or ``"cuda"``.

    ``"auto"`` is the CPU while the kernels are unverified (``_gpu_status.VERIFIED`` False: no probe, no
    warning). Once verified it picks CUDA when the model has CUDA kernels, its dtype is one CUDA computes in
    (float32, or float16 storage), and ``cuda_available()``; otherwise the CPU, silently. ``"cuda"`` raises a
    clear error when any of these is missing, and warns once per process (``UnverifiedCudaWarning``) while
    the kernels are unverified.
    """
    if device == "cpu":
        return "cpu"
    if device == "cuda":
        if not cuda_kernels:
            raise ValueError(f"{name} has no CUDA kernels yet; use device='cpu' (or 'auto')")
        if dtype == "float64":
            raise ValueError(f"{name}: dtype='float64' is not available with device='cuda' (the CUDA kernels "
                             "compute in float32); use dtype='float32' or 'float16'")
        require_cuda()
        if not _gpu_status.VERIFIED:
            _warn_once("unverified", "device='cuda': socialrec's CUDA kernels have not yet passed the GPU suite "
                       "on a real device (socialrec/_gpu_status.py, docs/CUDA.md); check the results against "
                       "device='cpu' before relying on them", UnverifiedCudaWarning)
        return "cuda"
    if device != "auto":
        raise ValueError(f"device={device!r} must be 'auto', 'cpu' or 'cuda'")
    if not _gpu_status.VERIFIED:
        return "cpu"  # until the GPU suite has passed on a real device, "auto" does not switch to CUDA
    if cuda_kernels and dtype != "float64" and cuda_available(warn=False):
        return "cuda"
    return "cpu"


def build_info() -> Dict[str, Any]:
    """Build and run-time facts: version, compiler, openmp, simd, cuda_built, cuda_archs, cuda_devices, ...

    ``cuda_built`` is False for a build without the CUDA back-end; ``cuda_devices`` is empty when it was
    built but no device (or driver) is usable, and ``cuda_status`` then says why (``"ok"`` otherwise).
    ``cuda_verified`` is False until the CUDA kernels have passed the GPU suite on a real device: until then
    ``device="auto"`` runs on the CPU (``socialrec/_gpu_status.py``).
    """
    info = dict(_core.build_info)
    mod = cuda_module()
    devices, reason = _state()
    info["cuda_built"] = mod is not None
    info["cuda_archs"] = list(getattr(mod, "archs", [])) if mod is not None else []
    info["cuda_version"] = int(getattr(mod, "cuda_version", 0)) if mod is not None else None
    info["cuda_devices"] = list(devices)
    info["cuda_status"] = "ok" if reason is None else reason
    info["cupy"] = cupy_version() if mod is not None else None
    info["cuda_verified"] = bool(_gpu_status.VERIFIED)  # whether device="auto" may pick CUDA (_gpu_status.py)
    info["max_threads"] = _core.max_threads()
    return info
