"""Ranking metrics on CUDA (cuda/metrics.cu through socialrec._gpu.ranking_metrics) against the CPU's
(socialrec._core.ranking_metrics): equal on the same top lists (exact counts; double sums to 1e-12, the same
NaNs), and socialrec.metrics.ranking of a CUDA model against the same model on the CPU."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import socialrec as sr
from socialrec import _core, _gpu
from cuda_marks import requires_cuda

pytestmark = requires_cuda


def random_case(seed, n_users=400, n_items=300, k=10, unsorted=False):
    rng = np.random.default_rng(seed)
    test = sp.random(n_users, n_items, density=0.03, random_state=seed, format="csr")
    seen = sp.random(n_users, n_items, density=0.1, random_state=seed + 1, format="csr")
    test.sort_indices()
    seen.sort_indices()
    users = rng.choice(n_users, size=300, replace=False).astype(np.int64)
    top = np.stack([rng.permutation(n_items)[:k] for _ in users]).astype(np.int64)
    lengths = np.where(rng.random(len(users)) < 0.2, rng.integers(0, k + 1, len(users)), k)
    top[np.arange(k)[None, :] >= lengths[:, None]] = -1
    arrays = [test.indptr.astype(np.int64), test.indices.astype(np.int32), seen.indptr.astype(np.int64),
              seen.indices.astype(np.int32)]
    return top, users, arrays, n_items


@pytest.mark.parametrize("k", [1, 10, 32, 33, 100, 500])
@pytest.mark.parametrize("exclude", [True, False])
def test_device_metrics_equal_the_cpu(cp, k, exclude):
    top, users, (tp, ti, ep, ei), n_items = random_case(k, n_items=max(600, k + 50), k=k)
    ref = _core.ranking_metrics(top, users, tp, ti, exclude_indptr=ep if exclude else None,
                                exclude_indices=ei if exclude else None, n_items=n_items)
    got = _gpu.ranking_metrics(cp.asarray(top), cp.asarray(users), (cp.asarray(tp), cp.asarray(ti)),
                               (cp.asarray(ep), cp.asarray(ei)) if exclude else None, n_items).get()
    assert np.array_equal(np.isnan(ref), np.isnan(got))
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_unsorted_rows_are_sorted_first(cp):
    top, users, (tp, ti, ep, ei), n_items = random_case(3)
    ref = _core.ranking_metrics(top, users, tp, ti, exclude_indptr=ep, exclude_indices=ei, n_items=n_items)
    shuffled = ei.copy()
    for u in range(len(ep) - 1):  # reverse every row
        shuffled[ep[u]:ep[u + 1]] = shuffled[ep[u]:ep[u + 1]][::-1]
    got = _gpu.ranking_metrics(cp.asarray(top), cp.asarray(users), (cp.asarray(tp), cp.asarray(ti)),
                               (cp.asarray(ep), cp.asarray(shuffled)), n_items).get()
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


@pytest.fixture(scope="module")
def fitted():
    ds = sr.datasets.synthetic(n_users=2000, n_items=1000, density=0.02, seed=3).binarized()
    train, test = sr.split.train_test_split(ds, test_size=0.2, seed=0)
    model = sr.ALS(device="cuda", factors=32, epochs=5, alpha=5.0, regularization=0.5).fit(train)
    return model, train, test


def test_model_metrics_are_the_cpu_metrics_of_the_device_lists(cp, fitted):
    model, train, test = fitted
    users, values = sr.metrics.ranking_per_user(model, test, k=10)
    top, _ = model.recommend(cp.asarray(users), n=10)
    seen = train.ratings.tocsr()
    held = test.ratings.tocsr()
    ref = _core.ranking_metrics(top.get(), users, held.indptr.astype(np.int64), held.indices.astype(np.int32),
                                exclude_indptr=seen.indptr.astype(np.int64),
                                exclude_indices=seen.indices.astype(np.int32), n_items=model.n_items_)
    assert np.array_equal(np.isnan(ref), np.isnan(values))
    np.testing.assert_allclose(values, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("with_train", [False, True])
def test_ranking_on_cuda_agrees_with_the_cpu(cp, fitted, with_train):
    model, train, test = fitted
    on_cpu = model._host_copy()
    kwargs = {"train": train} if with_train else {}
    gpu = sr.metrics.ranking(model, test, k=10, **kwargs)
    cpu = sr.metrics.ranking(on_cpu, test, k=10, **kwargs)
    # the same parameters; scores from cuBLAS and the CPU's BLAS may order near-ties differently
    for name in sr.metrics.RANKING_METRICS:
        assert gpu[name] == pytest.approx(cpu[name], abs=2e-3), name
    subset = sr.metrics.ranking(model, test, k=5, users=np.arange(0, 2000, 7), **kwargs)
    assert set(subset) == set(sr.metrics.RANKING_METRICS)
