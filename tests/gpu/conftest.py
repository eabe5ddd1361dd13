"""Fixtures of the GPU tests (tests/gpu): every module there is marked ``requires_cuda`` (cuda_marks.py).

The session header (run as ``pytest tests/gpu ...``, which makes this an initial conftest) reports the driver,
CUDA runtime and CuPy versions first; ``SOCIALREC_REQUIRE_GPU=1`` turns skips into failures (cuda_marks.py)."""
from __future__ import annotations

import pytest

import socialrec as sr
from cuda_marks import require_gpu, version_lines  # noqa: F401 - require_gpu: the fixture requires_cuda uses


def pytest_report_header(config):
    return version_lines()


@pytest.fixture(scope="module")
def cp():
    """CuPy (only imported when the tests run)."""
    import cupy

    return cupy


@pytest.fixture(scope="module")
def medium_split():
    """A synthetic dataset big enough for Hogwild to behave like SGD (about 60k ratings) and its 80/20 split."""
    ds = sr.datasets.synthetic(n_users=3000, n_items=1500, density=0.015, seed=11)
    return sr.split.train_test_split(ds, test_size=0.2, seed=0)
