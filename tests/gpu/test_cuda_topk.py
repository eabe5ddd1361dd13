"""The CUDA selection kernel against socialrec.topn (the CPU contract): exactly equal on the same scores,
with ties, excluded items, -inf scores and short rows; then recommend / similar_* end to end."""
from __future__ import annotations

import numpy as np
import pytest

import socialrec as sr
from socialrec import _gpu, topn
from cuda_marks import requires_cuda

pytestmark = requires_cuda


def cpu_select(scores, n, indptr=None, indices=None, row_ids=None):
    scores = scores.copy()
    if indptr is not None:
        for r in range(scores.shape[0]):
            u = r if row_ids is None else row_ids[r]
            scores[r, indices[indptr[u]:indptr[u + 1]]] = -np.inf
    return topn.select_top(scores, n)


def random_exclusions(rng, rows, cols, per_row):
    counts = rng.integers(0, per_row + 1, size=rows)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    indices = np.concatenate([rng.choice(cols, size=c, replace=False) for c in counts]).astype(np.int32)
    return indptr, indices


@pytest.mark.parametrize("cols, n", [(1, 1), (7, 10), (100, 10), (1000, 1), (1000, 64), (5000, 300),
                                     (20_000, 2048), (3000, 3000 // 2)])
@pytest.mark.parametrize("values", ["continuous", "ties", "few_distinct"])
def test_selection_equals_the_cpu_exactly(cp, cols, n, values):
    rng = np.random.default_rng(cols * 7 + n)
    rows = 37
    if values == "continuous":
        scores = rng.standard_normal((rows, cols)).astype(np.float32)
    elif values == "ties":
        scores = rng.integers(-5, 5, size=(rows, cols)).astype(np.float32)
    else:
        scores = rng.choice(np.array([-1.5, 0.0, -0.0, 2.25, np.inf], np.float32), size=(rows, cols))
    scores[rng.random((rows, cols)) < 0.05] = -np.inf
    indptr, indices = random_exclusions(rng, rows, cols, min(cols, 50))
    ids, top = _gpu.select_top(cp.asarray(scores), n, indptr, indices)
    ref_ids, ref_top = cpu_select(scores, n, indptr, indices)
    np.testing.assert_array_equal(ids.get(), ref_ids)
    np.testing.assert_array_equal(top.get(), ref_top)


def test_selection_with_row_ids_and_nothing_excluded(cp):
    rng = np.random.default_rng(5)
    scores = rng.standard_normal((20, 300)).astype(np.float32)
    indptr, indices = random_exclusions(rng, 50, 300, 40)
    row_ids = rng.choice(50, size=20, replace=False).astype(np.int64)
    ids, top = _gpu.select_top(cp.asarray(scores), 25, indptr, indices, row_ids)
    ref_ids, ref_top = cpu_select(scores, 25, indptr, indices, row_ids)
    np.testing.assert_array_equal(ids.get(), ref_ids)
    ids, top = _gpu.select_top(cp.asarray(scores), 25)
    np.testing.assert_array_equal(ids.get(), topn.select_top(scores, 25)[0])


@pytest.fixture(scope="module")
def model_pair(medium_split):
    train, _ = medium_split
    gpu = sr.BiasedMF(device="cuda", factors=32, epochs=10, seed=0).fit(train)
    import pickle

    cpu = pickle.loads(pickle.dumps(gpu)).to("cpu")
    return gpu, cpu


def agree_except_near_ties(ids, scores, ref_ids, ref_scores, gap=1e-4):
    """cuBLAS and the CPU BLAS round the dot products differently, so only near-ties may be ordered
    differently: ids must agree wherever neighbouring scores are further apart than ``gap``."""
    np.testing.assert_allclose(scores, ref_scores, rtol=1e-5, atol=1e-5)
    s = ref_scores.astype(np.float64)
    clear = np.ones_like(s, dtype=bool)
    diff = np.abs(np.diff(s, axis=1)) > gap
    clear[:, 1:] &= diff
    clear[:, :-1] &= diff
    assert np.array_equal(ids[clear], ref_ids[clear])
    assert clear.mean() > 0.9  # the comparison is not vacuous


def test_recommend_matches_the_cpu(cp, model_pair):
    gpu, cpu = model_pair
    users = np.arange(0, gpu.n_users_, 7)
    for exclude_seen in (True, False):
        ids, scores = gpu.recommend(users, n=20, exclude_seen=exclude_seen)
        assert isinstance(ids, np.ndarray) and ids.dtype == np.int64 and scores.dtype == np.float32
        ref_ids, ref_scores = cpu.recommend(users, n=20, exclude_seen=exclude_seen)
        agree_except_near_ties(ids, scores, ref_ids, ref_scores)
    d_ids, d_scores = gpu.recommend(cp.asarray(users), n=20)
    assert isinstance(d_ids, cp.ndarray)
    np.testing.assert_array_equal(d_ids.get(), gpu.recommend(users, n=20)[0])


def test_recommend_candidates_batches_and_short_rows(cp, model_pair):
    gpu, cpu = model_pair
    users = np.arange(0, gpu.n_users_, 11)
    items = np.random.default_rng(1).choice(gpu.n_items_, size=40, replace=False)
    ids, scores = gpu.recommend(users, n=50, items=items, batch_size=17)  # more than the candidates
    ref_ids, ref_scores = cpu.recommend(users, n=50, items=items)
    agree_except_near_ties(ids, scores, ref_ids, ref_scores)
    assert (ids[:, -1] == -1).all() and np.isneginf(scores[:, -1]).all()


def test_similar_matches_the_cpu(model_pair):
    gpu, cpu = model_pair
    q = np.arange(0, gpu.n_items_, 13)
    ids, scores = gpu.similar_items(q, n=10)
    ref_ids, ref_scores = cpu.similar_items(q, n=10)
    agree_except_near_ties(ids, scores, ref_ids, ref_scores)
    assert not (ids == q[:, None]).any()
    ids, scores = gpu.similar_users(np.arange(5), n=5)
    agree_except_near_ties(ids, scores, *cpu.similar_users(np.arange(5), n=5))


def test_ranking_metrics_equal_the_cpu(medium_split, model_pair):
    train, test = medium_split
    gpu, cpu = model_pair
    got = sr.evaluate(gpu, test, train=train, k=10)  # ranking metrics @10 where socialrec.metrics has them
    ref = sr.evaluate(cpu, test, train=train, k=10)
    assert set(got) == set(ref)
    for key, value in ref.items():
        assert got[key] == pytest.approx(value, rel=1e-3, abs=1e-4), key


def test_n_above_the_kernel_limit_is_a_clear_error(model_pair):
    gpu, _ = model_pair
    with pytest.raises(ValueError, match="CUDA top-N limit"):
        gpu.recommend([0], n=100_000)
