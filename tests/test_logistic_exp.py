"""``exp_inline`` (cpp/include/socialrec/logistic.hpp), the libm-free float exp of TrustMF's logistic steps:
compiled here from the header into a small program (skipped without a C++ compiler) and checked against
float64 exp over its whole range, at the clamps and on NaN."""
from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest

INCLUDE = os.path.join(os.path.dirname(__file__), os.pardir, "cpp", "include")
PROGRAM = r"""
#include "socialrec/logistic.hpp"
#include <cstdio>
#include <cstdlib>
int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const float x = std::strtof(argv[i], nullptr);
        std::printf("%.9g %.9g\n", double(socialrec::exp_inline(x)), double(socialrec::logistic_inline_exp(x)));
    }
}
"""


@pytest.fixture(scope="module")
def exp_program(tmp_path_factory):
    compiler = shutil.which(os.environ.get("CXX", "g++")) or shutil.which("c++")
    if compiler is None:
        pytest.skip("no C++ compiler to build the exp_inline probe")
    d = tmp_path_factory.mktemp("exp_inline")
    src, exe = d / "probe.cpp", d / "probe"
    src.write_text(PROGRAM)
    subprocess.run([compiler, "-std=c++17", "-O2", "-I", INCLUDE, str(src), "-o", str(exe)], check=True)

    def run(xs):
        out = subprocess.run([str(exe), *[repr(float(x)) for x in xs]], capture_output=True, text=True, check=True)
        vals = np.array([[float(v) for v in line.split()] for line in out.stdout.splitlines()])
        return vals[:, 0], vals[:, 1]

    return run


def test_exp_inline_is_within_1_5_ulp_over_its_range(exp_program):
    xs = np.linspace(-87.0, 88.0, 2001, dtype=np.float32)
    xs = np.concatenate([xs, np.float32([-1e-3, 0.0, 1e-3, 0.34657359, -0.34657359])])
    got, _ = exp_program(xs)
    ref = np.exp(xs.astype(np.float64))
    assert np.max(np.abs(got - ref) / ref) < 1.5 * 2.0 ** -23


def test_exp_inline_clamps_and_keeps_nan(exp_program):
    got, g = exp_program([-200.0, 200.0, float("inf"), float("-inf"), float("nan")])
    assert got[0] == pytest.approx(np.exp(-87.0), rel=1e-6)
    assert got[1] == pytest.approx(np.exp(88.0), rel=1e-6) and np.isfinite(got[2])
    assert got[3] == pytest.approx(np.exp(-87.0), rel=1e-6)
    assert np.isnan(got[4]) and np.isnan(g[4])  # a diverged step still reads as NaN
    assert g[0] < 1e-37 and g[1] == 1.0
