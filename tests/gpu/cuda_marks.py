"""``requires_cuda``: the decorator every test in tests/gpu carries (module-level ``pytestmark``).

By default pytest skips them, with the reason, where socialrec has no CUDA build, no device or no CuPy (never
exit 5). With ``SOCIALREC_REQUIRE_GPU=1`` (a run meant to test a GPU: bench/gpu_check.sh sets it) a missing or
unusable device FAILS every such test with the reason and the versions found, instead of a green run that
tested nothing (issue 25, item 1): a driver older than the statically linked CUDA runtime needs is the usual cause.
``version_lines()`` are the driver / runtime / CuPy versions, printed first (tests/gpu/conftest.py header).
"""
from __future__ import annotations

import os
import subprocess

import pytest

from socialrec import _backend

REQUIRE_GPU = os.environ.get("SOCIALREC_REQUIRE_GPU", "").strip() not in ("", "0")


def cuda_skip_reason():
    """None when CUDA tests can run here, else why not."""
    devices, reason = _backend._state()
    if reason is not None:
        return reason
    if _backend.cupy_version() is None:
        return "CuPy is not installed"
    return None


def _driver_version():
    """The NVIDIA driver version (nvidia-smi, else CuPy's driverGetVersion), or why it is unknown."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version,name", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip().replace("\n", "; ")
        why = (out.stderr or out.stdout).strip() or f"nvidia-smi exit {out.returncode}"
    except (OSError, subprocess.SubprocessError) as e:
        why = f"nvidia-smi: {e}"
    try:
        import cupy

        return f"CUDA driver API {cupy.cuda.runtime.driverGetVersion()} (via CuPy)"
    except Exception as e:  # noqa: BLE001 - no CuPy, or no driver: the reason is the report
        return f"unknown ({why}; CuPy: {type(e).__name__}: {e})"


def version_lines():
    """Driver, CUDA runtime (socialrec's static one), CuPy and device lines, for the session header."""
    info = _backend.build_info()
    runtime = info.get("cuda_version")
    cupy_runtime = ""
    try:
        import cupy

        cupy_runtime = f" (its CUDA runtime {cupy.cuda.runtime.runtimeGetVersion()})"
    except Exception:  # noqa: BLE001 - absent or broken CuPy: cupy_version() below says so
        pass
    return [f"NVIDIA driver: {_driver_version()}",
            f"socialrec CUDA runtime: {runtime if info['cuda_built'] else 'not built'}"
            f" (archs {info.get('cuda_archs')})",
            f"CuPy: {_backend.cupy_version()}{cupy_runtime}",
            f"CUDA devices: {info['cuda_devices']} (status: {info['cuda_status']})",
            f"SOCIALREC_REQUIRE_GPU: {'1: a missing device fails the suite' if REQUIRE_GPU else 'unset: skip'}"]


@pytest.fixture(scope="session")
def require_gpu():
    """Fail the test (not skip it) when CUDA cannot run here: the ``requires_cuda`` mark under
    ``SOCIALREC_REQUIRE_GPU=1``. Exposed by tests/gpu/conftest.py. Session-scoped so that it runs before the
    modules' fixtures (``cp`` would fail first, on the import of CuPy, hiding the reason); pytest counts its
    failure as an error of each test."""
    reason = cuda_skip_reason()
    if reason is not None:
        pytest.fail(f"SOCIALREC_REQUIRE_GPU=1 but the GPU tests cannot run: {reason}", pytrace=False)


if REQUIRE_GPU:
    requires_cuda = pytest.mark.usefixtures("require_gpu")
else:
    requires_cuda = pytest.mark.skipif(cuda_skip_reason() is not None, reason=str(cuda_skip_reason()))
