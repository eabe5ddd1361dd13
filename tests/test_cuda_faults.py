"""Device faults, forks and loading where CUDA cannot run (issue 25, items 2 and 7), without a GPU.

The fake device (tests/fake_cupy.py) stands in for CUDA; its "kernels" raise errors shaped like CuPy's
(matched by class name and module, as ``socialrec._faults`` does when CuPy is absent): a sticky
``cupy_backends.cuda.api.runtime.CUDARuntimeError`` (status 700, an illegal address) and a
``cupy.cuda.memory.OutOfMemoryError``. They must reach the caller as ``socialrec.CudaError``, and after the
sticky one the device probe must stop claiming CUDA works."""
from __future__ import annotations

import os
import pickle
import warnings

import numpy as np
import pytest

import socialrec as sr
import fake_cupy
from socialrec import _backend, _faults, _gpu


def _cupy_error(name, module, status=None):
    cls = type(name, (RuntimeError,), {"__module__": module})
    err = cls(f"{name}: simulated")
    if status is not None:
        err.status = status
    return err


def illegal_address():
    return _cupy_error("CUDARuntimeError", "cupy_backends.cuda.api.runtime", status=700)


def out_of_memory():
    return _cupy_error("OutOfMemoryError", "cupy.cuda.memory")


class FaultyKernels:
    """A fake ``socialrec._cuda`` whose every epoch raises ``error`` (set per test)."""

    archs, cuda_version, TOPK_MAX_N, SVDPP_MAX_FACTORS = ["fake"], 13000, 2048, 256
    error = None

    def devices(self):
        return ["fake device"]

    def shuffle_keys(self, keys, n, seed, stream):
        fake_cupy.ARRAYS[keys][:] = np.random.default_rng(seed).permutation(n).astype(np.uint64)

    def __getattr__(self, name):
        if not name.endswith("_epoch"):
            raise AttributeError(name)

        def epoch(*args, **kwargs):
            raise self.error

        return epoch


@pytest.fixture
def device(monkeypatch):
    monkeypatch.setattr(_backend, "_LOST_REASON", None)  # restored after each test: a lost device stays local
    kernels = FaultyKernels()
    fake_cupy.install(monkeypatch, kernels, kernels.devices())
    yield kernels
    fake_cupy.ARRAYS.clear()


@pytest.fixture(scope="module")
def data():
    return sr.datasets.synthetic(n_users=60, n_items=40, density=0.2, seed=3)


def test_cupy_errors_are_recognised_by_name_and_module():
    assert _faults.is_cupy_error(illegal_address()) and _faults.is_sticky(illegal_address())
    assert _faults.is_cupy_error(out_of_memory()) and not _faults.is_sticky(out_of_memory())
    assert not _faults.is_cupy_error(_cupy_error("CUDARuntimeError", "mypackage"))
    assert not _faults.is_cupy_error(ValueError("x"))
    # socialrec's own CudaError names the CUDA error (cuda/error.hpp): sticky by name
    assert _faults.is_sticky(sr.CudaError("cudaDeviceSynchronize failed: cudaErrorIllegalAddress (...)"))
    assert not _faults.is_sticky(sr.CudaError("cudaMalloc failed: cudaErrorMemoryAllocation (...)"))


def test_a_sticky_fault_in_an_epoch_is_a_cuda_error_and_cuda_is_then_unusable(device, data):
    device.error = illegal_address()
    assert _backend.cuda_available(warn=False)
    model = sr.BiasedMF(device="cuda", epochs=3, seed=0)
    with pytest.raises(sr.CudaError, match="BiasedMF.fit .epoch 0.* cannot be used again") as info:
        model.fit(data)
    assert type(info.value.__cause__).__name__ == "CUDARuntimeError"
    assert not model.fitted  # no half-run epoch kept, and no second error while restoring
    assert not _backend.cuda_available(warn=False)
    assert _backend.build_info()["cuda_devices"] == []
    with pytest.raises(sr.CudaError, match="earlier CUDA fault"):
        sr.BiasedMF(device="cuda", epochs=1).fit(data)


def test_out_of_memory_is_a_cuda_error_and_cuda_stays_usable(device, data):
    device.error = out_of_memory()
    with pytest.raises(sr.CudaError, match="out of memory"):
        sr.BiasedMF(device="cuda", epochs=2, seed=0).fit(data)
    assert _backend.cuda_available(warn=False)


def test_other_errors_pass_through_unchanged(device, data):
    device.error = KeyError("a bug, not a device fault")
    with pytest.raises(KeyError):
        sr.BiasedMF(device="cuda", epochs=2, seed=0).fit(data)
    assert _backend.cuda_available(warn=False)


@pytest.mark.parametrize("call", ["predict", "recommend"])
def test_faults_in_device_queries_are_cuda_errors(device, data, monkeypatch, call):
    model = sr.BiasedMF(epochs=2, seed=0).fit(data).to("cuda")

    def fault(*args, **kwargs):
        raise illegal_address()

    monkeypatch.setattr(_gpu, "raw_scores", fault)
    monkeypatch.setattr(_gpu, "recommend", fault)
    with pytest.raises(sr.CudaError, match=f"BiasedMF.{call}"):
        if call == "predict":
            model.predict(data.user_ids[:3], data.item_ids[:3])
        else:
            model.recommend(data.user_ids[:3], n=5)
    assert not _backend.cuda_available(warn=False)


def test_a_cuda_model_unpickled_where_cuda_is_lost_loads_on_the_cpu(device, data):
    cpu = sr.BiasedMF(epochs=2, seed=0).fit(data)
    blob = pickle.dumps(sr.BiasedMF(epochs=2, seed=0).fit(data).to("cuda"))
    _backend.mark_lost("simulated: a sticky fault")
    with pytest.warns(RuntimeWarning, match="loaded on the CPU"):
        model = pickle.loads(blob)
    assert model.device_ == "cpu"
    np.testing.assert_array_equal(model.predict(data.user_ids[:5], data.item_ids[:5]),
                                  cpu.predict(data.user_ids[:5], data.item_ids[:5]))


def test_a_failed_placement_on_load_falls_back_to_the_cpu(device, data, monkeypatch):
    """CUDA looks usable (the probe says so) but copying the arrays to it fails: ``_on_load`` used to call
    ``_place`` outside its ``try`` and raise; now it warns and keeps the host arrays."""
    cpu = sr.BiasedMF(epochs=2, seed=0).fit(data)
    blob = pickle.dumps(sr.BiasedMF(epochs=2, seed=0).fit(data).to("cuda"))

    def fault(*args, **kwargs):
        raise out_of_memory()

    monkeypatch.setattr(_gpu, "to_device", fault)
    with pytest.warns(RuntimeWarning, match="out of memory.*loaded on the CPU"):
        model = pickle.loads(blob)
    assert model.device_ == "cpu" and isinstance(model.parameters_["user_factors"], np.ndarray)
    np.testing.assert_array_equal(model.predict(data.user_ids[:5], data.item_ids[:5]),
                                  cpu.predict(data.user_ids[:5], data.item_ids[:5]))


class _Found:
    def devices(self):
        return ["probed device"]


@pytest.fixture
def probed(monkeypatch):
    """The real (cached) probe, having found a device: as in a parent that initialised CUDA."""
    monkeypatch.setattr(_backend, "_LOST_REASON", None)
    monkeypatch.setattr(_backend, "cuda_module", lambda: _Found())
    _backend._probe.cache_clear()
    yield
    _backend._probe.cache_clear()  # it cached the fake device


def test_after_fork_a_child_of_an_initialised_parent_loses_cuda(probed):
    assert _backend._state()[0] == ["probed device"]
    _backend._after_fork_in_child()
    devices, reason = _backend._state()
    assert devices == [] and "forked" in reason
    assert _backend._probe.cache_info().currsize == 0  # the cached "available" is gone


def test_after_fork_an_uninitialised_parent_lets_the_child_probe_again(probed):
    _backend._after_fork_in_child()  # nothing probed yet: nothing lost
    assert _backend._LOST_REASON is None and _backend._state()[0] == ["probed device"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_a_real_fork_runs_the_hook(probed):
    assert _backend._state()[0] == ["probed device"]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what it sees, then leave without running pytest's teardown
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                os.write(write, repr(_backend._state()).encode())
        finally:
            os._exit(0)
    os.close(write)
    seen = os.read(read, 4096).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert "forked" in seen and "probed device" not in seen
    assert _backend._state()[0] == ["probed device"]  # the parent keeps its device
