"""Device faults as ``socialrec.CudaError`` (issue 25, item 2).

A kernel fault (an illegal address, a failed launch) is reported by CUDA at the next synchronisation, which is
often a CuPy call (``float(loss)``, ``.get()``, an allocation), so it reaches the caller as CuPy's own error;
an out-of-memory during a CuPy allocation likewise surfaces as ``cupy.cuda.memory.OutOfMemoryError``.
``device_errors(what)`` wraps a device entry point (a fit's epoch, predict, recommend, ...) and re-raises
those as ``CudaError`` (the original chained as ``__cause__``).

Some faults are *sticky*: the CUDA context is unusable until the process ends. After one, the device probe
is told (``_backend.mark_lost``), so that ``cuda_available()`` stops claiming CUDA works and a later
``device="cuda"`` raises with the reason instead of crashing in a broken context. An out-of-memory is not
sticky: the device stays usable with smaller batches.

CuPy is optional, so its errors are recognised by class name and module (no import): ``CUDARuntimeError``
(``cupy_backends.cuda.api.runtime``, re-exported as ``cupy.cuda.runtime.CUDARuntimeError``),
``CUDADriverError`` (``cupy_backends.cuda.api.driver``) and ``OutOfMemoryError`` (``cupy.cuda.memory``).
"""
from __future__ import annotations

import contextlib

from . import _backend
from ._errors import CudaError

_CUPY_ERRORS = ("CUDARuntimeError", "CUDADriverError", "OutOfMemoryError")

# cudaError_t / CUresult codes after which the context cannot be used again (the two enums share them):
# 214 ECC uncorrectable, 700 illegal address, 702 launch timeout, 710 device assert, 714 hardware stack
# error, 715 illegal instruction, 716 misaligned address, 717 invalid address space, 718 invalid pc,
# 719 launch failure.
_STICKY_CODES = frozenset({214, 700, 702, 710, 714, 715, 716, 717, 718, 719})
_STICKY_NAMES = ("IllegalAddress", "LaunchTimeout", "Assert", "HardwareStackError", "IllegalInstruction",
                 "MisalignedAddress", "InvalidAddressSpace", "InvalidPc", "LaunchFailure", "ECCUncorrectable",
                 "ILLEGAL_ADDRESS", "LAUNCH_TIMEOUT", "ASSERT", "HARDWARE_STACK_ERROR", "ILLEGAL_INSTRUCTION",
                 "MISALIGNED_ADDRESS", "INVALID_ADDRESS_SPACE", "INVALID_PC", "LAUNCH_FAILED", "ECC_UNCORRECTABLE")


def is_cupy_error(exc) -> bool:
    """True for CuPy's CUDA errors (runtime, driver, out of memory), matched by class name and module."""
    return any(cls.__name__ in _CUPY_ERRORS and cls.__module__.split(".")[0] in ("cupy", "cupy_backends")
               for cls in type(exc).__mro__)


def is_sticky(exc) -> bool:
    """True when ``exc`` reports a fault that leaves the CUDA context unusable (``_STICKY_CODES``)."""
    status = getattr(exc, "status", None)
    if isinstance(status, int) and not isinstance(status, bool):
        return status in _STICKY_CODES
    text = str(exc)
    return any(f"cudaError{name}" in text or f"CUDA_ERROR_{name}" in text for name in _STICKY_NAMES)


@contextlib.contextmanager
def device_errors(what):
    """Re-raise CuPy's CUDA errors inside the block as ``CudaError`` naming ``what``; after a sticky fault
    (ours or CuPy's), mark CUDA unusable for the rest of the process (``_backend.mark_lost``)."""
    try:
        yield
    except CudaError as e:
        if is_sticky(e):
            _backend.mark_lost(f"an earlier CUDA fault left the device unusable in this process ({e})")
        raise
    except Exception as e:  # noqa: BLE001 - only CuPy's CUDA errors are converted; the rest re-raise as they are
        if not is_cupy_error(e):
            raise
        if is_sticky(e):
            _backend.mark_lost(f"an earlier CUDA fault left the device unusable in this process ({e})")
            hint = "the device cannot be used again in this process; restart it, or use device='cpu'"
        elif "OutOfMemory" in type(e).__name__:
            hint = "the device is out of memory; use a smaller batch_size or factors, or device='cpu'"
        else:
            hint = "use device='cpu' to compare"
        raise CudaError(f"{what} on the CUDA device failed: {type(e).__name__}: {e}; {hint}") from e
