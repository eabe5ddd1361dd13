"""``requires_cuda``: the decorator every test in tests/gpu carries (module-level ``pytestmark``), so that
pytest skips them, with the reason, where socialrec has no CUDA build, no device or no CuPy (never exit 5)."""
from __future__ import annotations

import pytest

from socialrec import _backend


def cuda_skip_reason():
    """None when CUDA tests can run here, else why not."""
    devices, reason = _backend._probe()
    if reason is not None:
        return reason
    if _backend.cupy_version() is None:
        return "CuPy is not installed"
    return None


requires_cuda = pytest.mark.skipif(cuda_skip_reason() is not None, reason=str(cuda_skip_reason()))
