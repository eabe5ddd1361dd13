"""Issue 22 item 5 for the CUDA bindings: every ``socialrec._cuda.*_epoch`` checks what its passes index -- ids
within the factor rows, offsets from 0 that never go back to the member count, arrays of the right length,
matrices of the `factors` setting -- before any launch, as the CPU bindings do (tests/test_runtime_hardening.py).

No GPU is needed: the epoch dicts are the ones a ``device="cuda"`` fit builds on the fake device
(tests/test_cuda_fake_device.py), and each hostile copy goes to the real binding with the host executor, which
runs the same checks as the device path (cuda/bindings.hpp: the arrays' own min/max reductions) and then the
passes on host memory. Each model runs in a subprocess: an unchecked id would read or write out of bounds.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from socialrec import _backend
from test_cuda_fake_device import RANKING, RATING

pytestmark = pytest.mark.skipif(_backend.cuda_module() is None, reason="socialrec was built without CUDA (the "
                                                                        "bindings live in socialrec._cuda)")
TESTS = os.path.dirname(os.path.abspath(__file__))

_CHECKS = """
    import copy, sys
    sys.path.insert(0, sys.argv[2])
    import pytest, socialrec as sr, fake_cupy
    from epoch_mutations import refused_by
    from test_cuda_fake_device import FakeKernels, RANKING, RATING, REAL
    cls, params = {**RATING, **RANKING}[sys.argv[1]]
    kernels = FakeKernels()
    calls = []
    real_epoch = FakeKernels.__getattr__

    def capture(self, name):
        epoch = real_epoch(self, name)
        def run(arrays, hyper, settings, stream=0):
            calls.append((name, copy.deepcopy((arrays, hyper, settings))))
            return epoch(arrays, hyper, settings, stream)
        return run

    FakeKernels.__getattr__ = capture
    fake_cupy.install(pytest.MonkeyPatch(), kernels, kernels.devices())
    ds = sr.datasets.synthetic(n_users=60, n_items=40, density=0.1, seed=2)
    if sys.argv[1] in RANKING:
        r = ds.ratings.copy(); r.data[:] = 1; ds = ds.with_ratings(r)
    cls(**{**params, "epochs": 1, "factors": 4, "seed": 0, "device": "cuda"}).fit(ds)
    name, (arrays, hyper, settings) = calls[0]
    binding = getattr(REAL, name)
    host = lambda a, h, s: binding(a, h, {**s, "executor": "host"}, 0)
    # SBPR's s_uk: a positive count (weight), not an id
    checked = refused_by(host, arrays, hyper, settings, sys.argv[1], accepted={"social_counts = 2147483647"})
    print(name, checked, "OK")
"""


@pytest.mark.parametrize("variant", [*RATING, *RANKING])
def test_every_cuda_epoch_binding_refuses_inputs_it_would_index_out_of_bounds(variant):
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(_CHECKS), variant, TESTS], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("OK"), (
        f"exit status {proc.returncode}\nstdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-3000:]}")
