"""Whether socialrec's CUDA kernels have been verified on a real GPU: the switch behind ``device="auto"``.

``device="auto"`` picks CUDA only when ``VERIFIED`` is True (``_backend.resolve_device``); until then "auto"
means the CPU, and ``device="cuda"`` is an explicit opt-in that warns once per process that the kernels are
unverified. The record lives in the repository, not on the user's machine, so every copy of one release
behaves alike.

What flips it (docs/CUDA.md, "What is untested"): on a machine with an NVIDIA GPU, a CUDA build of this
commit (``SOCIALREC_CUDA=ON``) and CuPy,

    python -m pytest tests/gpu -q          # the GPU suite: CUDA results against the CPU ones
    bench/gpu_check.sh                      # the device benchmarks run to completion

both pass with no test skipped for want of a device. Then set ``VERIFIED = True`` and fill ``EVIDENCE``
(date, device, CUDA and driver versions, commit, the pytest summary line) in the same commit.
"""
from __future__ import annotations

VERIFIED = False

# The run that set VERIFIED, e.g. {"date": "...", "device": "NVIDIA H100 80GB HBM3", "cuda": "13.0",
# "driver": "...", "commit": "...", "result": "N passed in S s"}; None while VERIFIED is False.
EVIDENCE = None
