// socialrec._cuda: the module, its device queries and the driver's host-side entry points (this file is
// compiled by the host C++ compiler, never by nvcc). Each model's epoch is bound by its own
// cuda/bind_<model>.cpp (self-registering; cuda/bindings.hpp reads the CPU bindings' dicts); ALS and the
// metrics by cuda/bind_als.cpp. Streams and the low-level pointers below cross as integers (CuPy's
// `ndarray.data.ptr`, `Stream.ptr`).
// Every CUDA failure becomes socialrec.CudaError (never an abort); bad sizes become ValueError.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "error.hpp"
#include "host_steps.hpp"
#include "sgd.hpp"
#include "topk.hpp"

namespace py = pybind11;
using namespace socialrec::cuda;

namespace socialrec::cuda {
void bind_als_metrics(py::module_& m);  // cuda/bind_als.cpp: ALS / SocialALS, ranking metrics, host checks
}

namespace {

template <class T>
T* ptr(std::uintptr_t address) {
    return reinterpret_cast<T*>(address);
}

cudaStream_t stream_of(std::uintptr_t address) { return reinterpret_cast<cudaStream_t>(address); }

// Number of devices; 0 when the runtime reports none. A missing or too old driver raises CudaError, so that
// socialrec._backend can tell the user why (it warns once and falls back to the CPU).
int device_count() {
    int n = 0;
    const cudaError_t status = cudaGetDeviceCount(&n);
    if (status == cudaErrorNoDevice) {
        cudaGetLastError();
        return 0;
    }
    check(status, "cudaGetDeviceCount");
    return n;
}

py::list device_info() {
    py::list out;
    const int n = device_count();
    for (int i = 0; i < n; ++i) {
        cudaDeviceProp prop{};
        check(cudaGetDeviceProperties(&prop, i), "cudaGetDeviceProperties");
        py::dict d;
        d["index"] = i;
        d["name"] = std::string(prop.name);
        d["compute_capability"] = py::make_tuple(prop.major, prop.minor);
        d["memory_bytes"] = static_cast<std::uint64_t>(prop.totalGlobalMem);
        d["multiprocessors"] = prop.multiProcessorCount;
        out.append(d);
    }
    return out;
}

std::vector<std::string> split_archs(const std::string& list) {
    std::vector<std::string> out;
    std::string item;
    for (char c : list + ";") {
        if (c == ';' || c == ' ') {
            if (!item.empty()) out.push_back(item);
            item.clear();
        } else {
            item += c;
        }
    }
    return out;
}

}  // namespace

PYBIND11_MODULE(_cuda, m) {
    m.doc() = "socialrec CUDA kernels (raw device pointers; use the models' device='cuda', not this module)";

    // socialrec.CudaError is a Python class: fetch it once; the handle is kept for the process lifetime.
    static py::handle cuda_error = py::object(py::module_::import("socialrec._errors").attr("CudaError")).release();
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const CudaError& e) {
            PyErr_SetString(cuda_error.ptr(), e.what());
        }
    });

    // CMAKE_CUDA_ARCHITECTURES as built, e.g. ["75-real", ..., "90"] ("90": sm_90 code + compute_90 PTX).
    m.attr("archs") = split_archs(SOCIALREC_CUDA_ARCHS);
    m.attr("cuda_version") = CUDART_VERSION;  // the toolkit _cuda was compiled with (e.g. 13000)
    m.attr("TOPK_MAX_N") = kTopKMaxN;

    m.def("device_count", &device_count, "Number of CUDA devices (CudaError when the driver is missing).");
    m.def("device_info", &device_info, "One dict per device: index, name, compute_capability, memory_bytes, "
                                       "multiprocessors.");
    m.def("devices", [] {
        std::vector<std::string> names;
        for (auto d : device_info()) names.push_back(d["name"].cast<std::string>());
        return names;
    }, "Names of the CUDA devices ([] when none; CudaError when the driver is missing or too old).");
    m.def("driver_version", [] {
        int v = 0;
        check(cudaDriverGetVersion(&v), "cudaDriverGetVersion");
        return v;
    }, "The driver's CUDA version (0 when no driver is installed).");
    m.def("set_device", [](int device) { check(cudaSetDevice(device), "cudaSetDevice"); }, py::arg("device"));
    m.def("check_last_error", [] { check(cudaGetLastError(), "a previous kernel"); },
          "Raise CudaError for a pending asynchronous error.");

    m.def("shuffle_keys",
          [](std::uintptr_t keys, std::int64_t n, std::uint64_t seed, std::uintptr_t stream) {
              shuffle_keys(ptr<std::uint64_t>(keys), n, seed, stream_of(stream));
          },
          py::arg("keys"), py::arg("n"), py::arg("seed"), py::arg("stream"),
          py::call_guard<py::gil_scoped_release>(), "uint64 sort keys of the once-per-fit record shuffle.");

    m.def("epoch_chunk_order",
          [](std::int64_t n, std::uint64_t seed, std::int64_t epoch, std::uint64_t pass) {
              const ChunkOrder o = epoch_chunk_order(n, seed, epoch, pass);
              return py::make_tuple(o.chunks, o.a, o.b);
          },
          py::arg("n"), py::arg("seed"), py::arg("epoch"), py::arg("pass_id") = 0,
          "(chunks, a, b): chunk t of the epoch is (a * t + b) % chunks (host-side; no device needed).");

    bind_host_steps(m);

    m.def("topk_select",
          [](std::uintptr_t scores, std::int64_t rows, std::int64_t cols, std::int64_t ld, std::uintptr_t row_ids,
             std::uintptr_t excl_indptr, std::uintptr_t excl_indices, std::uintptr_t candidates, std::int32_t n,
             std::uintptr_t out_ids, std::uintptr_t out_scores, std::uintptr_t stream) {
              TopKArgs a;
              a.scores = ptr<float>(scores);
              a.rows = rows;
              a.cols = cols;
              a.ld = ld;
              a.row_ids = ptr<const std::int64_t>(row_ids);
              a.excl_indptr = ptr<const std::int64_t>(excl_indptr);
              a.excl_indices = ptr<const std::int32_t>(excl_indices);
              a.candidates = ptr<const std::int64_t>(candidates);
              a.n = n;
              a.out_ids = ptr<std::int64_t>(out_ids);
              a.out_scores = ptr<float>(out_scores);
              topk_select(a, stream_of(stream));
          },
          py::arg("scores"), py::arg("rows"), py::arg("cols"), py::arg("ld"), py::arg("row_ids"),
          py::arg("excl_indptr"), py::arg("excl_indices"), py::arg("candidates"), py::arg("n"), py::arg("out_ids"),
          py::arg("out_scores"), py::arg("stream"), py::call_guard<py::gil_scoped_release>(),
          "Row-wise top-n with the seen-item filter (0 for an absent pointer); asynchronous on `stream`.");

    bind_als_metrics(m);
    for (auto fn : bind::registered_bindings()) fn(m);  // cuda/bind_<model>.cpp
}
