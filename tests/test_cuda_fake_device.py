"""The CUDA models' Python layer end to end without a GPU: a fake device whose "CuPy" is NumPy (arrays of a
subclass that exposes ``.data.ptr`` and ``.get()``) and whose "kernels" run the device step math on the host
(``socialrec._cuda.host_*``, cuda/steps.hpp) in the once-per-fit shuffled record order. Every model with
CUDA kernels then goes through ``device="cuda"``: placement, ``_prepare_cuda`` (records, trust structures,
sampling pool), ``_run_epoch_cuda`` (pointer arguments, sides, weights, pass ids, loss slots), float16
storage, and back to the CPU. Its test RMSE / NDCG@10 must match the CPU model's within 1%.

What this does not cover: the kernels' schedules and warp code (tests/gpu does, on a device)."""
from __future__ import annotations

import types

import numpy as np
import pytest

import socialrec as sr
from socialrec import _backend, _gpu
from ranking_eval import homophily_data, ndcg_at_k

REAL = _backend.cuda_module()
pytestmark = pytest.mark.skipif(REAL is None, reason="socialrec was built without CUDA (the host replays live "
                                                     "in socialrec._cuda)")

_ARRAYS = {}  # "device address" -> array, filled whenever a pointer is taken


class FakeArray(np.ndarray):
    """A NumPy array that passes for a CuPy one where socialrec takes pointers or copies to the host."""

    def get(self):
        return np.array(self)

    @property
    def data(self):
        address = self.__array_interface__["data"][0]
        _ARRAYS[address] = self
        return types.SimpleNamespace(ptr=address)


def _wrap(x):
    return x.view(FakeArray) if isinstance(x, np.ndarray) else x


def _lift(fn):
    return lambda *a, **k: _wrap(fn(*a, **k))


def fake_cupy():
    names = ("zeros", "empty", "full", "arange", "argsort", "diff", "bincount", "searchsorted", "ascontiguousarray",
             "unique", "einsum", "exp", "clip", "where", "isfinite", "flatnonzero", "round", "all", "sqrt",
             "maximum")
    cp = types.SimpleNamespace(**{n: _lift(getattr(np, n)) for n in names})
    cp.ndarray = FakeArray
    for t in ("float16", "float32", "float64", "int32", "int64", "uint64"):
        setattr(cp, t, getattr(np, t))
    cp.asarray = lambda a, dtype=None: _wrap(np.array(a, dtype=dtype))  # a "device" copy
    cp.cuda = types.SimpleNamespace(get_current_stream=lambda: types.SimpleNamespace(ptr=0))
    return cp


def _at(address):
    return None if address == 0 else _ARRAYS[address]


class _Float32:
    """Float32 working copies of float16 parameters, written back (rounded) on exit."""

    def __init__(self, *arrays):
        self.arrays = arrays

    def __enter__(self):
        self.work = [a if a is None or a.dtype == np.float32 else np.array(a, dtype=np.float32)
                     for a in self.arrays]
        return self.work

    def __exit__(self, *exc):
        for a, w in zip(self.arrays, self.work):
            if a is not None and w is not a:
                a[...] = w


class FakeKernels:
    """socialrec._cuda's entry points, run on the host with the device step math (each pass in the records'
    stored order; the real kernels visit chunks in a per-epoch order, Hogwild)."""

    archs, cuda_version, TOPK_MAX_N = ["fake"], 13000, 2048
    calls = []

    def devices(self):
        return ["fake device (host replay)"]

    def shuffle_keys(self, keys, n, seed, stream):
        _at(keys)[:] = np.random.default_rng(seed).permutation(n).astype(np.uint64)

    def biased_mf_sgd_epoch(self, *, users, items, values, n, user_factors, item_factors, user_bias, item_bias,
                            factors, float16, biased, global_bias, learning_rate, regularization,
                            bias_regularization, seed, epoch, loss, stream):
        self.calls.append(("biased_mf", n))
        P, Q = _at(user_factors), _at(item_factors)
        assert P.dtype == (np.float16 if float16 else np.float32) and P.shape[-1] == factors
        with _Float32(P, Q) as (p, q):
            _at(loss)[0] = REAL.host_mf_steps(p, q, _at(user_bias) if biased else None,
                                              _at(item_bias) if biased else None, _at(users)[:n], _at(items)[:n],
                                              _at(values)[:n], global_bias, learning_rate, regularization,
                                              bias_regularization)

    def logistic_pair_epoch(self, *, a, b, values, n, A0, B0, data_weight0, penalty_weight0, offset0, A1, B1,
                            data_weight1, penalty_weight1, offset1, n_sides, factors, float16, learning_rate,
                            regularization, pass_id, seed, epoch, loss, stream):
        self.calls.append(("logistic", pass_id, n_sides, n))
        sides = [(A0, B0, data_weight0, penalty_weight0, offset0), (A1, B1, data_weight1, penalty_weight1,
                                                                     offset1)][:n_sides]
        total = 0.0
        for A, B, wd, wp, off in sides:  # TrustMF's two sides share no matrix: their order does not matter
            with _Float32(_at(A), _at(B)) as (x, y):
                total += REAL.host_logistic_steps(x, y, _at(a)[:n], _at(b)[:n], _at(values)[:n], learning_rate,
                                                  regularization, wd, wp, off)
        _at(loss)[0] = total

    def soreg_edge_epoch(self, *, u, f, sim, n, user_factors, factors, float16, learning_rate,
                         social_regularization, pass_id, seed, epoch, loss, stream):
        self.calls.append(("edge", pass_id, n))
        with _Float32(_at(user_factors)) as (U,):
            _at(loss)[0] = REAL.host_edge_steps(U, _at(u)[:n], _at(f)[:n], _at(sim)[:n], learning_rate,
                                                social_regularization)

    def mean_pull_epoch(self, *, users, n, offsets, neighbours, weights, user_factors, factors, float16,
                        learning_rate, weight, pass_id, seed, epoch, loss, stream):
        self.calls.append(("mean_pull", pass_id, n))
        with _Float32(_at(user_factors)) as (U,):
            _at(loss)[0] = REAL.host_mean_pull_steps(U, _at(users)[:n], _at(offsets), _at(neighbours),
                                                     _at(weights), learning_rate, weight)

    def svdpp_epoch(self, *, users, n, offsets, items, values, user_factors, item_factors, implicit_factors,
                    user_bias, item_bias, factors, float16, global_bias, learning_rate, regularization,
                    bias_regularization, pass_id, seed, epoch, loss, stream, trustee_factors=0, trust_offsets=0,
                    trustees=0, item_weight=0, trustee_weight=0):
        self.calls.append(("svdpp", pass_id, n))
        with _Float32(_at(user_factors), _at(item_factors), _at(implicit_factors), _at(trustee_factors)) as work:
            P, Q, Y, W = work
            _at(loss)[0] = REAL.host_svdpp_steps(P, Q, Y, _at(user_bias), _at(item_bias), _at(users)[:n],
                                                 _at(offsets), _at(items), _at(values), global_bias, learning_rate,
                                                 regularization, bias_regularization, W=W,
                                                 trust_offsets=_at(trust_offsets), trustees=_at(trustees),
                                                 item_weight=_at(item_weight), trustee_weight=_at(trustee_weight))

    def trust_link_epoch(self, *, trusters, n, offsets, trustees, values, trustee_weight, user_factors,
                         trustee_factors, factors, float16, learning_rate, regularization, social_regularization,
                         pass_id, seed, epoch, loss, stream):
        self.calls.append(("trust_link", pass_id, n))
        with _Float32(_at(user_factors), _at(trustee_factors)) as (P, W):
            _at(loss)[0] = REAL.host_trust_link_steps(P, W, _at(trusters)[:n], _at(offsets), _at(trustees),
                                                      _at(values), _at(trustee_weight), learning_rate,
                                                      regularization, social_regularization)

    def rste_epoch(self, *, users, n, offsets, items, values, trust_offsets, trustees, trust_weights, user_factors,
                   item_factors, factors, float16, global_bias, alpha, learning_rate, regularization, pass_id, seed,
                   epoch, loss, stream):
        self.calls.append(("rste", pass_id, n))
        with _Float32(_at(user_factors), _at(item_factors)) as (U, V):
            _at(loss)[0] = REAL.host_rste_steps(U, V, _at(users)[:n], _at(offsets), _at(items), _at(values),
                                                _at(trust_offsets), _at(trustees), _at(trust_weights), global_bias,
                                                alpha, learning_rate, regularization)

    def ranking_epoch(self, *, indptr, indices, pool_users, pool_items, n_pool, n_items, social_indptr,
                      social_items, social_counts, n_samples, user_factors, item_factors, item_bias, factors,
                      float16, learning_rate, regularization, bias_regularization, seed, epoch, loss, stream):
        self.calls.append(("ranking", social_indptr != 0, n_samples))
        samples = REAL.host_draw_samples(_at(indptr), _at(indices), _at(pool_users)[:n_pool],
                                         _at(pool_items)[:n_pool], n_items, _at(social_indptr),
                                         _at(social_items), _at(social_counts), REAL.sample_key(seed, epoch), 0,
                                         n_samples)
        with _Float32(_at(user_factors), _at(item_factors)) as (P, Q):
            _at(loss)[0] = REAL.host_ranking_steps(P, Q, _at(item_bias), *samples, learning_rate, regularization,
                                                   bias_regularization)


@pytest.fixture
def fake_device(monkeypatch):
    kernels = FakeKernels()
    kernels.calls = []
    cp = fake_cupy()
    monkeypatch.setattr(_backend, "cuda_module", lambda: kernels)
    monkeypatch.setattr(_backend, "_probe", lambda: (kernels.devices(), None))
    monkeypatch.setattr(_backend, "cupy_version", lambda: "fake")
    monkeypatch.setattr(_gpu, "cupy_module", lambda: cp)
    _ARRAYS.clear()
    yield kernels
    _ARRAYS.clear()


@pytest.fixture(scope="module")
def social_split():
    ds = sr.datasets.synthetic(n_users=400, n_items=250, density=0.05, seed=2)
    return sr.split.train_test_split(ds, test_size=0.2, seed=0)


RATING = {
    "BiasedMF": (sr.BiasedMF, {"epochs": 15, "learning_rate": 0.01}, ["biased_mf"]),
    "SoRec": (sr.SoRec, {"epochs": 20}, [("logistic", 0, 1), ("logistic", 1, 1)]),
    "SocialMF": (sr.SocialMF, {"epochs": 20}, [("logistic", 0, 1), ("mean_pull", 2)]),
    "TrustMF": (sr.TrustMF, {"epochs": 20}, [("logistic", 0, 2), ("logistic", 1, 2)]),
    "SoReg-SR2": (sr.SoReg, {"epochs": 20}, ["biased_mf", ("edge", 1)]),
    "SoReg-SR1": (sr.SoReg, {"epochs": 20, "regularizer": "SR1"}, ["biased_mf", ("mean_pull", 2)]),
    "SVDpp": (sr.SVDpp, {"epochs": 15}, [("svdpp", 0)]),
    "TrustSVD": (sr.TrustSVD, {"epochs": 15}, [("svdpp", 0), ("trust_link", 1)]),
    "RSTE": (sr.RSTE, {"epochs": 20}, [("rste", 0)]),
}


def _kinds(calls, epochs):
    per_epoch = len(calls) // epochs
    return [c[0] if c[0] == "biased_mf" else c[:-1] for c in calls[:per_epoch]]


@pytest.mark.parametrize("name", RATING)
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_rating_models_on_the_fake_device(fake_device, social_split, name, dtype):
    cls, params, passes = RATING[name]
    train, test = social_split
    params = {"factors": 8, "seed": 0, **params}
    cpu = cls(device="cpu", **params).fit(train)
    gpu = cls(device="cuda", dtype=dtype, **params).fit(train)
    assert gpu.device_ == "cuda" and all(isinstance(v, FakeArray) for v in gpu.parameters_.values())
    assert _kinds(fake_device.calls, params["epochs"]) == [p if isinstance(p, str) else p for p in passes]
    if dtype == "float16":
        assert all(v.dtype == np.float16 for k, v in gpu.parameters_.items() if k.endswith("_factors"))
    losses = [h["loss"] for h in gpu.history]
    assert losses[-1] < losses[0]
    assert losses[-1] == pytest.approx(cpu.history[-1]["loss"], rel=0.05 if dtype == "float32" else 0.1)
    gpu.to("cpu")
    assert all(isinstance(v, np.ndarray) and not isinstance(v, FakeArray) for v in gpu.parameters_.values())
    rmse_cpu, rmse_gpu = sr.metrics.rmse(cpu, test), sr.metrics.rmse(gpu, test)
    assert rmse_gpu <= (1.01 if dtype == "float32" else 1.02) * rmse_cpu, (rmse_gpu, rmse_cpu)


@pytest.mark.parametrize("name", RATING)
def test_cuda_epoch_loss_is_the_objective(fake_device, social_split, name):
    cls, params, _ = RATING[name]
    train, _ = social_split
    model = cls(device="cuda", **{**params, "factors": 8, "epochs": 1, "learning_rate": 1e-7, "seed": 0}).fit(train)
    assert model.history[0]["loss"] == pytest.approx(model.loss(train), rel=1e-4)


@pytest.mark.parametrize("cls", [sr.BPR, sr.SBPR], ids=lambda c: c.__name__)
def test_ranking_models_on_the_fake_device(fake_device, cls):
    train, test = homophily_data()
    params = {"factors": 10, "epochs": 20, "learning_rate": 0.05, "regularization": 0.05, "seed": 0}
    cpu = cls(device="cpu", **params).fit(train)
    gpu = cls(device="cuda", **params).fit(train)
    assert [c[:2] for c in fake_device.calls[:1]] == [("ranking", cls is sr.SBPR)]
    n_pool = fake_device.calls[0][2]
    assert n_pool == sum(min(len(r), 10**9) for r in np.split(train.ratings.indices, train.ratings.indptr[1:-1]))
    losses = [h["loss"] for h in gpu.history]
    assert losses[-1] < losses[0]
    assert losses[-1] == pytest.approx(cpu.history[-1]["loss"], rel=0.05)
    gpu.to("cpu")
    assert ndcg_at_k(gpu, test) >= 0.99 * ndcg_at_k(cpu, test)


def test_device_trust_input_is_made_canonical(fake_device, social_split):
    """A device fit takes trust like the CPU path (scipy, or a dense matrix here): canonical host CSR."""
    train, _ = social_split
    trust = train.trust.toarray()
    np.fill_diagonal(trust, 1.0)  # a self-loop is dropped with a warning, as by Dataset.from_sparse
    ratings = _gpu.DeviceRatings.from_dataset(train)
    with pytest.warns(UserWarning, match="self-loops"):
        from_dense = _gpu.host_trust(trust, train.n_users)
    assert (from_dense != train.trust).nnz == 0
    assert _gpu.host_trust(None, 5).shape == (5, 5)
    assert _gpu.host_dataset(ratings) is train and _gpu.host_dataset(train) is train
