"""Back-end discovery: which compiled modules exist and which devices they can reach."""
from __future__ import annotations

import functools
import warnings

from . import _core


@functools.lru_cache(maxsize=None)
def cuda_module():
    """``socialrec._cuda`` when it was built, else None."""
    try:
        from . import _cuda  # noqa: F401
    except ImportError:
        return None
    return _cuda


@functools.lru_cache(maxsize=None)
def cuda_devices():
    """Names of the CUDA devices the built back-end can see ([] when not built or none present)."""
    mod = cuda_module()
    if mod is None:
        return []
    try:
        devices = list(mod.devices())
    except Exception as e:  # noqa: BLE001 - a driver problem must not break import
        warnings.warn(f"socialrec was built with CUDA but no device is usable: {e}", RuntimeWarning, stacklevel=3)
        return []
    return devices


def require_cuda():
    if cuda_module() is None:
        raise RuntimeError("socialrec was built without CUDA (no nvcc at build time); use device='cpu'")
    if not cuda_devices():
        raise RuntimeError("socialrec was built with CUDA but no CUDA device is present; use device='cpu'")


def build_info():
    """Build and run-time facts: version, compiler, openmp, simd, cuda_built, cuda_archs, cuda_devices."""
    info = dict(_core.build_info)
    mod = cuda_module()
    info["cuda_built"] = mod is not None
    info["cuda_archs"] = list(getattr(mod, "archs", [])) if mod is not None else []
    info["cuda_devices"] = cuda_devices()
    info["max_threads"] = _core.max_threads()
    return info
