"""The C++ fold-in solver (``_core.fold_in_solve``, cpp/include/socialrec/fold_in.hpp) equals its reference
(``socialrec.reference.fold_in.solve``) to 1e-10 in float64: for every model's user and item fold-in, for
hand-built problems of every term kind, and for singular quadratic problems (the least-norm answer); and it
refuses malformed packed input with a ValueError."""
from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

from model_suite import CASES
from socialrec import _core
from socialrec.models import _fold_in, _fold_in_kernel
from socialrec.reference import fold_in as reference
from test_fold_in import DATA, NEW, NEW_TRUST

TOL = 1e-10


def _fitted(case):
    data = DATA.binarized() if case.ranking else DATA
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return case.make(dtype="float64").fit(data)


def _both(m, side, new, trust):
    out = []
    for backend in ("cpp", "reference"):
        copy = pickle.loads(pickle.dumps(m))
        _fold_in.fold_in(copy, side, new, trust, backend=backend)
        out.append(copy.parameters_)
    return out


def _assert_equal_params(a, b, name):
    assert a.keys() == b.keys()
    for key in a:
        x, y = np.asarray(a[key], np.float64), np.asarray(b[key], np.float64)
        assert x.shape == y.shape, (name, key)
        np.testing.assert_allclose(x, y, rtol=0, atol=TOL * (1 + np.max(np.abs(y), initial=0)), err_msg=f"{name} {key}")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_cpp_fold_in_equals_reference(case):
    m = _fitted(case)
    values = NEW[2] if not case.ranking else [1.0] * 4
    cpp, ref = _both(m, "user", (NEW[0], NEW[1], values), NEW_TRUST)
    _assert_equal_params(cpp, ref, case.name + " users")
    n = DATA.n_users
    assert np.any(np.asarray(cpp["user_factors"])[n:] != 0)  # something was solved
    cpp, ref = _both(m, "item", ([100, 101, 102, 105], [7777, 7777, 7777, 7778], values), None)
    _assert_equal_params(cpp, ref, case.name + " items")


def _random_problem(rng, d, kinds=("square", "logistic", "softplus"), pairs=True):
    p = reference.RowProblem(d)
    for kind in kinds:
        n = int(rng.integers(1, 6))
        t = rng.uniform(0, 1, n) if kind == "logistic" else rng.normal(size=n)
        p.add_rows(kind, rng.normal(size=(n, d)), rng.normal(size=n), t, rng.uniform(0.5, 2, n))
    if pairs:
        p.add_pairs(0.3, rng.normal(size=(3, d)), rng.normal(size=3), rng.normal(size=(7, d)), rng.normal(size=7),
                    rng.uniform(0.2, 1, 7))
    p.add_ridge(0.1, slice(None))
    p.add_pull(0.5, rng.normal(size=d))
    return p


def test_kernel_equals_reference_on_every_term_kind():
    rng = np.random.default_rng(3)
    problems = [_random_problem(rng, d) for d in (1, 2, 5, 9)]
    problems += [_random_problem(rng, 4, kinds=("square",), pairs=False)]  # quadratic: one exact solve
    problems += [_random_problem(rng, 3, kinds=(), pairs=True)]
    thetas, _ = _fold_in_kernel.solve_all(problems, "cpp", threads=2)
    want, traces = _fold_in_kernel.solve_all(problems, "reference")
    assert any(len(t) > 3 for t in traces)  # Newton steps were taken
    for got, w, p in zip(thetas, want, problems):
        np.testing.assert_allclose(got, w, rtol=0, atol=TOL * (1 + np.max(np.abs(w))))
        assert abs(p.value(got) - p.value(w)) <= TOL * (1 + abs(p.value(w)))


def test_singular_quadratic_gets_the_least_norm_solution():
    # a coordinate no term touches (a friends-only user's bias) and an empty problem: numpy's lstsq answer
    p = reference.RowProblem(3)
    p.add_pull(2.0, np.array([1.0, -2.0]), slice(0, 2))
    empty = reference.RowProblem(4)
    rank_one = reference.RowProblem(2)
    rank_one.add_rows("square", np.array([[1.0, 2.0]]), 0.0, 3.0)
    got, _ = _fold_in_kernel.solve_all([p, empty, rank_one], "cpp")
    want, _ = _fold_in_kernel.solve_all([p, empty, rank_one], "reference")
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got[0], [1.0, -2.0, 0.0], atol=1e-14)
    np.testing.assert_allclose(got[2], [0.6, 1.2], atol=1e-12)


def test_kernel_refuses_malformed_input():
    rng = np.random.default_rng(0)
    arrays = _fold_in_kernel.pack([_random_problem(rng, 3)])
    for key, value in (("row_offset", arrays["row_offset"] + 10**6), ("mat_offsets", np.array([-1])),
                       ("row_kind", np.full_like(arrays["row_kind"], 7)), ("pair_na", arrays["pair_na"] + 10**6),
                       ("dims", np.array([0]))):
        with pytest.raises(ValueError, match="fold_in_solve"):
            _core.fold_in_solve({**arrays, key: value}, reference.MAX_STEPS, reference.GRADIENT_TOL, reference.SLACK)
    with pytest.raises(TypeError):
        _core.fold_in_solve({**arrays, "mats": arrays["mats"].astype(np.float32)}, 50, 1e-10, 1e-13)
    with pytest.raises(ValueError, match="backend"):
        _fold_in_kernel.solve_all([], "gpu")


def test_auto_sends_large_pair_problems_to_the_reference(monkeypatch):
    rng = np.random.default_rng(5)
    problems = [_random_problem(rng, 3), _random_problem(rng, 3, pairs=False), _random_problem(rng, 4)]
    want, _ = _fold_in_kernel.solve_all(problems, "reference")
    calls = []
    original = reference.solve
    monkeypatch.setattr(reference, "solve", lambda p, *a: calls.append(p) or original(p, *a))
    monkeypatch.setattr(_fold_in_kernel, "LARGE_PAIRS", 40)  # (3 + 7) * 3² = 90 > 40 >= 0: the pair problems
    got, _ = _fold_in_kernel.solve_all(problems, "auto")
    assert calls == [problems[0], problems[2]]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=0, atol=TOL * (1 + np.max(np.abs(w))))
