"""A batch of fold-in row problems solved by the C++ kernel ``_core.fold_in_solve`` (cpp/include/socialrec/
fold_in.hpp), whose executable specification is ``socialrec.reference.fold_in.solve``.

``solve_all(problems, backend)`` returns one θ per problem: ``backend="cpp"`` packs every problem into flat
float64 arrays (the layout below), hands them to the kernel once (GIL released, OpenMP over the problems) and
splits its answer; ``backend="reference"`` solves them one by one in NumPy (and also returns each problem's
objective trace, for the tests); ``backend="auto"`` (what fold-in uses) sends a problem whose pair groups
make its Hessian a product over thousands of items (BPR/SBPR: ``Σ (|A| + |B|) d² > LARGE_PAIRS``) to the
reference, whose BLAS products are faster there than the kernel's portable loops (bench/fold_in_kernel.py:
BPR on LastFM 0.7x), and every other problem to the kernel (SocialMF, SoRec on FilmTrust: 4-6x per user
in a batch). Both give the same θ to 1e-10 (tests/test_fold_in_kernel.py), so the split is a speed choice.

Layout (one entry per problem unless stated; offsets index the flat arrays named after them):
``dims``; ``mat_offsets`` into ``mats`` = R (d × d, row-major) then s (d); ``consts``; ``row_start`` (P + 1)
into the row blocks ``row_kind`` (0 square, 1 logistic, 2 softplus), ``row_n``, ``row_offset`` into
``row_data`` = A (n × d), o (n), t (n), w (n); ``pair_start`` (P + 1) into the pair groups ``pair_w``,
``pair_na``, ``pair_nb``, ``pair_offset`` into ``pair_data`` = A (na × d), oa (na), B (nb × d), ob (nb),
scale (nb).
"""
from __future__ import annotations

import numpy as np

from .. import _core
from ..reference import fold_in as reference

BACKENDS = ("auto", "cpp", "reference")
LARGE_PAIRS = 2_000_000  # Σ over pair groups of (|A| + |B|) d² above which "auto" solves a problem in NumPy
_KIND = {kind: code for code, kind in enumerate(reference.KINDS)}


def _flat(chunks):
    return np.concatenate(chunks) if chunks else np.zeros(0)


def _offsets(sizes):
    return np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)


def pack(problems):
    """The kernel's arrays for ``problems`` (a list of ``reference.fold_in.RowProblem``)."""
    mats, row_parts, pair_parts = [], [], []
    row_kind, row_n, pair_w, pair_na, pair_nb = [], [], [], [], []
    row_count, pair_count = [], []
    for p in problems:
        mats += [p.R.ravel(), p.s]
        for kind, A, o, t, w in p.rows:
            row_kind.append(_KIND[kind])
            row_n.append(len(A))
            row_parts += [A.ravel(), o, t, w]
        for w, A, oa, B, ob, scale in p.pairs:
            pair_w.append(w)
            pair_na.append(len(A))
            pair_nb.append(len(B))
            pair_parts += [A.ravel(), oa, B.ravel(), ob, scale]
        row_count.append(len(p.rows))
        pair_count.append(len(p.pairs))
    dims = np.array([p.dim for p in problems], np.int64)
    row_n = np.array(row_n, np.int64)
    row_block_dims = np.repeat(dims, row_count)
    pair_block_dims = np.repeat(dims, pair_count)
    na, nb = np.array(pair_na, np.int64), np.array(pair_nb, np.int64)
    return {
        "dims": dims, "mat_offsets": _offsets(dims * dims + dims)[:-1], "mats": _flat(mats),
        "consts": np.array([p.const for p in problems], np.float64),
        "row_start": _offsets(row_count), "row_kind": np.array(row_kind, np.int64), "row_n": row_n,
        "row_offset": _offsets(row_n * (row_block_dims + 3))[:-1], "row_data": _flat(row_parts),
        "pair_start": _offsets(pair_count), "pair_w": np.array(pair_w, np.float64), "pair_na": na, "pair_nb": nb,
        "pair_offset": _offsets(na * (pair_block_dims + 1) + nb * (pair_block_dims + 2))[:-1],
        "pair_data": _flat(pair_parts),
    }


def solve_all(problems, backend="auto", threads=0):
    """(thetas, traces): the minimiser of each problem, and (reference backend only, else None) each one's
    objective trace."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "reference" or not problems:
        solved = [reference.solve(p) for p in problems]
        return [theta for theta, _ in solved], [trace for _, trace in solved]
    if backend == "auto":
        large = [sum((len(A) + len(B)) * p.dim ** 2 for _, A, _, B, *_ in p.pairs) > LARGE_PAIRS for p in problems]
        if any(large):
            small = [p for p, big in zip(problems, large) if not big]
            fast = iter(solve_all(small, "cpp", threads)[0])
            return [reference.solve(p)[0] if big else next(fast) for p, big in zip(problems, large)], None
    theta, _, _ = _core.fold_in_solve(pack(problems), reference.MAX_STEPS, reference.GRADIENT_TOL,
                                      reference.SLACK, int(threads))
    ends = np.cumsum([p.dim for p in problems])
    return np.split(theta, ends[:-1]), None
