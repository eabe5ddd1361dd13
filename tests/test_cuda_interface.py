"""The CUDA back-end's device-free parts, run everywhere: ``__cuda_array_interface__`` parsing (fake producers,
no CuPy), the stream hand-off and zero-copy wrapping (a fake CuPy), device selection with the CUDA module
absent or mocked, ``build_info`` keys, error messages, and the compiled module's host-side pieces."""
from __future__ import annotations

import re
import types
import warnings

import numpy as np
import pytest

import socialrec as sr
from socialrec import _backend, _gpu, _gpu_status, _interop
from device_structures import cuda_models
from fake_cupy import wrap


class Producer:
    """A fake CUDA array: exposes only ``__cuda_array_interface__``."""

    def __init__(self, **cai):
        base = {"shape": (3, 4), "typestr": "<f4", "data": (0x7F0000, False), "version": 3}
        base.update(cai)
        self.__cuda_array_interface__ = {k: v for k, v in base.items() if v is not _DROP}


_DROP = object()


# ---------------------------------------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------------------------------------
def test_contiguous_array_gets_c_strides():
    info = _interop.parse_cuda_array_interface(Producer())
    assert info.shape == (3, 4) and info.dtype == np.float32 and info.strides == (16, 4)
    assert info.c_contiguous and not info.readonly and info.stream is None and info.version == 3
    assert info.byte_extent() == (0, 48)


def test_explicit_strides_non_contiguous():
    # A transposed 4x3 float32 array: element (i, j) at 4 i + 12 j bytes.
    info = _interop.parse_cuda_array_interface(Producer(shape=(4, 3), strides=(4, 12)))
    assert info.strides == (4, 12) and not info.c_contiguous
    assert info.byte_extent() == (0, 4 * 3 + 12 * 2 + 4)
    # A column of a 5x8 int64 matrix: one element per 64-byte row.
    col = _interop.parse_cuda_array_interface(Producer(shape=(5,), typestr="<i8", strides=(64,)))
    assert not col.c_contiguous and col.byte_extent() == (0, 4 * 64 + 8)


def test_explicit_c_strides_count_as_contiguous():
    info = _interop.parse_cuda_array_interface(Producer(strides=(16, 4)))
    assert info.c_contiguous


def test_negative_strides_extent_starts_below_the_pointer():
    info = _interop.parse_cuda_array_interface(Producer(shape=(5,), strides=(-4,)))
    assert info.byte_extent() == (-16, 4)
    info2 = _interop.parse_cuda_array_interface(Producer(shape=(2, 3), strides=(-12, 4)))
    assert info2.byte_extent() == (-12, 12)


def test_readonly_flag_and_zero_size():
    assert _interop.parse_cuda_array_interface(Producer(data=(0x1000, True))).readonly
    empty = _interop.parse_cuda_array_interface(Producer(shape=(0, 4), data=(0, False)))
    assert empty.size == 0 and empty.byte_extent() == (0, 0)


@pytest.mark.parametrize("stream, expected", [(None, None), (1, 1), (2, 2), (0x55AA00, 0x55AA00)])
def test_stream_values_of_version_3(stream, expected):
    assert _interop.parse_cuda_array_interface(Producer(stream=stream)).stream == expected


def test_stream_is_ignored_before_version_3():
    assert _interop.parse_cuda_array_interface(Producer(version=2, stream=0x1234)).stream is None


def test_stream_zero_is_disallowed():
    with pytest.raises(ValueError, match="stream 0 is disallowed"):
        _interop.parse_cuda_array_interface(Producer(stream=0), "ratings")


@pytest.mark.parametrize("stream", [-5, 1.5, "1"])
def test_bad_stream_values(stream):
    with pytest.raises(ValueError, match="stream"):
        _interop.parse_cuda_array_interface(Producer(stream=stream))


@pytest.mark.parametrize("version", [4, -1, "3", None])
def test_unsupported_versions(version):
    with pytest.raises(ValueError, match="version"):
        _interop.parse_cuda_array_interface(Producer(version=version))


@pytest.mark.parametrize("key", ["shape", "typestr", "data", "version"])
def test_missing_required_entries(key):
    with pytest.raises(ValueError, match=f"no '{key}' entry"):
        _interop.parse_cuda_array_interface(Producer(**{key: _DROP}), "users")


@pytest.mark.parametrize("typestr, message", [
    (">f4", "non-native byte order"),
    ("|V12", "not supported"),
    ("<c8", "not supported"),
    ("<M8[s]", "not supported"),
    ("not-a-type", "not a NumPy type string"),
    (42, "must be a string"),
])
def test_typestr_errors(typestr, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        _interop.parse_cuda_array_interface(Producer(typestr=typestr))


@pytest.mark.parametrize("typestr, dtype", [("<f4", np.float32), ("<f2", np.float16), ("<i4", np.int32),
                                            ("<u8", np.uint64), ("|b1", np.bool_), ("|i1", np.int8)])
def test_typestr_accepted(typestr, dtype):
    assert _interop.parse_cuda_array_interface(Producer(typestr=typestr)).dtype == dtype


@pytest.mark.parametrize("cai, message", [
    ({"shape": (3, -1)}, "shape"),
    ({"shape": "3x4"}, "shape"),
    ({"data": 0x1000}, "pair"),
    ({"data": (0x1000,)}, "pair"),
    ({"data": (0x1000, 0)}, "read-only flag"),
    ({"data": (0, False)}, "null data pointer"),
    ({"strides": (4,)}, "do not match shape"),
    ({"strides": (4.0, 4)}, "strides"),
    ({"mask": Producer()}, "masked"),
])
def test_malformed_interfaces(cai, message):
    with pytest.raises(ValueError, match=message):
        _interop.parse_cuda_array_interface(Producer(**cai))


def test_objects_without_the_interface():
    with pytest.raises(TypeError, match="does not expose __cuda_array_interface__"):
        _interop.parse_cuda_array_interface(np.zeros(3), "users")
    assert not _interop.has_cuda_array_interface(np.zeros(3))
    assert not _interop.is_device_input(np.zeros(3)) and not _interop.is_device_input([1, 2])
    assert _interop.has_cuda_array_interface(Producer()) and _interop.is_device_input(Producer())


def test_device_sparse_and_dlpack_detection_without_cupy():
    fake_sparse = type("csr_matrix", (), {"__module__": "cupyx.scipy.sparse._csr"})()
    assert _interop.is_device_sparse(fake_sparse) and _interop.is_device_input(fake_sparse)

    class Tensor:
        def __init__(self, device_type):
            self.device_type = device_type

        def __dlpack__(self, stream=None):  # pragma: no cover - never called by detection
            raise AssertionError

        def __dlpack_device__(self):
            return (self.device_type, 0)

    assert _interop.is_device_input(Tensor(2)) and not _interop.is_device_input(Tensor(1))


# ---------------------------------------------------------------------------------------------------------
# stream hand-off and zero-copy wrapping, against a fake CuPy
# ---------------------------------------------------------------------------------------------------------
class FakeStream:
    def __init__(self, ptr, log):
        self.ptr, self.log = ptr, log

    def record(self):
        self.log.append(("record", self.ptr))
        return ("event", self.ptr)

    def wait_event(self, event):
        self.log.append(("wait", self.ptr, event))


def fake_cupy(current=0x999):
    log = []
    made = []

    class ndarray:  # noqa: N801 - mirrors cupy.ndarray
        def __init__(self, shape, dtype=None, memptr=None, strides=None):
            made.append({"shape": shape, "dtype": np.dtype(dtype), "memptr": memptr, "strides": strides})

    class ExternalStream(FakeStream):
        def __init__(self, ptr):
            super().__init__(ptr, log)

    cuda = types.SimpleNamespace(
        Stream=types.SimpleNamespace(null=FakeStream(0, log), ptds=FakeStream(2, log)),
        ExternalStream=ExternalStream,
        get_current_stream=lambda: FakeStream(current, log),
        UnownedMemory=lambda ptr, size, owner: ("memory", ptr, size, owner),
        MemoryPointer=lambda mem, offset: ("pointer", mem, offset),
    )
    cp = types.SimpleNamespace(ndarray=ndarray, cuda=cuda, empty=lambda shape, dtype: ("empty", shape))
    return cp, log, made


@pytest.mark.parametrize("stream, producer_ptr", [(1, 0), (2, 2), (0xABC, 0xABC)])
def test_consumer_waits_on_the_producer_stream(stream, producer_ptr):
    cp, log, _ = fake_cupy()
    info = _interop.parse_cuda_array_interface(Producer(stream=stream))
    _interop.wait_for_producer(info, cp)
    assert log == [("record", producer_ptr), ("wait", 0x999, ("event", producer_ptr))]


def test_no_wait_without_a_stream_or_on_the_same_stream():
    cp, log, _ = fake_cupy(current=0xABC)
    _interop.wait_for_producer(_interop.parse_cuda_array_interface(Producer(stream=None)), cp)
    _interop.wait_for_producer(_interop.parse_cuda_array_interface(Producer(stream=0xABC)), cp)
    assert log == []


def test_as_cupy_wraps_strided_memory_without_copying(monkeypatch):
    cp, log, made = fake_cupy()
    monkeypatch.setattr(_backend, "cupy_module", lambda: cp)
    producer = Producer(shape=(4, 3), strides=(4, 12), data=(0x10000, False), stream=0x77)
    _interop.as_cupy(producer, "ratings")
    assert log[-1] == ("wait", 0x999, ("event", 0x77))  # ordered after the producer's stream
    (arr,) = made
    assert arr["shape"] == (4, 3) and arr["strides"] == (4, 12) and arr["dtype"] == np.float32
    _, memory, offset = arr["memptr"]
    assert memory == ("memory", 0x10000, 40, producer) and offset == 0  # the owner keeps the producer alive


def test_as_cupy_negative_strides_point_into_the_allocation(monkeypatch):
    cp, _, made = fake_cupy()
    monkeypatch.setattr(_backend, "cupy_module", lambda: cp)
    _interop.as_cupy(Producer(shape=(5,), strides=(-4,), data=(0x10010, False)))
    _, memory, offset = made[0]["memptr"]
    assert memory[1:3] == (0x10000, 20) and offset == 16


def test_as_cupy_rejects_host_arrays(monkeypatch):
    cp, _, _ = fake_cupy()
    monkeypatch.setattr(_backend, "cupy_module", lambda: cp)
    with pytest.raises(TypeError, match="expected a CUDA array"):
        _interop.as_cupy([1, 2, 3], "users")


# ---------------------------------------------------------------------------------------------------------
# device selection, with the CUDA module absent or mocked
# ---------------------------------------------------------------------------------------------------------
def mock_backend(monkeypatch, built=True, devices=(), reason=None, cupy="14.0", verified=False):
    """A CUDA build (or none) seeing ``devices``; ``verified``: as if the GPU suite had passed on a real device
    (``_gpu_status.VERIFIED``), the only state in which ``device="auto"`` may pick CUDA."""
    monkeypatch.setattr(_gpu_status, "VERIFIED", verified)
    module = types.SimpleNamespace(archs=["75-real", "90"], cuda_version=13000, devices=lambda: list(devices))
    monkeypatch.setattr(_backend, "cuda_module", lambda: module if built else None)
    if not built:
        reason = "socialrec was built without CUDA (no nvcc at build time, or SOCIALREC_CUDA=OFF)"
    elif not devices and reason is None:
        reason = "socialrec was built with CUDA but no CUDA device is present"
    monkeypatch.setattr(_backend, "_probe", lambda: (list(devices), None if devices else reason))
    monkeypatch.setattr(_backend, "cupy_version", lambda: cupy)
    monkeypatch.setattr(_backend, "_WARNED", set())


def test_not_built_auto_is_cpu_silently_and_cuda_is_a_clear_error(monkeypatch):
    mock_backend(monkeypatch, built=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _backend.resolve_device("auto", "float32", True, "BiasedMF") == "cpu"
    with pytest.raises(RuntimeError, match="built without CUDA"):
        _backend.resolve_device("cuda", "float32", True, "BiasedMF")
    info = _backend.build_info()
    assert info["cuda_built"] is False and info["cuda_devices"] == [] and info["cuda_archs"] == []
    assert "without CUDA" in info["cuda_status"]


@pytest.mark.parametrize("verified", [False, True])
def test_built_without_device_auto_is_cpu_silently_and_cuda_is_a_clear_error(monkeypatch, verified):
    """Issue 16 trap 5: a CUDA build on a machine whose driver is missing warned on every CPU run."""
    mock_backend(monkeypatch, devices=(), reason="cudaGetDeviceCount failed: cudaErrorInsufficientDriver",
                 verified=verified)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the user did not ask for CUDA: no warning
        assert _backend.resolve_device("auto", "float32", True, "BiasedMF") == "cpu"
        assert sr.BiasedMF(epochs=1).fit(sr.datasets.synthetic(n_users=30, n_items=20, seed=0)).device_ == "cpu"
    with pytest.raises(sr.CudaError, match="cudaErrorInsufficientDriver.*device='cpu'"):
        _backend.resolve_device("cuda", "float32", True, "BiasedMF")
    info = _backend.build_info()
    assert info["cuda_built"] is True and info["cuda_devices"] == [] and info["cuda_archs"] == ["75-real", "90"]
    assert "cudaErrorInsufficientDriver" in info["cuda_status"]


def test_device_without_cupy_auto_is_cpu_silently_and_cuda_names_cupy(monkeypatch):
    mock_backend(monkeypatch, devices=("NVIDIA H200",), cupy=None, verified=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _backend.resolve_device("auto", "float32", True, "BiasedMF") == "cpu"
    with pytest.raises(RuntimeError, match="needs CuPy"):
        _backend.resolve_device("cuda", "float32", True, "BiasedMF")


def test_unverified_kernels_auto_is_cpu_and_cuda_warns_once(monkeypatch):
    """Until the GPU suite has passed on a real device (_gpu_status.VERIFIED), "auto" never switches to the
    CUDA kernels, even with a device, CuPy and a model that has kernels; "cuda" runs them and says once that
    they are unverified."""
    mock_backend(monkeypatch, devices=("NVIDIA H200",), verified=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _backend.resolve_device("auto", "float32", True, "BiasedMF") == "cpu"
        assert sr.BiasedMF()._resolve_device() == "cpu" and sr.ALS()._resolve_device() == "cpu"
    with pytest.warns(sr.UnverifiedCudaWarning, match="not yet passed the GPU suite.*_gpu_status"):
        assert _backend.resolve_device("cuda", "float32", True, "BiasedMF") == "cuda"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per process
        assert sr.TrustSVD(device="cuda")._resolve_device() == "cuda"
    assert issubclass(sr.UnverifiedCudaWarning, RuntimeWarning)


def test_the_recorded_gpu_status_is_unverified_until_evidence_is_committed():
    """The repository's record (docs/CUDA.md): VERIFIED goes with the EVIDENCE of the run that set it."""
    assert _gpu_status.VERIFIED is (_gpu_status.EVIDENCE is not None)
    if _gpu_status.VERIFIED:
        assert {"date", "device", "commit", "result"} <= set(_gpu_status.EVIDENCE)


def test_auto_picks_cuda_only_for_models_and_dtypes_that_have_kernels(monkeypatch):
    mock_backend(monkeypatch, devices=("NVIDIA H200",), verified=True)
    assert _backend.resolve_device("auto", "float32", True, "BiasedMF") == "cuda"
    assert _backend.resolve_device("auto", "float16", True, "BiasedMF") == "cuda"
    assert _backend.resolve_device("auto", "float64", True, "BiasedMF") == "cpu"
    assert _backend.resolve_device("auto", "float32", False, "SocialALS") == "cpu"
    assert _backend.resolve_device("cpu", "float32", True, "BiasedMF") == "cpu"
    assert _backend.resolve_device("cuda", "float32", True, "BiasedMF") == "cuda"
    with pytest.raises(ValueError, match="SocialALS has no CUDA kernels"):
        _backend.resolve_device("cuda", "float32", False, "SocialALS")
    with pytest.raises(ValueError, match="float64.*not available with device='cuda'"):
        _backend.resolve_device("cuda", "float64", True, "BiasedMF")
    info = _backend.build_info()
    assert info["cuda_devices"] == ["NVIDIA H200"] and info["cuda_status"] == "ok"


# The registered models with CUDA kernels (every model has them: docs/CUDA.md); ALS/SocialALS's device-side
# rules are in test_cuda_als_interface.py.
CUDA_MODELS = tuple(cuda_models().values())


def test_models_resolve_through_the_backend(monkeypatch):
    mock_backend(monkeypatch, devices=("NVIDIA H200",), verified=True)
    assert sr.BiasedMF()._resolve_device() == "cuda"
    assert sr.BiasedMF(device="cpu")._resolve_device() == "cpu"
    assert sr.BiasedMF(dtype="float64")._resolve_device() == "cpu"
    assert sr.ALS()._resolve_device() == "cuda"
    assert sr.ALS(dtype="float64")._resolve_device() == "cpu"


@pytest.mark.parametrize("cls", CUDA_MODELS, ids=lambda c: c.__name__)
def test_models_with_kernels_pick_cuda(monkeypatch, cls):
    mock_backend(monkeypatch, devices=("NVIDIA H200",), verified=True)
    assert cls._cuda_kernels
    assert cls()._resolve_device() == "cuda"
    assert cls(dtype="float16", device="cuda")._resolve_device() == "cuda"  # float16 storage: every model
    assert cls(dtype="float64")._resolve_device() == "cpu"
    with pytest.raises(ValueError, match="float64"):
        cls(dtype="float64", device="cuda")._resolve_device()
    for hook in ("_prepare_cuda", "_run_epoch_cuda"):  # each model supplies its own device passes
        assert hook in cls.__dict__ or any(hook in b.__dict__ for b in cls.__mro__[1:] if b in CUDA_MODELS), hook


class _CpuOnly(sr.BiasedMF):
    """A stand-in for a model without CUDA kernels (every shipped model has them now)."""

    _cuda_kernels = False


def test_models_without_kernels_refuse_cuda_clearly(monkeypatch):
    mock_backend(monkeypatch, devices=("NVIDIA H200",), verified=True)
    assert _CpuOnly()._resolve_device() == "cpu"
    with pytest.raises(ValueError, match="_CpuOnly has no CUDA kernels yet; use device='cpu'"):
        _CpuOnly(device="cuda")._resolve_device()


@pytest.mark.parametrize("cls", [sr.SVDpp, sr.TrustSVD, sr.RSTE], ids=lambda c: c.__name__)
def test_user_grouped_models_on_cuda_are_limited_to_256_factors(monkeypatch, cls):
    mock_backend(monkeypatch, devices=("NVIDIA H200",), verified=True)
    assert cls(factors=256)._resolve_device() == "cuda"
    assert cls(factors=257)._resolve_device() == "cpu"  # auto: the CPU takes it
    with pytest.raises(ValueError, match="factors <= 256"):
        cls(factors=300, device="cuda")
    cls(factors=300, device="cpu")  # the CPU path is not limited
    assert sr.BiasedMF(factors=300)._resolve_device() == "cuda"  # the record passes stream long rows


def test_fit_dispatches_cuda_fits_to_the_device_hooks(monkeypatch):
    """fit must reach _prepare_cuda / _run_epoch_cuda on device='cuda', although every model defines its own
    (CPU) _prepare and _run_epoch: the dispatch lives in _prepare_on_device / _run_epoch_on_device."""
    calls = []
    model = sr.SoRec(epochs=2, factors=4)
    model.device_ = "cuda"
    monkeypatch.setattr(model, "_prepare_cuda", lambda train: calls.append("prepare") or {"s": 1})
    monkeypatch.setattr(model, "_run_epoch_cuda", lambda state, settings: calls.append(state["s"]) or 1.0)
    monkeypatch.setattr(_gpu, "to_device", lambda v, dtype=None: v)
    model.parameters_ = {}
    state = model._prepare_on_device(None)
    assert model._run_epoch_on_device(state, {"epoch": 0}) == 1.0
    assert calls == ["prepare", 1]
    model.device_ = "cpu"
    with pytest.raises(AttributeError):  # the CPU path: SoRec._prepare reads the training data
        model._prepare_on_device(None)


def test_adaptive_schedule_trains_on_the_cpu_only(monkeypatch):
    mock_backend(monkeypatch, devices=("NVIDIA H200",), verified=True)
    ds = sr.datasets.synthetic(n_users=30, n_items=20, seed=0)
    with pytest.raises(ValueError, match="learning_rate_schedule='adaptive' is not available with device='cuda'"):
        sr.BiasedMF(device="cuda", learning_rate_schedule="adaptive").fit(ds)
    with pytest.raises(ValueError, match="not available with device='cuda'"):
        sr.BiasedMF(device="cuda", dtype="float16", learning_rate_schedule="adaptive").fit(ds)
    model = sr.BiasedMF(learning_rate_schedule="adaptive", epochs=2).fit(ds)  # "auto": the CPU kernels
    assert model.device_ == "cpu" and isinstance(model.parameters_["user_factors"], np.ndarray)
    # placement of a fitted model (prediction, save/load) is not training: the schedule does not matter there
    assert sr.BiasedMF(learning_rate_schedule="adaptive")._resolve_device() == "cuda"


@pytest.mark.parametrize("name", ["BiasedMF", "SVDpp", "SoRec", "SocialMF", "SoReg", "TrustMF", "RSTE"])
def test_weighted_penalties_train_on_the_cpu_only(monkeypatch, name):
    """regularization_scaling other than "occurrence" has no CUDA kernel yet: device="cuda" refuses it before any
    work, "auto" trains it on the CPU (every model that takes it; issue 15)."""
    mock_backend(monkeypatch, devices=("NVIDIA H200",), verified=True)
    ds = sr.datasets.synthetic(n_users=30, n_items=20, seed=0)
    cls = getattr(sr, name)
    for scaling in ("sqrt_count", "count"):
        with pytest.raises(ValueError, match=f"regularization_scaling='{scaling}' is not available with device='cuda'"):
            cls(device="cuda", regularization_scaling=scaling).fit(ds)
    model = cls(regularization_scaling="count", epochs=2).fit(ds)
    assert model.device_ == "cpu" and isinstance(model.parameters_["user_factors"], np.ndarray)
    # TrustSVD's own weighted form is no refusal: its kernels (CPU and CUDA) train it
    assert sr.TrustSVD()._cuda_training_unsupported() is None


# ---------------------------------------------------------------------------------------------------------
# the real build on this machine
# ---------------------------------------------------------------------------------------------------------
def test_build_info_tells_not_built_from_no_device():
    info = sr.build_info()
    for key in ("cuda_built", "cuda_archs", "cuda_devices", "cuda_status", "cuda_version", "cupy"):
        assert key in info
    if not info["cuda_built"]:
        assert info["cuda_archs"] == [] and "without CUDA" in info["cuda_status"]
    elif not info["cuda_devices"]:
        assert info["cuda_status"] != "ok" and "built with CUDA" in info["cuda_status"]
    else:
        assert info["cuda_status"] == "ok"


def test_float16_is_cuda_only():
    with pytest.raises(ValueError, match="float16.*only available with device='cuda'"):
        sr.BiasedMF(dtype="float16")
    with pytest.raises(ValueError, match="float16"):
        sr.BiasedMF(dtype="float16", device="cpu")
    model = sr.BiasedMF(dtype="float16", device="cuda")  # valid settings; fitting needs a device
    assert model.to("cpu").dtype == "float32" and model.device == "cpu"


@pytest.mark.parametrize("cls", CUDA_MODELS, ids=lambda c: c.__name__)
def test_each_cuda_model_without_a_device_raises_the_documented_error(cls):
    if _backend.cuda_available(warn=False):
        pytest.skip("a usable CUDA device is present")
    ds = sr.datasets.synthetic(n_users=30, n_items=20, seed=0)
    built = _backend.cuda_module() is not None
    expected = sr.CudaError if built else RuntimeError  # no device (or driver) / no CUDA build (DESIGN §6)
    with pytest.raises(expected, match="device='cpu'"):
        cls(device="cuda", epochs=1).fit(ds)
    with pytest.raises(expected, match="device='cpu'"):
        cls(device="cuda", dtype="float16", epochs=1).fit(ds)
    with pytest.raises(ValueError, match="float64"):
        cls(device="cuda", dtype="float64").fit(ds)
    assert cls(epochs=1, factors=4).fit(ds).device_ == "cpu"  # auto falls back


# The social models with biases: biased=True (the default) and biased=False both train on CUDA (docs/CUDA.md).
BIASED_ON_CUDA = (sr.SoRec, sr.SocialMF, sr.TrustMF, sr.SoReg, sr.RSTE)


@pytest.mark.parametrize("cls", BIASED_ON_CUDA, ids=lambda c: c.__name__)
def test_biased_social_models_train_on_cuda(monkeypatch, cls):
    """biased=True and biased=False both pick CUDA once the kernels are verified (auto and device='cuda')."""
    mock_backend(monkeypatch, devices=("NVIDIA H200",), verified=True)
    for biased in (True, False):
        assert cls(biased=biased)._cuda_training_unsupported() is None
        assert cls(biased=biased)._resolve_device(training=True) == "cuda"
        assert cls(biased=biased, device="cuda")._resolve_device(training=True) == "cuda"


def test_cuda_settings_without_a_device_are_clear_errors():
    if _backend.cuda_available(warn=False):
        pytest.skip("a usable CUDA device is present")
    ds = sr.datasets.synthetic(n_users=30, n_items=20, seed=0)
    with pytest.raises(RuntimeError, match="CUDA.*device='cpu'"):
        sr.BiasedMF(device="cuda").fit(ds)
    with pytest.raises(RuntimeError, match="CUDA"):
        sr.BiasedMF(epochs=1, device="cpu").fit(ds).to("cuda")
    with pytest.raises(ValueError, match="float64"):
        sr.BiasedMF(device="cuda", dtype="float64").fit(ds)
    with pytest.raises(ValueError, match="'cpu' or 'cuda'"):
        sr.BiasedMF().to("gpu")


def test_a_cuda_model_file_loads_on_the_cpu_without_a_device(tmp_path):
    if _backend.cuda_available(warn=False):
        pytest.skip("a usable CUDA device is present")
    ds = sr.datasets.synthetic(n_users=40, n_items=30, seed=1)
    model = sr.BiasedMF(epochs=2, device="cpu").fit(ds)
    model.set_params(device="cuda")  # as if it had been trained on a GPU
    model.save(tmp_path / "m.npz")
    with pytest.warns(RuntimeWarning, match="loaded on the CPU"):
        loaded = sr.load(tmp_path / "m.npz")
    assert loaded.device_ == "cpu" and isinstance(loaded.parameters_["user_factors"], np.ndarray)
    users, items = np.arange(10), np.arange(10)
    np.testing.assert_array_equal(loaded.predict(users, items), model.predict(users, items))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explicit = sr.load(tmp_path / "m.npz", device="cpu")
    assert explicit.device == "cpu"
    np.testing.assert_array_equal(explicit.predict(users, items), model.predict(users, items))


def test_a_float16_model_file_loads_widened_on_the_cpu(tmp_path):
    ds = sr.datasets.synthetic(n_users=40, n_items=30, seed=1)
    model = sr.BiasedMF(epochs=2, device="cpu").fit(ds)
    # What a dtype='float16' CUDA model writes: half-precision factors, float32 biases.
    model.parameters_ = {k: v.astype(np.float16) if k.endswith("_factors") else v
                         for k, v in model.parameters_.items()}
    model.__dict__.update(dtype="float16", device="cuda")
    model.save(tmp_path / "h.npz")
    loaded = sr.load(tmp_path / "h.npz", device="cpu")
    assert loaded.dtype == "float32" and loaded.parameters_["user_factors"].dtype == np.float32
    np.testing.assert_array_equal(loaded.parameters_["item_factors"],
                                  model.parameters_["item_factors"].astype(np.float32))


cuda_built = pytest.mark.skipif(_backend.cuda_module() is None, reason="socialrec was built without CUDA")


@cuda_built
def test_compiled_module_imports_and_reports_archs():
    mod = _backend.cuda_module()
    assert mod.archs and all(re.fullmatch(r"\d+[a-z]?(-real|-virtual)?", a) for a in mod.archs)
    assert mod.cuda_version >= 11000 and mod.TOPK_MAX_N >= 1024
    try:
        names = mod.devices()
    except sr.CudaError as e:  # no driver: a Python exception, not an abort
        assert "cudaGetDeviceCount" in str(e)
    else:
        assert isinstance(names, list)


@cuda_built
@pytest.mark.parametrize("n", [1, 31, 32, 33, 1000, 32 * 97 + 5, 100_000])
def test_epoch_chunk_order_is_a_bijection(n):
    mod = _backend.cuda_module()
    chunks, a, b = mod.epoch_chunk_order(n, 7, 3)
    assert chunks == -(-n // 32)
    t = np.arange(chunks, dtype=np.uint64)
    order = (np.uint64(a) * t + np.uint64(b)) % np.uint64(chunks)
    assert np.array_equal(np.sort(order), t)
    # Another epoch (or seed) visits the chunks in another order.
    if chunks > 2:
        assert mod.epoch_chunk_order(n, 7, 4) != (chunks, a, b)
        assert mod.epoch_chunk_order(n, 8, 3) != (chunks, a, b)


def biased_mf_dicts(factors=4, n=3, **changes):
    """The dicts of a small BiasedMF epoch (host arrays standing in for CuPy ones: fake_cupy.wrap); a change
    replaces an array or a setting by key (None removes it)."""
    arrays = {"users": np.zeros(n, np.int32), "items": np.zeros(n, np.int32), "values": np.ones(n, np.float32),
              "user_factors": np.zeros((2, factors), np.float32), "item_factors": np.zeros((2, factors), np.float32),
              "user_bias": np.zeros(2, np.float32), "item_bias": np.zeros(2, np.float32),
              "loss": np.zeros(1, np.float64)}
    hyper = {"factors": factors, "biased": True, "global_bias": 0.0, "learning_rate": 0.01, "regularization": 0.02,
             "bias_regularization": 0.02}
    for key, value in changes.items():
        table = hyper if key in hyper else arrays
        if value is None:
            del table[key]
        else:
            table[key] = value
    return {k: wrap(v) for k, v in arrays.items()}, hyper, {"seed": 0, "epoch": 0}


@cuda_built
def test_kernel_argument_errors_are_value_errors_not_aborts():
    mod = _backend.cuda_module()
    with pytest.raises(ValueError, match="n must be positive"):
        mod.topk_select(0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0)
    with pytest.raises(ValueError, match="exceeds the CUDA limit"):
        mod.topk_select(0, 1, 1, 1, 0, 0, 0, 0, mod.TOPK_MAX_N + 1, 0, 0, 0)
    with pytest.raises(ValueError, match="bad score shape"):
        mod.topk_select(0, 1, 5, 4, 0, 0, 0, 0, 3, 8, 8, 0)
    with pytest.raises(ValueError, match="factors must be positive"):
        mod.biased_mf_epoch(*biased_mf_dicts(factors=0))
    with pytest.raises(ValueError, match="negative"):
        mod.epoch_chunk_order(-1, 0, 0)


@cuda_built
def test_epoch_dicts_are_checked_as_the_cpu_bindings_check_them():
    """The CUDA epochs read the CPU bindings' dicts: a missing key, a wrong dtype, a non-contiguous array or a
    wrong size raises before anything reaches the driver (cuda/bindings.hpp device_data)."""
    mod = _backend.cuda_module()
    with pytest.raises(KeyError, match="item_factors"):
        mod.biased_mf_epoch(*biased_mf_dicts(item_factors=None))
    with pytest.raises(KeyError, match="learning_rate"):
        mod.biased_mf_epoch(*biased_mf_dicts(learning_rate=None))
    with pytest.raises(TypeError, match="'users' has dtype int64, expected int32"):
        mod.biased_mf_epoch(*biased_mf_dicts(users=np.zeros(3, np.int64)))
    with pytest.raises(TypeError, match="'item_factors' has dtype float16, expected float32"):
        mod.biased_mf_epoch(*biased_mf_dicts(item_factors=np.zeros((2, 4), np.float16)))
    with pytest.raises(ValueError, match="'items' has 2 elements, expected 3"):
        mod.biased_mf_epoch(*biased_mf_dicts(items=np.zeros(2, np.int32)))
    with pytest.raises(ValueError, match="'values' must be C-contiguous"):
        mod.biased_mf_epoch(*biased_mf_dicts(values=np.ones(6, np.float32)[::2]))
    with pytest.raises(ValueError, match="'user_factors' must be a matrix of 4 columns"):
        mod.biased_mf_epoch(*biased_mf_dicts(user_factors=np.zeros((4, 2), np.float32)))
    with pytest.raises(ValueError, match="'loss' has 2 elements, expected 1"):
        mod.biased_mf_epoch(*biased_mf_dicts(loss=np.zeros(2, np.float64)))
    with pytest.raises(TypeError, match="must be a CuPy array"):
        arrays, hyper, settings = biased_mf_dicts()
        mod.biased_mf_epoch({**arrays, "users": [0, 0, 0]}, hyper, settings)


@cuda_built
def test_runtime_failures_become_cuda_error():
    if _backend.cuda_devices():
        pytest.skip("a device is present: this checks the no-driver path")
    mod = _backend.cuda_module()
    with pytest.raises(sr.CudaError, match="cudaMemsetAsync"):  # the first runtime call fails without a driver
        mod.biased_mf_epoch(*biased_mf_dicts())
