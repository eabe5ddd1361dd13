"""Device input stays on the device (DESIGN §6): a CUDA fit from ``cupyx.scipy.sparse`` ratings and trust builds
every training structure with CuPy, never copies the ratings or the trust graph to the host, and the
structures equal the ones the CPU path's helpers build on the host (tests/device_structures.py; the same
checks run without a GPU in tests/test_cuda_fake_device.py, with NumPy standing in for CuPy)."""
from __future__ import annotations

import numpy as np
import pytest

import socialrec as sr
from cuda_marks import requires_cuda
from device_structures import IMPLICIT, MODELS, assert_same_state, captured_state, host_built_state, with_split_rating
from ranking_reference import homophily_data
from socialrec import _gpu

pytestmark = requires_cuda


@pytest.fixture(scope="module")
def data():
    social = sr.datasets.synthetic(n_users=400, n_items=250, density=0.05, seed=2)
    return {False: sr.split.train_test_split(social, test_size=0.2, seed=0)[0], True: homophily_data()[0]}


def device_input(train):
    """The ratings as a cupyx COO matrix with one rating stored as two halves (summed by the fit), the trust
    graph as a cupyx CSR matrix."""
    import cupyx.scipy.sparse as csp

    return csp.coo_matrix(with_split_rating(train.ratings)), csp.csr_matrix(train.trust.tocsr())


@pytest.mark.parametrize("name", MODELS)
def test_device_input_is_not_copied_to_the_host(monkeypatch, data, name):
    """Nothing but per-user / per-item numbers (the masks of the host-drawn initial parameters) goes through
    ``_gpu.to_host`` during the fit, and no cupyx matrix is downloaded (``get``). (A CuPy array's own ``get``
    cannot be intercepted; implicit NumPy conversions raise in CuPy by themselves.)"""
    import cupyx.scipy.sparse as csp

    cls, params = MODELS[name]
    train = data[IMPLICIT[name]]
    ratings, trust = device_input(train)
    sizes = []
    to_host = _gpu.to_host

    def recording(a):
        sizes.append(int(getattr(a, "size", 1)))
        return to_host(a)

    def refuse(self, *args, **kwargs):
        raise AssertionError(f"a {type(self).__name__} was copied to the host")

    monkeypatch.setattr(_gpu, "to_host", recording)
    for matrix in (csp.coo_matrix, csp.csr_matrix, csp.csc_matrix):
        monkeypatch.setattr(matrix, "get", refuse)
    model = cls(device="cuda", factors=8, epochs=2, seed=0, **params).fit(ratings, trust=trust)
    assert model.device_ == "cuda" and len(model.history) == 2
    assert max(sizes, default=0) <= max(train.n_users, train.n_items) + 1, sorted(sizes)[-5:]


@pytest.mark.parametrize("name", [n for n in MODELS if n != "BiasedMF"])
@pytest.mark.parametrize("source", ["device", "dataset"])
def test_device_built_structures_equal_the_host_built(data, name, source):
    """The state built with CuPy (from cupyx input, or from an uploaded Dataset) equals the host-built one:
    indices and orders exactly, float sums to float64 rounding; the CPU model's initial parameters (to float32
    rounding: the training mean) and fitted trust arrays."""
    cls, params = MODELS[name]
    train = data[IMPLICIT[name]]
    model = cls(device="cuda", factors=8, seed=0, **params)
    state = captured_state(model, *(device_input(train) if source == "device" else (train,)))
    assert_same_state(state, host_built_state(model, train))
    cpu = cls(device="cpu", factors=8, seed=0, epochs=0, **params).fit(train)
    assert set(model.parameters_) == set(cpu.parameters_)
    for key, value in cpu.parameters_.items():  # the global mean is summed in another order on the device
        np.testing.assert_allclose(model.parameters_[key].get(), value, rtol=1e-6, atol=0, err_msg=key)
    assert_same_state({k: getattr(model, k) for k in cls._FIT_ARRAYS}, {k: getattr(cpu, k) for k in cls._FIT_ARRAYS})


def test_device_trust_is_cleaned_on_the_device(data):
    """A cupyx trust graph with a self-loop, a duplicate edge and a stored zero: cleaned on the device with the
    CPU path's warnings and result."""
    import cupyx.scipy.sparse as csp
    import scipy.sparse as sp

    from socialrec._sparse import clean_sparse_trust as _clean_sparse_trust

    train = data[False]
    n = train.n_users
    t = train.trust.tocoo()
    rows = np.concatenate([t.row, [0, t.row[0], 7]])
    cols = np.concatenate([t.col, [0, t.col[0], 8 if t.col[0] != 8 else 9]])
    coo = sp.coo_matrix((np.concatenate([t.data, [1.0, 2.0, 0.0]]), (rows, cols)), shape=(n, n))
    with pytest.warns(UserWarning) as host_warnings:
        host = _clean_sparse_trust(coo, n)
    with pytest.warns(UserWarning) as device_warnings:
        dev = _gpu.device_trust(csp.coo_matrix(coo), n)
    assert [str(w.message) for w in device_warnings] == [str(w.message) for w in host_warnings]
    np.testing.assert_array_equal(dev.indptr.get(), host.indptr)
    np.testing.assert_array_equal(dev.indices.get(), host.indices)
    np.testing.assert_array_equal(dev.data.get(), host.data)
