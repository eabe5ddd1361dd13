"""The CUDA models' Python layer end to end without a GPU: a fake device whose "CuPy" is NumPy
(tests/fake_cupy.py: arrays of a subclass that exposes ``.data.ptr`` and a recorded ``.get()``, a
``cupyx.scipy.sparse`` stand-in) and whose "kernels" run the device step math on the host
(the real epoch bindings with the host executor: the kernels' step templates, cuda/models/<model>.hpp, run
serially on the host in the epochs' chunk orders; ALS through cuda/als_row.hpp).
Every model with CUDA kernels then goes through ``device="cuda"``: placement, ``_prepare_cuda`` (records, trust
structures, sampling pool), ``_run_epoch_cuda`` (the epoch dicts, checked by the real bindings without a driver),
float16 storage, and back to the CPU. Its test RMSE / NDCG@10 must match the CPU model's within 1%.

Device input: a fit from cupyx-style ratings and trust copies nothing to the host but per-user / per-item
numbers, the ratings and trust are made canonical on the device as ``Dataset.from_sparse`` makes them on the
host, and every structure built on the device equals the host-built one (tests/device_structures.py).

What this does not cover: the kernels' schedules and warp code, and CuPy itself (tests/gpu does, on a
device)."""
from __future__ import annotations


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


def _at(address):
    return None if address == 0 else fake_cupy.ARRAYS[address]


class FakeKernels:
    """socialrec._cuda's entry points on a fake device. Every ``*_epoch`` is the real binding
    (cuda/bind_<model>.cpp: it reads and checks every array of the dicts -- dtype, contiguity, size -- and runs
    the model's real pass list) with ``settings["executor"] = "host"``: each pass runs its step template (the
    kernels' own, cuda/models/<model>.hpp) serially on the NumPy arrays, in the epoch's chunk order, float16
    rows widened and rounded as on the device (cuda/sgd.hpp Executor). So a model needs nothing here: the
    keys and dtypes the Python side passes are the ones the C++ side reads, and the passes are the device's.
    ALS's row solves go through ``host_als_half_step`` (cuda/als_row.hpp)."""

    archs, cuda_version, TOPK_MAX_N, SVDPP_MAX_FACTORS = ["fake"], 13000, 2048, 256
    calls = []
    executor = "host"  # settings["executor"] of every forwarded epoch

    def devices(self):
        return ["fake device (host replay)"]

    def shuffle_keys(self, keys, n, seed, stream):
        _at(keys)[:] = np.random.default_rng(seed).permutation(n).astype(np.uint64)

    def sample_key(self, seed, epoch):
        return REAL.sample_key(seed, epoch)

    def __getattr__(self, name):
        if not name.endswith("_epoch"):
            raise AttributeError(name)
        real = getattr(REAL, name)

        def epoch(arrays, hyper, settings, stream=0):
            self.calls.append((name, {k: getattr(v, "size", None) for k, v in arrays.items()}))
            return real(arrays, hyper, {**settings, "executor": self.executor}, stream)

        return epoch

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


# Settings of the rating models on the fake device, variant -> settings, where a model needs its own; every other
# registered CUDA rating model (device_structures.cuda_models) runs as {"epochs": 20}. The passes are the real
# bindings' (FakeKernels), so a new model needs no entry here.
FAKE_DEVICE_SETTINGS = {
    "BiasedMF": {"BiasedMF": {"epochs": 15, "learning_rate": 0.01}},
    # the logistic-link models: their biased default, and the papers' unbiased form
    "SoRec": {"SoRec": {"epochs": 20}, "SoRec-unbiased": {"epochs": 20, "biased": False}},
    "SocialMF": {"SocialMF": {"epochs": 20}, "SocialMF-unbiased": {"epochs": 20, "biased": False}},
    "TrustMF": {"TrustMF": {"epochs": 20}, "TrustMF-unbiased": {"epochs": 20, "biased": False}},
    "SoReg": {"SoReg-SR2": {"epochs": 20}, "SoReg-SR1": {"epochs": 20, "regularizer": "SR1"},
              "SoReg-SR2-unbiased": {"epochs": 20, "biased": False}},
    "SVDpp": {"SVDpp": {"epochs": 15}},
    "TrustSVD": {"TrustSVD": {"epochs": 15}},
    "RSTE": {"RSTE": {"epochs": 20}, "RSTE-unbiased": {"epochs": 20, "biased": False}},
}
RATING = {variant: (cls, params) for name, cls in cuda_models("rating").items()
          for variant, params in FAKE_DEVICE_SETTINGS.get(name, {name: {"epochs": 20}}).items()}
RANKING = {"BPR": (sr.BPR, {}), "SBPR": (sr.SBPR, {}), "SBPR-mixed": (sr.SBPR, {"social_weight": 0.3})}


@pytest.mark.parametrize("name", RATING)
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_rating_models_on_the_fake_device(fake_device, social_split, name, dtype):
    cls, params = RATING[name]
    train, test = social_split
    params = {"factors": 8, "seed": 0, **params}
    cpu = cls(device="cpu", **params).fit(train)
    gpu = cls(device="cuda", dtype=dtype, **params).fit(train)
    assert gpu.device_ == "cuda" and all(isinstance(v, FakeArray) for v in gpu.parameters_.values())
    epochs = [c[0] for c in fake_device.calls]
    assert len(epochs) == params["epochs"] and len(set(epochs)) == 1, epochs  # one epoch binding a fit epoch
    if dtype == "float16":
        assert all(v.dtype == np.float16 for k, v in gpu.parameters_.items() if k.endswith("_factors"))
    losses = [h["loss"] for h in gpu.history]
    assert losses[-1] < losses[0]
    assert losses[-1] == pytest.approx(cpu.history[-1]["loss"], rel=0.05 if dtype == "float32" else 0.1)
    gpu.to("cpu")
    assert all(isinstance(v, np.ndarray) and not isinstance(v, FakeArray) for v in gpu.parameters_.values())
    rmse_cpu, rmse_gpu = sr.metrics.rmse(cpu, test), sr.metrics.rmse(gpu, test)
    assert rmse_gpu <= (1.01 if dtype == "float32" else 1.02) * rmse_cpu, (rmse_gpu, rmse_cpu)


@pytest.fixture(scope="module")
def second_split():
    """Another shape (more items than users, sparser, denser trust) for the float16 tolerance (issue 25, item 6)."""
    ds = sr.datasets.synthetic(n_users=250, n_items=400, density=0.04, trust_per_user=8, seed=9)
    return sr.split.train_test_split(ds, test_size=0.2, seed=1)


@pytest.mark.parametrize("name", RATING)
def test_float16_on_a_second_dataset(fake_device, second_split, name):
    """float16 storage (stochastically rounded, cuda/rounding.hpp) within the same 2% of the CPU's test RMSE on a
    second dataset."""
    test_rating_models_on_the_fake_device(fake_device, second_split, name, "float16")


@pytest.mark.parametrize("name", RATING)
def test_cuda_epoch_loss_is_the_objective(fake_device, social_split, name):
    cls, params = RATING[name]
    train, _ = social_split
    model = cls(device="cuda", **{**params, "factors": 8, "epochs": 1, "learning_rate": 1e-7, "seed": 0}).fit(train)
    assert model.history[0]["loss"] == pytest.approx(model.loss(train), rel=1e-4)


def test_an_unknown_executor_is_refused(fake_device, social_split, monkeypatch):
    """settings["executor"] is "device" or "host" (cuda/sgd.hpp Executor); another name raises a ValueError
    before any pass runs, instead of handing host pointers to the device path."""
    monkeypatch.setattr(FakeKernels, "executor", "gpu")
    with pytest.raises(ValueError, match="executor"):
        sr.BiasedMF(device="cuda", factors=4, epochs=1, seed=0).fit(social_split[0])


def test_every_registered_ranking_model_has_a_case():
    assert {cls for cls, _ in RANKING.values()} == set(cuda_models("ranking").values())


@pytest.mark.parametrize("name", RANKING)
def test_ranking_models_on_the_fake_device(fake_device, name):
    cls, extra = RANKING[name]
    train, test = homophily_data()
    params = {"factors": 10, "epochs": 20, "learning_rate": 0.05, "regularization": 0.05, "seed": 0, **extra}
    cpu = cls(device="cpu", **params).fit(train)
    gpu = cls(device="cuda", **params).fit(train)
    assert fake_device.calls[0][0] == ("sbpr_epoch" if cls is sr.SBPR else "bpr_epoch")
    n_pool = fake_device.calls[0][1]["pool_users"]
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


@pytest.mark.parametrize("name", [n for n in ("TrustSVD", "SocialMF", "SoRec", "SBPR") if n in MODELS])
def test_explain_and_recommend_users_after_a_device_fit(fake_device, social_split, implicit_split, name, tmp_path):
    """explain / recommend_users of a fit on device input (its trust graph stays on the device until the first
    query) equal those of the same model saved and loaded on the CPU (issue 24)."""
    cls, params = MODELS[name]
    train = _data(name, social_split, implicit_split)
    model = cls(device="cuda", factors=8, epochs=2, seed=0, **params).fit(*device_input(train))
    model.save(tmp_path / "m.npz")
    host = sr.load(tmp_path / "m.npz", device="cpu")
    users = np.flatnonzero(np.diff(train.trust.indptr) > 0)[:5]
    for u in users:
        got = model.explain(int(u), 3, n=None)
        want = host.explain(int(u), 3, n=None)
        assert [(e["kind"], e["id"]) for e in got] == [(e["kind"], e["id"]) for e in want]
        np.testing.assert_allclose([e["contribution"] for e in got], [e["contribution"] for e in want], rtol=1e-6,
                                   atol=1e-9)
    np.testing.assert_array_equal(model.recommend_users(users, n=5)[0], host.recommend_users(users, n=5)[0])


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
