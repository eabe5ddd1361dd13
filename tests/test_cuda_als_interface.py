"""ALS / SocialALS with device="cuda", device-free: the errors a user gets where no GPU is usable, and the
settings the CUDA solve does not have (solver="cholesky", factors above the limit) or that only it has
(float16 storage), with the CUDA module absent or mocked as in test_cuda_interface.py."""
from __future__ import annotations

import types

import numpy as np
import pytest

import socialrec as sr
from socialrec import _backend

MODELS = ["ALS", "SocialALS"]


def mock_devices(monkeypatch, devices=("NVIDIA H200",)):
    module = types.SimpleNamespace(archs=["90"], cuda_version=13000, devices=lambda: list(devices))
    monkeypatch.setattr(_backend, "cuda_module", lambda: module)
    monkeypatch.setattr(_backend, "_probe", lambda: (list(devices), None))
    monkeypatch.setattr(_backend, "cupy_version", lambda: "14.0")
    monkeypatch.setattr(_backend, "_WARNED", set())


@pytest.fixture(scope="module")
def ds():
    return sr.datasets.synthetic(n_users=30, n_items=20, seed=0)


@pytest.mark.parametrize("name", MODELS)
def test_cuda_without_a_device_is_a_clear_error(name, ds):
    if _backend.cuda_available(warn=False):
        pytest.skip("a usable CUDA device is present")
    cls = getattr(sr, name)
    with pytest.raises(RuntimeError, match="CUDA.*device='cpu'"):  # socialrec.CudaError is a RuntimeError
        cls(device="cuda").fit(ds)
    with pytest.raises(RuntimeError, match="CUDA"):
        cls(epochs=1, device="cpu").fit(ds).to("cuda")
    with pytest.raises(ValueError, match="float64"):
        cls(device="cuda", dtype="float64").fit(ds)


@pytest.mark.parametrize("name", MODELS)
def test_models_have_cuda_kernels(monkeypatch, name):
    mock_devices(monkeypatch)
    cls = getattr(sr, name)
    assert cls(device="cuda")._resolve_device(training=True) == "cuda"
    assert cls()._resolve_device(training=True) == "cpu"  # "auto": the CPU until the kernels are verified
    assert cls(device="cpu")._resolve_device(training=True) == "cpu"
    assert cls(dtype="float64")._resolve_device(training=True) == "cpu"


@pytest.mark.parametrize("name", MODELS)
def test_cholesky_is_cpu_only(monkeypatch, name, ds):
    mock_devices(monkeypatch)
    cls = getattr(sr, name)
    with pytest.raises(ValueError, match=r"solver='cholesky' \(CUDA runs the conjugate-gradient solver only\) is "
                                         r"not available with device='cuda'"):
        cls(device="cuda", solver="cholesky").fit(ds)
    model = cls(solver="cholesky", epochs=1).fit(ds)  # "auto": the CPU kernels, no warning needed
    assert model.device_ == "cpu" and isinstance(model.parameters_["user_factors"], np.ndarray)


@pytest.mark.parametrize("name", MODELS)
def test_factor_limit_and_float16(monkeypatch, name, ds):
    mock_devices(monkeypatch)
    cls = getattr(sr, name)
    with pytest.raises(ValueError, match="factors=4096 .*up to 2048.* not available with device='cuda'"):
        cls(device="cuda", factors=4096).fit(ds)
    # float16 storage exists on CUDA only: a clear error everywhere else, accepted with device="cuda"
    assert cls(device="cuda", dtype="float16").dtype == "float16"
    for device in ("auto", "cpu"):
        with pytest.raises(ValueError, match="dtype='float16' is only available with device='cuda'"):
            cls(device=device, dtype="float16")
    with pytest.raises(ValueError, match="dtype='float16' is only available with device='cuda'"):
        cls(device="cuda", dtype="float16").set_params(device="cpu")


@pytest.mark.skipif(_backend.cuda_module() is None, reason="socialrec was built without CUDA")
def test_compiled_limits_and_argument_errors():
    mod = _backend.cuda_module()
    assert mod.ALS_MAX_FACTORS == 2048
    common = dict(G=0, Y=0, n_fixed=0, indptr=0, indices=0, values=0, rows=1, X=0, alpha=1.0, regularization=0.1,
                  graph_indptr=0, graph_indices=0, graph_values=0, previous=0, beta=0.0, row_loss=0, stream=0)
    with pytest.raises(ValueError, match="factors must be positive"):
        mod.als_half_step(factors=0, cg_steps=3, **common)
    with pytest.raises(ValueError, match="exceeds the CUDA limit"):
        mod.als_half_step(factors=4096, cg_steps=3, **common)
    with pytest.raises(ValueError, match="cg_steps must be positive"):
        mod.als_half_step(factors=8, cg_steps=0, **common)
    with pytest.raises(ValueError, match="null pointer"):
        mod.als_half_step(factors=8, cg_steps=3, **common)
    with pytest.raises(ValueError, match="k must be positive"):
        mod.ranking_metrics(0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0)
    with pytest.raises(ValueError, match="null pointer"):
        mod.ranking_metrics(0, 1, 10, 0, 0, 0, 0, 0, 10, 0, 0)
