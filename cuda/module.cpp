// socialrec._cuda: binds the plain C++ entry points of cuda/*.cu (this file is compiled by the host C++
// compiler, never by nvcc). Device pointers and streams cross the boundary as integers (CuPy's
// `ndarray.data.ptr`, `Stream.ptr`); python/socialrec/_gpu.py checks dtypes, shapes and contiguity first.
// Every CUDA failure becomes socialrec.CudaError (never an abort); bad sizes become ValueError.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>
#include <vector>

#include "error.hpp"
#include "host_steps.hpp"
#include "sgd.hpp"
#include "social.hpp"
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

    m.def("biased_mf_sgd_epoch",
          [](std::uintptr_t users, std::uintptr_t items, std::uintptr_t values, std::int64_t n,
             std::uintptr_t user_factors, std::uintptr_t item_factors, std::uintptr_t user_bias,
             std::uintptr_t item_bias, std::int32_t factors, bool float16, bool biased, float global_bias,
             float learning_rate, float regularization, float bias_regularization, std::uint64_t seed,
             std::int64_t epoch, std::uintptr_t loss, std::uintptr_t stream) {
              BiasedMFDeviceArgs a;
              a.users = ptr<const std::int32_t>(users);
              a.items = ptr<const std::int32_t>(items);
              a.values = ptr<const float>(values);
              a.n = n;
              a.user_factors = ptr<void>(user_factors);
              a.item_factors = ptr<void>(item_factors);
              a.user_bias = ptr<float>(user_bias);
              a.item_bias = ptr<float>(item_bias);
              a.factors = factors;
              a.storage = float16 ? Storage::float16 : Storage::float32;
              a.biased = biased;
              a.global_bias = global_bias;
              a.learning_rate = learning_rate;
              a.regularization = regularization;
              a.bias_regularization = bias_regularization;
              a.loss = ptr<double>(loss);
              biased_mf_sgd_epoch(a, seed, epoch, stream_of(stream));
          },
          py::arg("users"), py::arg("items"), py::arg("values"), py::arg("n"), py::arg("user_factors"),
          py::arg("item_factors"), py::arg("user_bias"), py::arg("item_bias"), py::arg("factors"),
          py::arg("float16"), py::arg("biased"), py::arg("global_bias"), py::arg("learning_rate"),
          py::arg("regularization"), py::arg("bias_regularization"), py::arg("seed"), py::arg("epoch"),
          py::arg("loss"), py::arg("stream"), py::call_guard<py::gil_scoped_release>(),
          "One BiasedMF epoch (batch-Hogwild SGD); asynchronous on `stream`, the loss lands in `loss`.");

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

    m.def("logistic_pair_epoch",
          [](std::uintptr_t a, std::uintptr_t b, std::uintptr_t values, std::int64_t n, std::uintptr_t A0,
             std::uintptr_t B0, float data_weight0, float penalty_weight0, float offset0, std::uintptr_t A1,
             std::uintptr_t B1, float data_weight1, float penalty_weight1, float offset1, std::int32_t n_sides,
             std::int32_t factors, bool float16, float learning_rate, float regularization, std::uint64_t pass,
             std::uint64_t seed, std::int64_t epoch, std::uintptr_t loss, std::uintptr_t stream) {
              LogisticPassArgs args;
              args.a = ptr<const std::int32_t>(a);
              args.b = ptr<const std::int32_t>(b);
              args.values = ptr<const float>(values);
              args.n = n;
              args.sides[0] = LogisticSide{ptr<void>(A0), ptr<void>(B0), data_weight0, penalty_weight0, offset0};
              args.sides[1] = LogisticSide{ptr<void>(A1), ptr<void>(B1), data_weight1, penalty_weight1, offset1};
              args.n_sides = n_sides;
              args.factors = factors;
              args.storage = float16 ? Storage::float16 : Storage::float32;
              args.learning_rate = learning_rate;
              args.regularization = regularization;
              args.pass = pass;
              args.loss = ptr<double>(loss);
              logistic_pair_epoch(args, seed, epoch, stream_of(stream));
          },
          py::arg("a"), py::arg("b"), py::arg("values"), py::arg("n"), py::arg("A0"), py::arg("B0"),
          py::arg("data_weight0"), py::arg("penalty_weight0"), py::arg("offset0"), py::arg("A1"),
          py::arg("B1"), py::arg("data_weight1"), py::arg("penalty_weight1"), py::arg("offset1"), py::arg("n_sides"), py::arg("factors"), py::arg("float16"),
          py::arg("learning_rate"), py::arg("regularization"), py::arg("pass_id"), py::arg("seed"),
          py::arg("epoch"), py::arg("loss"), py::arg("stream"), py::call_guard<py::gil_scoped_release>(),
          "One logistic pair pass (SoRec, SocialMF, TrustMF): one (or two, n_sides=2) steps per (a, b, c) record; "
          "asynchronous on `stream`, the pass's summed terms land in `loss`.");

    m.def("soreg_edge_epoch",
          [](std::uintptr_t u, std::uintptr_t f, std::uintptr_t sim, std::int64_t n, std::uintptr_t user_factors,
             std::int32_t factors, bool float16, float learning_rate, float social_regularization, std::uint64_t pass,
             std::uint64_t seed, std::int64_t epoch, std::uintptr_t loss, std::uintptr_t stream) {
              EdgePassArgs args;
              args.a = ptr<const std::int32_t>(u);
              args.b = ptr<const std::int32_t>(f);
              args.values = ptr<const float>(sim);
              args.n = n;
              args.user_factors = ptr<void>(user_factors);
              args.factors = factors;
              args.storage = float16 ? Storage::float16 : Storage::float32;
              args.learning_rate = learning_rate;
              args.social_regularization = social_regularization;
              args.pass = pass;
              args.loss = ptr<double>(loss);
              soreg_edge_epoch(args, seed, epoch, stream_of(stream));
          },
          py::arg("u"), py::arg("f"), py::arg("sim"), py::arg("n"), py::arg("user_factors"), py::arg("factors"),
          py::arg("float16"), py::arg("learning_rate"), py::arg("social_regularization"), py::arg("pass_id"),
          py::arg("seed"), py::arg("epoch"), py::arg("loss"), py::arg("stream"),
          py::call_guard<py::gil_scoped_release>(), "One SoReg SR2 edge pass on (u, f, Sim) records.");

    m.def("mean_pull_epoch",
          [](std::uintptr_t users, std::int64_t n, std::uintptr_t offsets, std::uintptr_t neighbours,
             std::uintptr_t weights, std::uintptr_t user_factors, std::int32_t factors, bool float16,
             float learning_rate, float weight, std::uint64_t pass, std::uint64_t seed, std::int64_t epoch,
             std::uintptr_t loss, std::uintptr_t stream) {
              MeanPullArgs args;
              args.users = ptr<const std::int32_t>(users);
              args.n = n;
              args.offsets = ptr<const std::int64_t>(offsets);
              args.neighbours = ptr<const std::int32_t>(neighbours);
              args.weights = ptr<const float>(weights);
              args.user_factors = ptr<void>(user_factors);
              args.factors = factors;
              args.storage = float16 ? Storage::float16 : Storage::float32;
              args.learning_rate = learning_rate;
              args.weight = weight;
              args.pass = pass;
              args.loss = ptr<double>(loss);
              mean_pull_epoch(args, seed, epoch, stream_of(stream));
          },
          py::arg("users"), py::arg("n"), py::arg("offsets"), py::arg("neighbours"), py::arg("weights"),
          py::arg("user_factors"), py::arg("factors"), py::arg("float16"), py::arg("learning_rate"),
          py::arg("weight"), py::arg("pass_id"), py::arg("seed"), py::arg("epoch"), py::arg("loss"),
          py::arg("stream"), py::call_guard<py::gil_scoped_release>(),
          "One mean-pull user pass (SocialMF's user pass, SoReg SR1).");

    m.attr("SVDPP_MAX_FACTORS") = kSVDppMaxFactors;
    m.def("svdpp_epoch",
          [](std::uintptr_t users, std::int64_t n, std::uintptr_t offsets, std::uintptr_t items,
             std::uintptr_t values, std::uintptr_t user_factors, std::uintptr_t item_factors,
             std::uintptr_t implicit_factors, std::uintptr_t user_bias, std::uintptr_t item_bias,
             std::int32_t factors, bool float16, float global_bias, float learning_rate, float regularization,
             float bias_regularization, std::uint64_t pass, std::uint64_t seed, std::int64_t epoch,
             std::uintptr_t loss, std::uintptr_t stream, std::uintptr_t trustee_factors,
             std::uintptr_t trust_offsets, std::uintptr_t trustees, std::uintptr_t item_weight,
             std::uintptr_t trustee_weight) {
              SVDppPassArgs args;
              args.trustee_factors = ptr<void>(trustee_factors);
              args.trust_offsets = ptr<const std::int64_t>(trust_offsets);
              args.trustees = ptr<const std::int32_t>(trustees);
              args.item_weight = ptr<const float>(item_weight);
              args.trustee_weight = ptr<const float>(trustee_weight);
              args.users = ptr<const std::int32_t>(users);
              args.n = n;
              args.offsets = ptr<const std::int64_t>(offsets);
              args.items = ptr<const std::int32_t>(items);
              args.values = ptr<const float>(values);
              args.user_factors = ptr<void>(user_factors);
              args.item_factors = ptr<void>(item_factors);
              args.implicit_factors = ptr<void>(implicit_factors);
              args.user_bias = ptr<float>(user_bias);
              args.item_bias = ptr<float>(item_bias);
              args.factors = factors;
              args.storage = float16 ? Storage::float16 : Storage::float32;
              args.global_bias = global_bias;
              args.learning_rate = learning_rate;
              args.regularization = regularization;
              args.bias_regularization = bias_regularization;
              args.pass = pass;
              args.loss = ptr<double>(loss);
              svdpp_epoch(args, seed, epoch, stream_of(stream));
          },
          py::arg("users"), py::arg("n"), py::arg("offsets"), py::arg("items"), py::arg("values"),
          py::arg("user_factors"), py::arg("item_factors"), py::arg("implicit_factors"), py::arg("user_bias"),
          py::arg("item_bias"), py::arg("factors"), py::arg("float16"), py::arg("global_bias"),
          py::arg("learning_rate"), py::arg("regularization"), py::arg("bias_regularization"), py::arg("pass_id"),
          py::arg("seed"), py::arg("epoch"), py::arg("loss"), py::arg("stream"), py::arg("trustee_factors") = 0,
          py::arg("trust_offsets") = 0, py::arg("trustees") = 0, py::arg("item_weight") = 0,
          py::arg("trustee_weight") = 0, py::call_guard<py::gil_scoped_release>(),
          "One SVD++ user-grouped rating pass (factors <= SVDPP_MAX_FACTORS); with the trust pointers, "
          "TrustSVD's rating pass.");

    m.def("trust_link_epoch",
          [](std::uintptr_t trusters, std::int64_t n, std::uintptr_t offsets, std::uintptr_t trustees,
             std::uintptr_t values, std::uintptr_t trustee_weight, std::uintptr_t user_factors,
             std::uintptr_t trustee_factors, std::int32_t factors, bool float16, float learning_rate,
             float regularization, float social_regularization, std::uint64_t pass, std::uint64_t seed,
             std::int64_t epoch, std::uintptr_t loss, std::uintptr_t stream) {
              TrustLinkPassArgs args;
              args.trusters = ptr<const std::int32_t>(trusters);
              args.n = n;
              args.offsets = ptr<const std::int64_t>(offsets);
              args.trustees = ptr<const std::int32_t>(trustees);
              args.values = ptr<const float>(values);
              args.trustee_weight = ptr<const float>(trustee_weight);
              args.user_factors = ptr<void>(user_factors);
              args.trustee_factors = ptr<void>(trustee_factors);
              args.factors = factors;
              args.storage = float16 ? Storage::float16 : Storage::float32;
              args.learning_rate = learning_rate;
              args.regularization = regularization;
              args.social_regularization = social_regularization;
              args.pass = pass;
              args.loss = ptr<double>(loss);
              trust_link_epoch(args, seed, epoch, stream_of(stream));
          },
          py::arg("trusters"), py::arg("n"), py::arg("offsets"), py::arg("trustees"), py::arg("values"),
          py::arg("trustee_weight"), py::arg("user_factors"), py::arg("trustee_factors"), py::arg("factors"),
          py::arg("float16"), py::arg("learning_rate"), py::arg("regularization"), py::arg("social_regularization"),
          py::arg("pass_id"), py::arg("seed"), py::arg("epoch"), py::arg("loss"), py::arg("stream"),
          py::call_guard<py::gil_scoped_release>(), "One TrustSVD link pass (grouped by truster).");

    m.def("rste_epoch",
          [](std::uintptr_t users, std::int64_t n, std::uintptr_t offsets, std::uintptr_t items,
             std::uintptr_t values, std::uintptr_t trust_offsets, std::uintptr_t trustees,
             std::uintptr_t trust_weights, std::uintptr_t user_factors, std::uintptr_t item_factors,
             std::int32_t factors, bool float16, float global_bias, float alpha, float learning_rate,
             float regularization, std::uint64_t pass, std::uint64_t seed, std::int64_t epoch, std::uintptr_t loss,
             std::uintptr_t stream) {
              RSTEPassArgs args;
              args.users = ptr<const std::int32_t>(users);
              args.n = n;
              args.offsets = ptr<const std::int64_t>(offsets);
              args.items = ptr<const std::int32_t>(items);
              args.values = ptr<const float>(values);
              args.trust_offsets = ptr<const std::int64_t>(trust_offsets);
              args.trustees = ptr<const std::int32_t>(trustees);
              args.trust_weights = ptr<const float>(trust_weights);
              args.user_factors = ptr<void>(user_factors);
              args.item_factors = ptr<void>(item_factors);
              args.factors = factors;
              args.storage = float16 ? Storage::float16 : Storage::float32;
              args.global_bias = global_bias;
              args.alpha = alpha;
              args.learning_rate = learning_rate;
              args.regularization = regularization;
              args.pass = pass;
              args.loss = ptr<double>(loss);
              rste_epoch(args, seed, epoch, stream_of(stream));
          },
          py::arg("users"), py::arg("n"), py::arg("offsets"), py::arg("items"), py::arg("values"),
          py::arg("trust_offsets"), py::arg("trustees"), py::arg("trust_weights"), py::arg("user_factors"),
          py::arg("item_factors"), py::arg("factors"), py::arg("float16"), py::arg("global_bias"), py::arg("alpha"),
          py::arg("learning_rate"), py::arg("regularization"), py::arg("pass_id"), py::arg("seed"), py::arg("epoch"),
          py::arg("loss"), py::arg("stream"), py::call_guard<py::gil_scoped_release>(),
          "One RSTE user-grouped pass (factors <= SVDPP_MAX_FACTORS).");

    m.def("ranking_epoch",
          [](std::uintptr_t indptr, std::uintptr_t indices, std::uintptr_t pool_users, std::uintptr_t pool_items,
             std::int64_t n_pool, std::int32_t n_items, std::uintptr_t social_indptr, std::uintptr_t social_items,
             std::uintptr_t social_counts, std::int64_t n_samples, std::uintptr_t user_factors,
             std::uintptr_t item_factors, std::uintptr_t item_bias, std::int32_t factors, bool float16,
             float learning_rate, float regularization, float bias_regularization, std::uint64_t seed,
             std::int64_t epoch, std::uintptr_t loss, std::uintptr_t stream, float social_weight) {
              RankingPassArgs args;
              args.indptr = ptr<const std::int64_t>(indptr);
              args.indices = ptr<const std::int32_t>(indices);
              args.pool_users = ptr<const std::int32_t>(pool_users);
              args.pool_items = ptr<const std::int32_t>(pool_items);
              args.n_pool = n_pool;
              args.n_items = n_items;
              args.social_indptr = ptr<const std::int64_t>(social_indptr);
              args.social_items = ptr<const std::int32_t>(social_items);
              args.social_counts = ptr<const std::int32_t>(social_counts);
              args.n_samples = n_samples;
              args.user_factors = ptr<void>(user_factors);
              args.item_factors = ptr<void>(item_factors);
              args.item_bias = ptr<float>(item_bias);
              args.factors = factors;
              args.storage = float16 ? Storage::float16 : Storage::float32;
              args.learning_rate = learning_rate;
              args.regularization = regularization;
              args.bias_regularization = bias_regularization;
              args.social_weight = social_weight;
              args.loss = ptr<double>(loss);
              ranking_epoch(args, seed, epoch, stream_of(stream));
          },
          py::arg("indptr"), py::arg("indices"), py::arg("pool_users"), py::arg("pool_items"), py::arg("n_pool"),
          py::arg("n_items"), py::arg("social_indptr"), py::arg("social_items"), py::arg("social_counts"),
          py::arg("n_samples"), py::arg("user_factors"), py::arg("item_factors"), py::arg("item_bias"),
          py::arg("factors"), py::arg("float16"), py::arg("learning_rate"), py::arg("regularization"),
          py::arg("bias_regularization"), py::arg("seed"), py::arg("epoch"), py::arg("loss"), py::arg("stream"),
          py::arg("social_weight") = 1.0f, py::call_guard<py::gil_scoped_release>(),
          "One BPR (social pointers 0) or SBPR sampled pass of n_samples draws made on the device.");

    m.def("sample_key", &sample_key, py::arg("seed"), py::arg("epoch"),
          "The stream key of an epoch's device samples (host-side; see host_draw_samples).");

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
}
