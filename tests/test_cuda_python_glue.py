"""The Python side of CUDA ALS / SocialALS and of the CUDA ranking metrics, run without a GPU.

Nothing CUDA runs here, so this test swaps in two stand-ins: a NumPy-backed "CuPy" (tests/fake_cupy.py: arrays
are an ndarray subclass with ``.get()`` and ``.data.ptr``, a real host address) and a "_cuda" module whose
``als_half_step``, ``ranking_metrics`` and ``topk_select`` read those addresses and run the host checks of the
kernels' math (``host_als_half_step``, ``host_metrics_ranking``) or ``socialrec.topn``. What it checks is the
glue: the CSR built "on the device", the Gramians, the Jacobi snapshot, the loss and the graph term, the
similarity built with CuPy calls, pointer and size plumbing, float16 storage of the factors, and the metrics
path of a CUDA model; the kernels' own parallel code is left to tests/gpu.
"""
from __future__ import annotations

import ctypes
import types

import numpy as np
import pytest

import fake_cupy
import socialrec as sr
from fake_cupy import FakeArray
from socialrec import _backend, topn

real_cuda = _backend.cuda_module()
pytestmark = pytest.mark.skipif(real_cuda is None, reason="socialrec was built without CUDA (host checks)")


def view(address, dtype, count):
    """The `count` elements of `dtype` at a host address (a writable view)."""
    dtype = np.dtype(dtype)
    if address == 0:
        return None
    buffer = (ctypes.c_byte * (dtype.itemsize * count)).from_address(address)
    return np.frombuffer(buffer, dtype=dtype, count=count)


def fake_als_half_step(G, Y, n_fixed, indptr, indices, values, rows, X, factors, alpha, regularization, cg_steps,
                       graph_indptr, graph_indices, graph_values, previous, beta, row_loss, stream, float16=False):
    k = factors
    storage = np.float16 if float16 else np.float32
    p = view(indptr, np.int64, rows + 1)
    nnz = int(p[-1])
    graph = {}
    if graph_indptr:
        gp = view(graph_indptr, np.int64, rows + 1)
        g_nnz = int(gp[-1])
        graph = dict(graph_indptr=gp, graph_indices=view(graph_indices, np.int32, g_nnz),
                     graph_values=view(graph_values, np.float32, g_nnz),
                     previous=view(previous, storage, rows * k).reshape(rows, k), beta=beta)
    x = view(X, storage, rows * k).reshape(rows, k)
    new, loss = real_cuda.host_als_half_step(view(G, np.float32, k * k).reshape(k, k),
                                             view(Y, storage, n_fixed * k).reshape(n_fixed, k), p,
                                             view(indices, np.int32, nnz), view(values, np.float32, nnz), x,
                                             alpha, regularization, cg_steps, **graph)
    x[...] = new
    if row_loss:
        view(row_loss, np.float64, rows)[...] = loss


def fake_ranking_metrics(top_ids, rows, k, users, test_indptr, test_indices, exclude_indptr, exclude_indices,
                         n_items, out, stream):
    u = view(users, np.int64, rows)
    n_users = int(u.max()) + 1
    tp = view(test_indptr, np.int64, n_users + 1)
    ex = {}
    if exclude_indptr:
        ep = view(exclude_indptr, np.int64, n_users + 1)
        ex = dict(exclude_indptr=ep, exclude_indices=view(exclude_indices, np.int32, int(ep[-1])))
    values = real_cuda.host_metrics_ranking(view(top_ids, np.int64, rows * k).reshape(rows, k), u, tp,
                                            view(test_indices, np.int32, int(tp[-1])), n_items=n_items, **ex)
    view(out, np.float64, rows * 6)[...] = values.ravel()


def fake_topk_select(scores, rows, cols, ld, row_ids, excl_indptr, excl_indices, candidates, n, out_ids,
                     out_scores, stream):
    block = view(scores, np.float32, rows * ld).reshape(rows, ld)[:, :cols].copy()
    ids_of_rows = view(row_ids, np.int64, rows) if row_ids else np.arange(rows)
    cand = view(candidates, np.int64, cols) if candidates else None
    for r in range(rows):
        if excl_indptr:
            lo, hi = view(excl_indptr + 8 * int(ids_of_rows[r]), np.int64, 2)
            items = view(excl_indices + 4 * int(lo), np.int32, int(hi - lo)) if hi > lo else np.zeros(0, np.int32)
            cols_out = items if cand is None else np.searchsorted(cand, items)[np.isin(items, cand)]
            block[r, cols_out[cols_out < cols]] = -np.inf
    ids, top = topn.select_top(block, n)
    if cand is not None:
        ids = np.where(ids >= 0, cand[np.maximum(ids, 0)], -1)
    view(out_ids, np.int64, rows * n)[...] = ids.ravel()
    view(out_scores, np.float32, rows * n)[...] = top.ravel()


@pytest.fixture
def fake_device(monkeypatch):
    mod = types.SimpleNamespace(als_half_step=fake_als_half_step, ranking_metrics=fake_ranking_metrics,
                                topk_select=fake_topk_select, TOPK_MAX_N=2048, ALS_MAX_FACTORS=2048,
                                archs=["90"], cuda_version=13000, devices=lambda: ["fake"])
    return fake_cupy.install(monkeypatch, mod, ["fake"])


@pytest.fixture(scope="module")
def split():
    ds = sr.datasets.synthetic(n_users=300, n_items=150, density=0.05, seed=4).binarized()
    return sr.split.train_test_split(ds, test_size=0.2, seed=0)


@pytest.mark.parametrize("cls, extra", [(sr.ALS, {}), (sr.SocialALS, {"social_regularization": 2.0}),
                                        (sr.SocialALS, {"social_regularization": 2.0, "similarity": "normalized"}),
                                        (sr.SocialALS, {"social_regularization": 0.0})])
def test_fit_on_the_fake_device_matches_the_cpu(fake_device, split, cls, extra):
    train, test = split
    params = {"factors": 12, "epochs": 3, "alpha": 4.0, "regularization": 0.3, "seed": 0, **extra}
    cpu = cls(device="cpu", **params).fit(train)
    dev = cls(device="cuda", **params).fit(train)
    assert dev.device_ == "cuda" and isinstance(dev.parameters_["user_factors"], FakeArray)
    for key in ("user_factors", "item_factors"):
        ref = cpu.parameters_[key]
        np.testing.assert_allclose(dev.parameters_[key].get(), ref, rtol=0, atol=1e-3 * np.abs(ref).max())
    for a, b in zip(dev.history, cpu.history):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
    # metrics through the device path (lists, exclusion and metrics via the stand-ins) equal the CPU's
    for kwargs in ({}, {"train": train}):
        got = sr.metrics.ranking(dev, test, k=10, **kwargs)
        ref = sr.metrics.ranking(dev._host_copy(), test, k=10, **kwargs)
        for name, value in ref.items():
            assert got[name] == pytest.approx(value, rel=1e-12, nan_ok=True), name


@pytest.mark.parametrize("cls, extra", [(sr.ALS, {}), (sr.ALS, {"confidence": "linear", "alpha": 0.05}),
                                        (sr.ALS, {"epsilon": 2.0}), (sr.SocialALS, {"social_regularization": 2.0})])
def test_confidence_weights_on_the_fake_device_match_the_cpu(fake_device, cls, extra):
    """On counts the device path weights the values with CuPy calls (_confidence.weights): same fit as the CPU."""
    ds = sr.datasets.synthetic(n_users=300, n_items=150, density=0.05, seed=4)
    counts = ds.ratings.copy()
    counts.data[:] = np.floor(np.random.default_rng(0).lognormal(1.5, 1.5, counts.nnz)) + 1
    train = ds.with_ratings(counts)
    params = {"factors": 12, "epochs": 3, "alpha": 4.0, "regularization": 0.3, "seed": 0, **extra}
    cpu = cls(device="cpu", **params).fit(train)
    dev = cls(device="cuda", **params).fit(train)
    for key in ("user_factors", "item_factors"):
        ref = cpu.parameters_[key]
        np.testing.assert_allclose(dev.parameters_[key].get(), ref, rtol=0, atol=1e-3 * np.abs(ref).max())
    for a, b in zip(dev.history, cpu.history):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)


def test_device_similarity_and_cholesky_on_the_fake_device(fake_device, split):
    train, _ = split
    from socialrec.models.social_als import edge_similarity, similarity_arrays

    coo = train.trust.tocoo()
    g = similarity_arrays(fake_device.asarray(coo.row), fake_device.asarray(coo.col), fake_device.asarray(coo.data),
                          train.n_users, True, xp=fake_device)
    S = edge_similarity(train.trust, normalized=True)
    np.testing.assert_array_equal(g["values"].get(), S.data)
    with pytest.raises(ValueError, match="solver='cholesky'"):
        sr.ALS(device="cuda", solver="cholesky").fit(train)


def test_metrics_above_the_device_selection_limit_use_the_host_copy(fake_device, split, monkeypatch):
    train, test = split
    model = sr.ALS(device="cuda", factors=8, epochs=2, alpha=4.0, regularization=0.3).fit(train)
    monkeypatch.setattr(_backend.cuda_module(), "TOPK_MAX_N", 5)  # k = 10 is above it: the CPU path
    got = sr.metrics.ranking(model, test, k=10)
    ref = sr.metrics.ranking(model._host_copy(), test, k=10)
    assert got == pytest.approx(ref, nan_ok=True)


def test_relevance_threshold_on_the_device_equals_the_host(fake_device, split):
    """relevant= filters the held-out entries before the device metrics (one rule for both paths)."""
    train, test = split
    graded = test.ratings.copy()
    graded.data[:] = np.arange(graded.nnz) % 5 + 1  # values 1..5
    graded = test.with_ratings(graded)
    model = sr.ALS(device="cuda", factors=8, epochs=2, alpha=4.0, regularization=0.3).fit(train)
    host = model._host_copy()
    for relevant in (None, "all", 4.0):
        got = sr.metrics.ranking(model, graded, train=train, k=10, relevant=relevant)
        assert got == pytest.approx(sr.metrics.ranking(host, graded, train=train, k=10, relevant=relevant),
                                    nan_ok=True), relevant
    assert (sr.metrics.ranking(model, graded, train=train, k=10, relevant=4.0)
            != sr.metrics.ranking(model, graded, train=train, k=10))


def test_metrics_with_k_beyond_the_items_use_lists_of_n_items_on_the_device(fake_device, split):
    train, test = split
    model = sr.ALS(device="cuda", factors=8, epochs=2, alpha=4.0, regularization=0.3).fit(train)
    host = model._host_copy()
    for k in (model.n_items_ + 3, 10**9):  # the device path (lists of n_items <= TOPK_MAX_N), then hits / k
        got = sr.metrics.ranking(model, test, train=train, k=k)
        assert got == pytest.approx(sr.metrics.ranking(host, test, train=train, k=k), nan_ok=True)
    whole = sr.metrics.ranking(model, test, k=model.n_items_)
    assert sr.metrics.ranking(model, test, k=10**9)["precision"] == pytest.approx(
        whole["precision"] * model.n_items_ / 10**9)


@pytest.mark.parametrize("cls, extra", [(sr.ALS, {}), (sr.SocialALS, {"social_regularization": 2.0})])
def test_float16_storage_on_the_fake_device(fake_device, split, cls, extra):
    """dtype="float16": both factor matrices are stored in half precision on the device, the half-steps get
    float32 Gramians and the float16 flag, and the fit stays within half-precision rounding of the float32
    one (each solved row is rounded once); to("cpu") widens to float32."""
    train, test = split
    params = {"factors": 12, "epochs": 3, "alpha": 4.0, "regularization": 0.3, "seed": 0, **extra}
    ref = cls(device="cuda", **params).fit(train)
    half = cls(device="cuda", dtype="float16", **params).fit(train)
    for key in ("user_factors", "item_factors"):
        value = half.parameters_[key]
        assert isinstance(value, FakeArray) and value.dtype == np.float16, key
        expected = ref.parameters_[key].get()
        np.testing.assert_allclose(value.get().astype(np.float32), expected, rtol=0, atol=2e-2 * np.abs(expected).max())
    for a, b in zip(half.history, ref.history):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-2)
    ndcg = sr.metrics.ranking(half, test, k=10)["ndcg"]
    assert ndcg >= 0.98 * sr.metrics.ranking(ref, test, k=10)["ndcg"]
    half.to("cpu")
    assert half.dtype == "float32" and all(v.dtype == np.float32 for v in half.parameters_.values())
    assert sr.metrics.ranking(half, test, k=10)["ndcg"] == pytest.approx(ndcg, rel=1e-6)


def test_float32_gramian_of_float16_storage(fake_device):
    """The Gramian of half-precision factors is summed in float32 (in chunks of rows), not in half."""
    from socialrec.models.als import float32_gramian

    rng = np.random.default_rng(0)
    Y = fake_device.asarray(rng.normal(0, 1, (1000, 24)).astype(np.float16))
    wide = Y.astype(np.float32)
    for chunk_bytes in (1 << 26, 4 * 24 * 7):  # one block, or many 7-row blocks
        G = float32_gramian(Y, chunk_bytes=chunk_bytes)
        assert G.dtype == np.float32 and G.flags.c_contiguous
        np.testing.assert_allclose(G, wide.T @ wide, rtol=1e-5, atol=1e-3)


def test_raw_id_queries_on_the_fake_device(fake_device):
    """The ids rule on a model on CUDA (DESIGN §2b): raw ids in and out, ``exclude=`` per call and per user (the
    per-user lists merged with the training items on the device), ``unknown="popular"``, predict and similar_*,
    "device" arrays of indices and of raw ids (FakeArrays are host arrays to ``_interop.is_device_input``, so
    CuPy-out is left to tests/gpu); each answer equal to the host copy's."""
    rng = np.random.default_rng(1)
    keys = np.unique(rng.integers(0, 60, 900) * 50 + rng.integers(0, 50, 900))
    ds = sr.Dataset.from_raw(1000 + 3 * (keys // 50), 5000 + 7 * (keys % 50), np.ones(len(keys)))
    model = sr.ALS(device="cuda", factors=6, epochs=2, alpha=4.0, regularization=0.3).fit(ds)
    host = model._host_copy()
    users = [ds.user_ids[j] for j in (4, 0, 17)]
    full, _ = host.recommend(users, n=8)
    calls = [{}, {"exclude": [full[0][0], full[1][1]]}, {"exclude": [[full[0][0]], [], [full[2][2], full[2][0]]]},
             {"exclude": {users[1]: [full[1][0]]}}, {"items": list(ds.item_ids[::2])},
             {"exclude_seen": False, "exclude": [[full[0][1]], [], []]},
             {"unknown": "popular", "exclude": [[full[0][1]], [ds.item_ids[3]], []]}]
    for kwargs in calls:
        query = users if "unknown" not in kwargs else [users[0], -1, users[2]]
        got, want = model.recommend(query, n=5, **kwargs), host.recommend(query, n=5, **kwargs)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_allclose(got[1], want[1], rtol=1e-6)
    items = [ds.item_ids[j] for j in (1, 0, 9)]
    np.testing.assert_allclose(model.predict(users, items), host.predict(users, items), rtol=1e-6)
    for side, query in (("items", items), ("users", users)):
        got, want = getattr(model, f"similar_{side}")(query, n=3), getattr(host, f"similar_{side}")(query, n=3)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_allclose(got[1], want[1], rtol=1e-6)
    top, _ = model.recommend(fake_device.asarray(np.array([4, 0, 17])), n=5, ids="index")
    np.testing.assert_array_equal(top, host.recommend([4, 0, 17], n=5, ids="index")[0])
    raw, _ = model.recommend(fake_device.asarray(np.array(users)), n=5)
    np.testing.assert_array_equal(raw, full[:, :5])
    with pytest.raises(sr.UnknownIdError, match=r"unknown user ids -1 \(users\[1\]\), -2"):
        model.recommend([users[0], -1, -2])
