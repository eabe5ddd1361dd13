"""The math of the CUDA ALS / SocialALS solve and of the CUDA ranking metrics, checked on the CPU.

The kernels (cuda/als.cu, cuda/metrics.cu) run templates written once for a "team" of threads
(cuda/als_row.hpp, cuda/metrics_row.hpp); ``socialrec._cuda.host_als_half_step`` and
``host_metrics_ranking`` run the same templates with a team of one, serially, on NumPy arrays (nvcc compiles
them as host code). These tests compare them with the CPU kernels of ``socialrec._core``: they check the
kernels' formulas here, where no GPU exists, though not the parallel parts (reductions, ballots, shared
memory), which tests/gpu checks on a device.

Tolerances: ALS is float32 on both sides with sums in another order (and a Gramian from NumPy's BLAS here,
from the CPU kernel's own chunked sums there), so factors agree to 2e-4 of the largest |factor| and the
objective to a relative 1e-5 after one epoch of 3 CG steps. The metrics are exact counts and double sums:
equal to 1e-12, with the same NaNs.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from socialrec import _backend, _core, _engine
from socialrec.models.als import csr_arrays
from socialrec.models.social_als import edge_similarity, laplacian_penalty, similarity_arrays

cuda = _backend.cuda_module()
pytestmark = pytest.mark.skipif(cuda is None, reason="socialrec was built without CUDA")


def interactions(n_users, n_items, density, seed, empty_rows=True):
    rng = np.random.default_rng(seed)
    m = sp.random(n_users, n_items, density=density, random_state=seed, format="csr", dtype=np.float32)
    m.data[:] = rng.integers(1, 6, m.nnz).astype(np.float32)
    if empty_rows:  # a user and an item without interactions
        m = m.tolil()
        m[0, :] = 0
        m[:, 1] = 0
        m = m.tocsr()
        m.eliminate_zeros()
    return m


def host_epoch(R, X, Y, alpha, lam, steps, S=None, beta=0.0):
    """One alternation through the host check of the CUDA kernel, as ALS._run_epoch_cuda runs it."""
    a = csr_arrays(R, "ui")
    a.update(csr_arrays(R.T.tocsr(), "iu"))
    graph = {}
    if S is not None and beta != 0.0:
        g = csr_arrays(S, "s")
        graph = dict(graph_indptr=g["s_indptr"], graph_indices=g["s_indices"], graph_values=g["s_values"],
                     previous=X.copy(), beta=beta)
    X1, _ = cuda.host_als_half_step(Y.T @ Y, Y, a["ui_indptr"], a["ui_indices"], a["ui_values"], X, alpha, lam,
                                    steps, **graph)
    Y1, row_loss = cuda.host_als_half_step(X1.T @ X1, X1, a["iu_indptr"], a["iu_indices"], a["iu_values"], Y,
                                           alpha, lam, steps)
    loss = row_loss.sum() + lam * np.sum(X1.astype(np.float64) ** 2)
    if S is not None:
        loss += laplacian_penalty(X1.astype(np.float64), S, beta)
    return X1, Y1, loss


def core_epoch(R, X, Y, alpha, lam, steps, S=None, beta=0.0):
    arrays = csr_arrays(R, "user_items")
    arrays.update(csr_arrays(R.T.tocsr(), "item_users"))
    hyper = {"factors": X.shape[1], "alpha": alpha, "regularization": lam, "cg_steps": steps, "cholesky": False}
    params = {"user_factors": X.copy(), "item_factors": Y.copy()}
    kernel = _core.als_epoch
    if S is not None:
        arrays.update(csr_arrays(S, "similarity"))
        hyper["social_regularization"] = beta
        kernel = _core.social_als_epoch
    loss = kernel({**params, **arrays}, hyper, _engine.pass_settings(0, 0, 1, True, False))
    return params["user_factors"], params["item_factors"], loss


def assert_close(host, core):
    X1, Y1, loss = host
    X2, Y2, loss2 = core
    scale = max(np.abs(X2).max(), np.abs(Y2).max(), 1e-3)
    np.testing.assert_allclose(X1, X2, rtol=0, atol=2e-4 * scale)
    np.testing.assert_allclose(Y1, Y2, rtol=0, atol=2e-4 * scale)
    assert loss == pytest.approx(loss2, rel=1e-5)


@pytest.mark.parametrize("k", [1, 5, 16, 64, 100])
@pytest.mark.parametrize("alpha, lam, steps", [(2.0, 0.1, 3), (40.0, 0.01, 1), (0.0, 1.0, 5)])
def test_host_als_half_steps_match_the_cpu_epoch(k, alpha, lam, steps):
    R = interactions(70, 45, 0.12, seed=k)
    rng = np.random.default_rng(k + 1)
    X = rng.normal(0, 0.1, (70, k)).astype(np.float32)
    Y = rng.normal(0, 0.1, (45, k)).astype(np.float32)
    X[0] = 0  # rows without interactions start at zero, as ALS initialises them
    Y[1] = 0
    assert_close(host_epoch(R, X, Y, alpha, lam, steps), core_epoch(R, X, Y, alpha, lam, steps))


@pytest.mark.parametrize("normalized", [False, True])
@pytest.mark.parametrize("beta", [0.0, 0.5, 10.0])
def test_host_social_als_half_steps_match_the_cpu_epoch(normalized, beta):
    R = interactions(80, 50, 0.1, seed=3)
    trust = sp.random(80, 80, density=0.05, random_state=4, format="csr")
    trust = trust.tolil()
    trust[0, 5] = trust[5, 0] = 1.0  # the user without interactions has a friend: a cold-start solve
    S = edge_similarity(trust.tocsr(), normalized=normalized)
    rng = np.random.default_rng(5)
    X = rng.normal(0, 0.1, (80, 24)).astype(np.float32)
    Y = rng.normal(0, 0.1, (50, 24)).astype(np.float32)
    X[0] = 0
    Y[1] = 0
    host = host_epoch(R, X, Y, 5.0, 0.1, 3, S=S, beta=beta)
    assert_close(host, core_epoch(R, X, Y, 5.0, 0.1, 3, S=S, beta=beta))
    if beta:
        assert np.abs(host[0][0]).max() > 0  # the cold user moved towards its friend


def test_host_als_leaves_its_inputs_alone_and_checks_them():
    R = interactions(10, 8, 0.3, seed=0, empty_rows=False)
    a = csr_arrays(R, "ui")
    X = np.ones((10, 4), np.float32)
    Y = np.ones((8, 4), np.float32)
    X1, loss = cuda.host_als_half_step(Y.T @ Y, Y, a["ui_indptr"], a["ui_indices"], a["ui_values"], X, 1.0, 0.1, 2)
    assert np.all(X == 1) and not np.allclose(X1, 1) and loss.shape == (10,)
    bad = a["ui_indices"].copy()
    bad[0] = 8
    with pytest.raises(IndexError, match="out of range"):
        cuda.host_als_half_step(Y.T @ Y, Y, a["ui_indptr"], bad, a["ui_values"], X, 1.0, 0.1, 2)
    with pytest.raises(ValueError, match="cg_steps must be positive"):
        cuda.host_als_half_step(Y.T @ Y, Y, a["ui_indptr"], a["ui_indices"], a["ui_values"], X, 1.0, 0.1, 0)
    with pytest.raises(ValueError, match="factors must be positive|exceeds"):
        big = np.zeros((10, cuda.ALS_MAX_FACTORS + 1), np.float32)
        cuda.host_als_half_step(np.zeros((big.shape[1],) * 2, np.float32), np.zeros((8, big.shape[1]), np.float32),
                                a["ui_indptr"], a["ui_indices"], a["ui_values"], big, 1.0, 0.1, 2)


@pytest.mark.parametrize("k", [5, 16, 100])
@pytest.mark.parametrize("beta", [0.0, 2.0])
def test_host_als_float16_storage_is_the_float32_solve_rounded_once(k, beta):
    """dtype="float16" on CUDA: X, Y (and SocialALS's snapshot) are half; the row math reads them into float32,
    solves in float32 against the float32 Gramian, and rounds each new row once. So the half run equals the
    float32 run on the widened values with its result rounded to half, bit for bit, and the row losses
    (taken from the float row) are equal."""
    R = interactions(60, 40, 0.15, seed=k)
    rng = np.random.default_rng(k)
    X = rng.normal(0, 0.1, (60, k)).astype(np.float16)
    Y = rng.normal(0, 0.1, (40, k)).astype(np.float16)
    X[0] = 0
    Xw, Yw = X.astype(np.float32), Y.astype(np.float32)
    G = Yw.T @ Yw
    a = csr_arrays(R, "ui")
    csr = (a["ui_indptr"], a["ui_indices"], a["ui_values"])
    graph, graph_w = {}, {}
    if beta:
        S = edge_similarity(sp.random(60, 60, density=0.08, random_state=k, format="csr"))
        g = csr_arrays(S, "s")
        common = dict(graph_indptr=g["s_indptr"], graph_indices=g["s_indices"], graph_values=g["s_values"], beta=beta)
        graph, graph_w = dict(common, previous=X.copy()), dict(common, previous=Xw.copy())
    half, half_loss = cuda.host_als_half_step(G, Y, *csr, X, 3.0, 0.1, 3, **graph)
    wide, wide_loss = cuda.host_als_half_step(G, Yw, *csr, Xw, 3.0, 0.1, 3, **graph_w)
    assert half.dtype == np.float16 and X.dtype == np.float16 and not np.array_equal(half, X)
    np.testing.assert_array_equal(half, wide.astype(np.float16))
    np.testing.assert_array_equal(half_loss, wide_loss)
    with pytest.raises(TypeError, match="float16"):  # one storage dtype for X, Y and the snapshot
        cuda.host_als_half_step(G, Yw, *csr, X, 3.0, 0.1, 3)


# ---------------------------------------------------------------------------------------------------------
# ranking metrics
# ---------------------------------------------------------------------------------------------------------
def random_lists(rng, rows, n_items, k, pad_fraction):
    top = np.stack([rng.permutation(n_items)[:k] for _ in range(rows)]).astype(np.int64)
    # padding only at the end of a list (as top-N pads), and some lists entirely padding
    lengths = np.where(rng.random(rows) < pad_fraction, rng.integers(0, k + 1, rows), k)
    top[np.arange(k)[None, :] >= lengths[:, None]] = -1
    return top


def sorted_csr_with_duplicates(rng, n_users, n_items, density, duplicates):
    m = sp.random(n_users, n_items, density=density, random_state=int(rng.integers(1 << 30)), format="csr")
    m.sort_indices()
    indptr, indices = m.indptr.astype(np.int64), m.indices.astype(np.int32)
    if duplicates:  # a repeated id in a row (counted once by both sides)
        rows = np.repeat(np.arange(n_users), np.diff(indptr))
        extra = rng.random(len(indices)) < 0.2
        rows = np.concatenate([rows, rows[extra]])
        ids = np.concatenate([indices, indices[extra]])
        order = np.lexsort((ids, rows))
        rows, indices = rows[order], ids[order].astype(np.int32)
        indptr = np.searchsorted(rows, np.arange(n_users + 1)).astype(np.int64)
    return indptr, indices


@pytest.mark.parametrize("k", [1, 5, 10, 33, 64, 200])
@pytest.mark.parametrize("exclude", [True, False])
@pytest.mark.parametrize("duplicates", [False, True])
def test_host_metrics_match_the_cpu_metrics(k, exclude, duplicates):
    rng = np.random.default_rng(k * 4 + exclude * 2 + duplicates)
    n_users, n_items = 150, max(k, 60) + 20
    t_indptr, t_indices = sorted_csr_with_duplicates(rng, n_users, n_items, 0.08, duplicates)
    e_indptr, e_indices = sorted_csr_with_duplicates(rng, n_users, n_items, 0.2, duplicates)
    if not exclude:
        e_indptr = e_indices = None
    users = rng.choice(n_users, size=120, replace=True).astype(np.int64)
    top = random_lists(rng, len(users), n_items, k, pad_fraction=0.3)
    ref = _core.ranking_metrics(top, users, t_indptr, t_indices, exclude_indptr=e_indptr, exclude_indices=e_indices,
                                n_items=n_items)
    got = cuda.host_metrics_ranking(top, users, t_indptr, t_indices, e_indptr, e_indices, n_items=n_items)
    assert np.array_equal(np.isnan(ref), np.isnan(got))
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_host_metrics_edge_cases():
    # every item a test item (no negative: AUC NaN), no test item (recall 0, AUC NaN), all excluded, a list
    # longer than the catalogue, test items outside [0, n_items) (ignored by both sides)
    n_items = 6
    t_indptr = np.array([0, 6, 6, 8, 10], np.int64)
    t_indices = np.array([0, 1, 2, 3, 4, 5, 1, 7, 2, 3], np.int32)
    e_indptr = np.array([0, 1, 1, 7, 8], np.int64)
    e_indices = np.array([5, 0, 1, 2, 3, 4, 5, 6, 3], np.int32)[:8]
    users = np.array([0, 1, 2, 3, 3], np.int64)
    top = np.array([[0, 1, 2, 3, 4, 5, -1, -1], [0, 1, 2, 3, 4, 5, -1, -1], [-1] * 8, [2, 0, 1, 4, 5, -1, -1, -1],
                    [0, 1, 4, 2, 5, -1, -1, -1]], np.int64)
    ref = _core.ranking_metrics(top, users, t_indptr, t_indices, exclude_indptr=e_indptr, exclude_indices=e_indices,
                                n_items=n_items)
    got = cuda.host_metrics_ranking(top, users, t_indptr, t_indices, e_indptr, e_indices, n_items=n_items)
    assert np.array_equal(np.isnan(ref), np.isnan(got)) and np.isnan(ref).any()
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_host_metrics_reject_unsorted_rows():
    with pytest.raises(ValueError, match="sorted"):
        cuda.host_metrics_ranking(np.zeros((1, 2), np.int64), np.zeros(1, np.int64), np.array([0, 2], np.int64),
                                  np.array([3, 1], np.int32), n_items=5)


# ---------------------------------------------------------------------------------------------------------
# the similarity the CUDA SocialALS builds on the device (here with NumPy as the array module)
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("normalized", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_similarity_arrays_equal_edge_similarity(normalized, seed):
    rng = np.random.default_rng(seed)
    n = 40
    t = sp.random(n, n, density=0.08, random_state=seed, format="coo")
    # duplicates (summed by scipy, counted once), stored zeros and self-loops (dropped by both)
    row = np.concatenate([t.row, t.row[:5], [3, 4]])
    col = np.concatenate([t.col, t.col[:5], [3, 9]])
    data = np.concatenate([t.data, t.data[:5], [1.0, 0.0]])
    data[rng.random(len(data)) < 0.05] = 0.0
    trust = sp.coo_matrix((data, (row, col)), shape=(n, n))
    S = edge_similarity(trust, normalized=normalized)
    g = similarity_arrays(row, col, data, n, normalized)
    np.testing.assert_array_equal(g["indptr"], S.indptr)
    np.testing.assert_array_equal(g["indices"], S.indices)
    np.testing.assert_array_equal(g["values"], S.data)
    np.testing.assert_array_equal(g["rows"], np.repeat(np.arange(n), np.diff(S.indptr)))
    empty = similarity_arrays([], [], [], n, normalized)
    assert empty["indptr"].shape == (n + 1,) and empty["values"].size == 0
