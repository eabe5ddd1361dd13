"""The CUDA models' Python layer end to end without a GPU: a fake device whose "CuPy" is NumPy
(tests/fake_cupy.py: arrays of a subclass that exposes ``.data.ptr`` and a recorded ``.get()``, a
``cupyx.scipy.sparse`` stand-in) and whose "kernels" run the device step math on the host
(``socialrec._cuda.host_*``, cuda/steps.hpp, cuda/als_row.hpp) in the once-per-fit shuffled record order.
Every model with CUDA kernels then goes through ``device="cuda"``: placement, ``_prepare_cuda`` (records, trust
structures, sampling pool), ``_run_epoch_cuda`` (the epoch dicts, checked by the real bindings without a driver),
float16 storage, and back to the CPU. Its test RMSE / NDCG@10 must match the CPU model's within 1%.

Device input: a fit from cupyx-style ratings and trust copies nothing to the host but per-user / per-item
numbers, the ratings and trust are made canonical on the device as ``Dataset.from_sparse`` makes them on the
host, and every structure built on the device equals the host-built one (tests/device_structures.py).

What this does not cover: the kernels' schedules and warp code, and CuPy itself (tests/gpu does, on a
device)."""
from __future__ import annotations

import types

import numpy as np
import pytest
import scipy.sparse as sp

import socialrec as sr
import fake_cupy
from fake_cupy import FakeArray
from socialrec import _backend, _gpu
from device_structures import IMPLICIT, MODELS, cuda_models, assert_same_state, captured_state, host_built_state, with_split_rating
from ranking_reference import homophily_data, ndcg_at_k

REAL = _backend.cuda_module()
pytestmark = pytest.mark.skipif(REAL is None, reason="socialrec was built without CUDA (the host replays live "
                                                     "in socialrec._cuda)")


def _no_real_device():
    if REAL is None:
        return False
    try:
        return REAL.device_count() == 0
    except sr.CudaError:  # no driver, or one too old
        return True


_NO_REAL_DEVICE = _no_real_device()


def _at(address):
    return None if address == 0 else fake_cupy.ARRAYS[address]


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
    stored order; the real kernels visit chunks in a per-epoch order, Hogwild). A model's epoch takes the dicts
    of the CPU binding (``arrays`` = {**parameters_, **state}, ``hyper``, ``settings``) and runs the passes that
    its cuda/bind_<model>.cpp runs. Without a driver, every epoch's dicts first go through the real binding,
    which reads and checks every array (dtype, contiguity, size) and then fails at its first runtime call: so
    the keys and dtypes the Python side passes are the ones the C++ side reads."""

    archs, cuda_version, TOPK_MAX_N, SVDPP_MAX_FACTORS = ["fake"], 13000, 2048, 256
    calls = []

    def devices(self):
        return ["fake device (host replay)"]

    def shuffle_keys(self, keys, n, seed, stream):
        _at(keys)[:] = np.random.default_rng(seed).permutation(n).astype(np.uint64)

    def _through_the_binding(self, name, arrays, hyper, settings):
        if _NO_REAL_DEVICE:  # host addresses must never reach a real device
            with pytest.raises(sr.CudaError, match="cudaMemsetAsync"):
                getattr(REAL, name)(arrays, hyper, settings, 0)

    # -- passes (the device math on the host; cuda/host_steps.cpp) ---------------------------------------------
    def _mf(self, recs, P, Q, bu, bi, mu, lr, lam, lam_b):
        self.calls.append(("biased_mf", len(recs[2])))
        with _Float32(P, Q) as (p, q):
            return REAL.host_mf_steps(p, q, bu, bi, *recs, mu, lr, lam, lam_b)

    def _logistic(self, recs, sides, lr, lam, pass_id):
        self.calls.append(("logistic", pass_id, len(sides), len(recs["values"])))
        total = 0.0
        for A, B, wd, wp, off in sides:  # TrustMF's two sides share no matrix: their order does not matter
            with _Float32(A, B) as (x, y):
                total += REAL.host_logistic_steps(x, y, recs["a"], recs["b"], recs["values"], lr, lam, wd, wp, off)
        return total

    def _mean_pull(self, state, U, lr, weight):
        self.calls.append(("mean_pull", 2, len(state["users"])))
        with _Float32(U) as (u,):
            return REAL.host_mean_pull_steps(u, state["users"], state["offsets"], state["neighbours"],
                                             state["weights"], lr, weight)

    def _svdpp(self, arrays, h, pass_id=0, **trust):
        g = arrays["groups"] if "groups" in arrays else arrays
        self.calls.append(("svdpp", pass_id, len(g["users"])))
        with _Float32(arrays["user_factors"], arrays["item_factors"], arrays["implicit_factors"],
                      arrays.get("trustee_factors")) as (P, Q, Y, W):
            return REAL.host_svdpp_steps(P, Q, Y, arrays["user_bias"], arrays["item_bias"], g["users"],
                                         g["offsets"], g["items"], g["values"], h["global_bias"],
                                         h["learning_rate"], h["regularization"], h["bias_regularization"],
                                         W=W, **trust)

    # -- one epoch per model (the passes of cuda/bind_<model>.cpp, in order) ------------------------------------
    def _epoch(self, name, arrays, hyper, settings, losses):
        self._through_the_binding(name, arrays, hyper, settings)
        arrays["loss"][...] = losses
        return float(np.sum(losses))

    def biased_mf_epoch(self, arrays, hyper, settings, stream=0):
        a, h = arrays, hyper
        assert a["user_factors"].dtype == a["item_factors"].dtype and a["user_factors"].shape[-1] == h["factors"]
        self._through_the_binding("biased_mf_epoch", arrays, hyper, settings)
        biased = h["biased"]
        loss = self._mf((a["users"], a["items"], a["values"]), a["user_factors"], a["item_factors"],
                        a["user_bias"] if biased else None, a["item_bias"] if biased else None, h["global_bias"],
                        h["learning_rate"], h["regularization"], h["bias_regularization"])
        a["loss"][0] = loss
        return float(loss)

    def sorec_epoch(self, arrays, hyper, settings, stream=0):
        a, h = arrays, hyper
        U, V, Z, lam_c = a["user_factors"], a["item_factors"], a["link_factors"], h["social_regularization"]
        lr, lam = h["learning_rate"], h["regularization"]
        return self._epoch("sorec_epoch", arrays, hyper, settings, [
            self._logistic(a["ratings"], [(U, V, 1.0, 1.0, h["global_bias"])], lr, lam, 0),
            self._logistic(a["links"], [(U, Z, lam_c, lam_c, 0.0)], lr, lam, 1)])

    def social_mf_epoch(self, arrays, hyper, settings, stream=0):
        a, h = arrays, hyper
        U, V, lr = a["user_factors"], a["item_factors"], h["learning_rate"]
        rating = self._logistic(a["ratings"], [(U, V, 1.0, 1.0, h["global_bias"])], lr, h["regularization"], 0)
        lam_t = h["social_regularization"]
        user = self._mean_pull(a["trust"], U, lr, lam_t) if lam_t != 0 else 0.0
        return self._epoch("social_mf_epoch", arrays, hyper, settings, [rating, user])

    def trustmf_epoch(self, arrays, hyper, settings, stream=0):
        a, h = arrays, hyper
        B, V, W = a["user_factors"], a["item_factors"], a["trustee_factors"]
        W2, V2, B2 = a["trustee_user_factors"], a["trustee_item_factors"], a["trustee_truster_factors"]
        b, lam_t, lr, lam = h["global_bias"], h["trust_regularization"], h["learning_rate"], h["regularization"]
        return self._epoch("trustmf_epoch", arrays, hyper, settings, [
            self._logistic(a["ratings"], [(B, V, 1.0, 1.0, b), (W2, V2, 1.0, 1.0, b)], lr, lam, 0),
            self._logistic(a["trust"], [(B, W, lam_t, 1.0, 0.0), (B2, W2, lam_t, 1.0, 0.0)], lr, lam, 1)])

    def soreg_epoch(self, arrays, hyper, settings, stream=0):
        a, h = arrays, hyper
        U, r, lr, beta = a["user_factors"], a["ratings"], h["learning_rate"], h["social_regularization"]
        rating = self._mf((r["a"], r["b"], r["values"]), U, a["item_factors"], None, None, 0.0, lr,
                          h["regularization"], 0.0)
        if h["average_based"]:
            social = self._mean_pull(a["users"], U, lr, beta)
        else:
            e = a["edges"]
            self.calls.append(("edge", 1, len(e["values"])))
            with _Float32(U) as (u,):
                social = REAL.host_edge_steps(u, e["a"], e["b"], e["values"], lr, beta)
        return self._epoch("soreg_epoch", arrays, hyper, settings, [rating, social])

    def svdpp_epoch(self, arrays, hyper, settings, stream=0):
        return self._epoch("svdpp_epoch", arrays, hyper, settings, [self._svdpp(arrays, hyper)])

    def trustsvd_epoch(self, arrays, hyper, settings, stream=0):
        a, h, t = arrays, hyper, arrays["trust"]
        rating = self._svdpp(a, h, trust_offsets=t["offsets"], trustees=t["trustees"],
                             item_weight=t["item_weight"], trustee_weight=t["trustee_weight"])
        self.calls.append(("trust_link", 1, len(t["trusters"])))
        with _Float32(a["user_factors"], a["trustee_factors"]) as (P, W):
            link = REAL.host_trust_link_steps(P, W, t["trusters"], t["offsets"], t["link_trustees"],
                                              t["link_values"], t["trustee_weight"], h["learning_rate"],
                                              h["regularization"], h["social_regularization"])
        return self._epoch("trustsvd_epoch", arrays, hyper, settings, [rating, link])

    def rste_epoch(self, arrays, hyper, settings, stream=0):
        a, h = arrays, hyper
        self.calls.append(("rste", 0, len(a["users"])))
        with _Float32(a["user_factors"], a["item_factors"]) as (U, V):
            loss = REAL.host_rste_steps(U, V, a["users"], a["offsets"], a["items"], a["values"], a["trust_offsets"],
                                        a["trustees"], a["trust_weights"], h["global_bias"], h["alpha"],
                                        h["learning_rate"], h["regularization"])
        return self._epoch("rste_epoch", arrays, hyper, settings, [loss])

    def als_half_step(self, *, G, Y, n_fixed, indptr, indices, values, rows, X, factors, alpha, regularization,
                      cg_steps, graph_indptr, graph_indices, graph_values, previous, beta, row_loss, stream,
                      float16=False):
        self.calls.append(("als", rows))
        assert _at(X).dtype == _at(Y).dtype == (np.float16 if float16 else np.float32) and _at(G).dtype == np.float32
        graph = {}
        if graph_indptr:
            graph = dict(graph_indptr=_at(graph_indptr), graph_indices=_at(graph_indices),
                         graph_values=_at(graph_values), previous=_at(previous), beta=beta)
        x = _at(X)
        new, loss = REAL.host_als_half_step(_at(G), _at(Y), _at(indptr), _at(indices), _at(values), x, alpha,
                                            regularization, cg_steps, **graph)
        x[...] = new
        if row_loss:
            _at(row_loss)[...] = loss

    def _ranking(self, name, arrays, hyper, settings, social):
        a, h = arrays, hyper
        n_pool = len(a["pool_users"])
        self.calls.append(("ranking", social, n_pool))
        samples = REAL.host_draw_samples(a["indptr"], a["indices"], a["pool_users"], a["pool_items"],
                                         len(a["item_bias"]), a.get("social_indptr"), a.get("social_items"),
                                         a.get("social_counts"), REAL.sample_key(settings["seed"], settings["epoch"]),
                                         0, n_pool)
        with _Float32(a["user_factors"], a["item_factors"]) as (P, Q):
            loss = REAL.host_ranking_steps(P, Q, a["item_bias"], *samples, h["learning_rate"], h["regularization"],
                                           h["bias_regularization"], h.get("social_weight", 1.0))
        return self._epoch(name, arrays, hyper, settings, [loss])

    def bpr_epoch(self, arrays, hyper, settings, stream=0):
        return self._ranking("bpr_epoch", arrays, hyper, settings, False)

    def sbpr_epoch(self, arrays, hyper, settings, stream=0):
        return self._ranking("sbpr_epoch", arrays, hyper, settings, True)


@pytest.fixture
def fake_device(monkeypatch):
    kernels = FakeKernels()
    kernels.calls = []
    fake_cupy.install(monkeypatch, kernels, kernels.devices())
    yield kernels
    fake_cupy.ARRAYS.clear()


@pytest.fixture(scope="module")
def social_split():
    ds = sr.datasets.synthetic(n_users=400, n_items=250, density=0.05, seed=2)
    return sr.split.train_test_split(ds, test_size=0.2, seed=0)


# Each rating model's cases on the fake device: variant -> (settings, the passes of one epoch as recorded by
# FakeKernels). The models come from the registry (device_structures.cuda_models): a new CUDA rating model
# without a case here fails at collection.
RATING_CASES = {
    "BiasedMF": {"BiasedMF": ({"epochs": 15, "learning_rate": 0.01}, ["biased_mf"])},
    # biased=True trains on the CPU only (for now): the CUDA passes are those of biased=False
    "SoRec": {"SoRec": ({"epochs": 20, "biased": False}, [("logistic", 0, 1), ("logistic", 1, 1)])},
    "SocialMF": {"SocialMF": ({"epochs": 20, "biased": False}, [("logistic", 0, 1), ("mean_pull", 2)])},
    "TrustMF": {"TrustMF": ({"epochs": 20, "biased": False}, [("logistic", 0, 2), ("logistic", 1, 2)])},
    "SoReg": {"SoReg-SR2": ({"epochs": 20, "biased": False}, ["biased_mf", ("edge", 1)]),
              "SoReg-SR1": ({"epochs": 20, "regularizer": "SR1", "biased": False}, ["biased_mf", ("mean_pull", 2)])},
    "SVDpp": {"SVDpp": ({"epochs": 15}, [("svdpp", 0)])},
    "TrustSVD": {"TrustSVD": ({"epochs": 15}, [("svdpp", 0), ("trust_link", 1)])},
    "RSTE": {"RSTE": ({"epochs": 20, "biased": False}, [("rste", 0)])},
}
RATING = {variant: (cls, params, passes) for name, cls in cuda_models("rating").items()
          for variant, (params, passes) in RATING_CASES[name].items()}
RANKING = {"BPR": (sr.BPR, {}), "SBPR": (sr.SBPR, {}), "SBPR-mixed": (sr.SBPR, {"social_weight": 0.3})}


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


def test_every_registered_ranking_model_has_a_case():
    assert {cls for cls, _ in RANKING.values()} == set(cuda_models("ranking").values())


@pytest.mark.parametrize("name", RANKING)
def test_ranking_models_on_the_fake_device(fake_device, name):
    cls, extra = RANKING[name]
    train, test = homophily_data()
    params = {"factors": 10, "epochs": 20, "learning_rate": 0.05, "regularization": 0.05, "seed": 0, **extra}
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


# ------------------------------------------------------------------------------------------------------------
# Device input: no host copies, and the training structures built on the device equal the host-built ones
# ------------------------------------------------------------------------------------------------------------
def device_input(train):
    """``train`` as cupyx-style device matrices: the ratings as a COO matrix with one rating split in two (see
    ``with_split_rating``), the trust graph as CSR."""
    return (fake_cupy.FakeDeviceSparse(with_split_rating(train.ratings)),
            fake_cupy.FakeDeviceSparse(train.trust.tocsr()))


@pytest.fixture(scope="module")
def implicit_split():
    return homophily_data()


def _data(name, social_split, implicit_split):
    return (implicit_split if IMPLICIT[name] else social_split)[0]


@pytest.mark.parametrize("name", MODELS)
def test_device_input_is_not_copied_to_the_host(fake_device, social_split, implicit_split, name):
    """A fit on device input copies nothing bigger than one number per user or item to the host (the masks of
    the initial parameters, drawn on the host) -- never the ratings or the trust graph."""
    cls, params = MODELS[name]
    train = _data(name, social_split, implicit_split)
    limit = max(train.n_users, train.n_items) + 1
    assert train.nnz > 2 * limit and train.n_trust > 2 * limit  # a copy of either would show
    ratings, trust = device_input(train)
    fake_cupy.GETS.clear()
    model = cls(device="cuda", factors=8, epochs=2, seed=0, **params).fit(ratings, trust=trust)
    assert model.device_ == "cuda" and len(model.history) == 2
    assert max(fake_cupy.GETS) <= limit, sorted(fake_cupy.GETS)[-5:]


@pytest.mark.parametrize("name", [n for n in MODELS if n != "BiasedMF"])
@pytest.mark.parametrize("source", ["device", "dataset"])
def test_device_built_structures_equal_the_host_built(fake_device, social_split, implicit_split, name, source):
    """The state a CUDA fit builds on the device (from device input, or from an uploaded Dataset) equals the one
    built on the host with the CPU path's helpers; the initial parameters and the fitted trust arrays equal
    the CPU model's."""
    cls, params = MODELS[name]
    train = _data(name, social_split, implicit_split)
    model = cls(device="cuda", factors=8, seed=0, **params)
    state = captured_state(model, *(device_input(train) if source == "device" else (train,)))
    assert_same_state(state, host_built_state(model, train))
    cpu = cls(device="cpu", factors=8, seed=0, epochs=0, **params).fit(train)
    assert_same_state({k: v for k, v in model.parameters_.items()}, cpu.parameters_)
    assert_same_state({k: getattr(model, k) for k in cls._FIT_ARRAYS}, {k: getattr(cpu, k) for k in cls._FIT_ARRAYS})


@pytest.mark.parametrize("name", ["SoReg-SR2-pcc", "SoReg-SR2-vss", "SBPR"])
def test_chunked_device_builders(fake_device, social_split, implicit_split, monkeypatch, name):
    """SoReg's similarity and SBPR's social items walk the ratings in chunks; with tiny chunks (many runs, some
    a single user or edge larger than a chunk) they are still the host-built structures."""
    from socialrec import _arrays

    monkeypatch.setattr(_arrays, "PAIRS_PER_CHUNK", 7)
    cls, params = MODELS[name]
    train = _data(name, social_split, implicit_split)
    model = cls(device="cuda", factors=8, seed=0, **params)
    assert_same_state(captured_state(model, *device_input(train)), host_built_state(model, train))


@pytest.mark.parametrize("kind", ["pcc", "vss"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_co_rated_similarity_equals_the_cpp_kernel(kind, seed):
    """The vectorised Sim (NumPy here, CuPy on a device) against socialrec._core.edge_similarity: users without
    ratings, constant raters (zero PCC denominator), pairs without co-rated items, repeated and reversed
    edges."""
    from socialrec import _core
    from socialrec.models.soreg import co_rated_similarity

    rng = np.random.default_rng(seed)
    n_users, n_items = 40, 25
    dense = np.where(rng.random((n_users, n_items)) < 0.3, rng.integers(1, 6, (n_users, n_items)), 0)
    dense[:3] = 0  # no ratings
    dense[3, :10] = 4  # a constant rater
    r = sp.csr_matrix(dense.astype(np.float32))
    src = rng.integers(0, n_users, 300).astype(np.int32)
    dst = rng.integers(0, n_users, 300).astype(np.int32)
    src, dst = np.append(src, [dst[0], 3, 3]), np.append(dst, [src[0], 4, 0])
    expected = _core.edge_similarity(r.indptr.astype(np.int64), r.indices.astype(np.int32), r.data, src, dst, kind, 1)
    got = co_rated_similarity(r.indptr.astype(np.int64), r.indices.astype(np.int32), r.data, n_items, src, dst, kind,
                              np)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(got > 0, expected > 0)


def test_device_trust_is_cleaned_like_the_host(fake_device, social_split):
    """Device trust input is cleaned on the device by Dataset.from_sparse's rules: duplicates summed, self-loops
    and zeros (also sums to zero) dropped with the same warnings, the same errors."""
    from socialrec._sparse import clean_sparse_trust as _clean_sparse_trust

    train, _ = social_split
    t = train.trust.tocoo()
    n = train.n_users
    rows = np.concatenate([t.row, [0, 5, t.row[0], t.row[1], 7]])
    cols = np.concatenate([t.col, [0, 5, t.col[0], t.col[1], 8 if t.col[0] != 8 else 9]])
    values = np.concatenate([t.data, [1.0, 2.0, 1.5, -t.data[1], 0.0]]).astype(np.float64)
    coo = sp.coo_matrix((values, (rows, cols)), shape=(n, n))
    with pytest.warns(UserWarning) as host_warnings:
        host = _clean_sparse_trust(coo, n)
    fake_cupy.GETS.clear()
    with pytest.warns(UserWarning) as device_warnings:
        dev = _gpu.device_trust(fake_cupy.FakeDeviceSparse(coo), n)
    assert not fake_cupy.GETS
    assert [str(w.message) for w in device_warnings] == [str(w.message) for w in host_warnings]
    assert [str(w.message) for w in host_warnings] == [
        "dropped 2 self-loops from the trust graph",
        "dropped 2 trust edges with value 0 (trust[u, v] != 0 is what marks an edge)"]
    for got, expected in ((dev.indptr, host.indptr.astype(np.int64)), (dev.indices, host.indices),
                          (dev.data, host.data)):
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got.get(), expected)
    assert _gpu.device_trust(None, 5).nnz == 0 and _gpu.device_trust(None, 5).shape == (5, 5)
    host_input = _gpu.device_trust(train.trust, n)  # host input: cleaned on the host, uploaded
    np.testing.assert_array_equal(host_input.indices.get(), train.trust.indices)
    for bad, message in ((np.nan, r"trust\[2, 3\] is nan"), (1e39, r"trust\[2, 3\] = 1e\+39 does not fit float32")):
        m = sp.coo_matrix(([1.0, bad], ([1, 2], [2, 3])), shape=(n, n))
        with pytest.raises(ValueError, match=message):
            _clean_sparse_trust(m, n)
        with pytest.raises(ValueError, match=message):
            _gpu.device_trust(fake_cupy.FakeDeviceSparse(m), n)
    for shape in ((n, n + 1), (n + 1, n + 1)):
        m = fake_cupy.FakeDeviceSparse(sp.csr_matrix(shape))
        with pytest.raises(ValueError, match="trust must be square|but ratings have"):
            _gpu.device_trust(m, n)


def test_device_ratings_are_made_canonical(fake_device, social_split):
    """DeviceRatings.from_device: COO duplicates summed, stored zeros kept, rows sorted; the Dataset's arrays."""
    from socialrec.data import Dataset

    train, _ = social_split
    ratings, _ = device_input(train)
    coo = ratings._m.tocoo()
    coo = sp.coo_matrix((np.append(coo.data, 0.0), (np.append(coo.row, 1), np.append(coo.col, 0))), shape=coo.shape)
    coo = sp.coo_matrix((coo.data[::-1], (coo.row[::-1], coo.col[::-1])), shape=coo.shape)  # unsorted input
    fake_cupy.GETS.clear()
    dev = _gpu.DeviceRatings.from_device(fake_cupy.FakeDeviceSparse(coo))
    assert not fake_cupy.GETS
    host = Dataset.from_sparse(coo)
    np.testing.assert_array_equal(dev.indptr.get(), host.ratings.indptr)
    np.testing.assert_array_equal(dev.indices.get(), host.ratings.indices)
    np.testing.assert_array_equal(dev.data.get(), host.ratings.data)
    assert dev.rating_scale == host.rating_scale and dev.trust.nnz == 0
    bad = sp.coo_matrix(([1.0, np.inf], ([0, 3], [1, 2])), shape=(5, 4))
    with pytest.raises(ValueError, match=r"non-finite value at \(user 3, item 2\)"):
        _gpu.DeviceRatings.from_device(fake_cupy.FakeDeviceSparse(bad))


def test_host_ratings_with_device_trust(fake_device, social_split):
    """scipy ratings with a cupyx trust graph: the ratings are uploaded, the trust graph stays on the device."""
    train, _ = social_split
    model = sr.SoRec(device="cuda", factors=8, seed=0, biased=False)
    fake_cupy.GETS.clear()
    state = captured_state(model, train.ratings, fake_cupy.FakeDeviceSparse(train.trust.tocsr()))
    assert max(fake_cupy.GETS) <= train.n_users + 1
    assert_same_state(state, host_built_state(model, train))
