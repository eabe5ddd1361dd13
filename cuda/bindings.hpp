// Helpers shared by the CUDA binding files (cuda/bind_<model>.cpp; host compiler only, nvcc never sees this):
// the same convention as the CPU bindings (cpp/src/bindings.hpp). An epoch entry point takes the dicts the
// model's `_run_epoch` passes to socialrec._core (`arrays` = {**parameters_, **state}, `hyper`, `settings`)
// plus the stream, and reads each field by its dict key into the pass's Args struct, whose field has the
// same name. Arrays are CuPy arrays (any object with `.data.ptr`, `.dtype`, `.size` and
// `.flags.c_contiguous`): exact dtype, contiguity and size are checked here, as `inplace_data` checks NumPy
// arrays, so that a mismatch raises instead of handing a kernel a wrong pointer.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "error.hpp"
#include "sgd.hpp"

namespace py = pybind11;

namespace socialrec::cuda::bind {

// The device address of arrays[key] after checking it: dtype `dtype` (a NumPy name, e.g. "float32"),
// C-contiguous, and `size` elements when size >= 0.
void* device_data(const py::dict& arrays, const char* key, const char* dtype, std::int64_t size = -1);

template <class T>
const char* dtype_name();
template <>
inline const char* dtype_name<float>() { return "float32"; }
template <>
inline const char* dtype_name<double>() { return "float64"; }
template <>
inline const char* dtype_name<std::int32_t>() { return "int32"; }
template <>
inline const char* dtype_name<std::int64_t>() { return "int64"; }

// A typed device pointer to arrays[key] (see device_data).
template <class T>
T* device_ptr(const py::dict& arrays, const char* key, std::int64_t size = -1) {
    return static_cast<T*>(device_data(arrays, key, dtype_name<std::remove_cv_t<T>>(), size));
}

// Storage of the factor matrices: float16 when arrays[key] is float16, else float32.
Storage storage_of(const py::dict& arrays, const char* key = "user_factors");

// A factor matrix (rows x factors) in `storage`.
inline void* factor_ptr(const py::dict& arrays, const char* key, Storage storage, std::int64_t size) {
    return device_data(arrays, key, storage == Storage::float16 ? "float16" : "float32", size);
}

// Every arrays["*_factors"] is a 2-D matrix of hyper["factors"] columns (the kernels index rows by k).
void check_factor_shapes(const py::dict& arrays, const py::dict& hyper);

// Number of elements of arrays[key].
std::int64_t size_of(const py::dict& arrays, const char* key);

// Rows of the factor matrix arrays[key] (a rows x factors matrix once check_factor_shapes has run): the bound of
// the ids that index it.
std::int64_t rows_of(const py::dict& arrays, const char* key);

// What the kernels index without checking (issue 22 item 5, as cpp/src/bind_checks.hpp for the CPU): checked once
// per epoch call, before any launch, by the array's own reductions (CuPy's min/max on the current stream; NumPy's
// for the host replays), so that an out-of-range id or a backward offset raises instead of reaching the device.
// Raises IndexError unless every entry of arrays[key] lies in [0, bound) (an empty array passes).
void check_ids(const py::dict& arrays, const char* key, std::int64_t bound);
// The smallest and largest entry of the non-empty integer array arrays[key] (the reductions check_ids runs).
std::pair<std::int64_t, std::int64_t> extremes(const py::dict& arrays, const char* key);
// Raises ValueError unless the factor matrices arrays[keys...] have the same number of rows (matrices that the
// same ids index, as TrustMF's two models' user and item sides); returns it.
std::int64_t same_rows(const py::dict& arrays, std::initializer_list<const char*> keys);
// Raises ValueError unless the rows + 1 entries of arrays[key] start at 0, never decrease and end at `end`.
void check_offsets(const py::dict& arrays, const char* key, std::int64_t rows, std::int64_t end);

// arrays[key] as int32 ids of `size` entries (size < 0: any), each in [0, bound).
inline const std::int32_t* device_ids(const py::dict& arrays, const char* key, std::int64_t size, std::int64_t bound) {
    const auto* ids = static_cast<const std::int32_t*>(device_data(arrays, key, "int32", size));
    check_ids(arrays, key, bound);
    return ids;
}

// arrays[key] as the int64 offsets of `rows` rows into `end` members (check_offsets).
inline const std::int64_t* device_offsets(const py::dict& arrays, const char* key, std::int64_t rows,
                                          std::int64_t end) {
    const auto* offsets = static_cast<const std::int64_t*>(device_data(arrays, key, "int64", rows + 1));
    check_offsets(arrays, key, rows, end);
    return offsets;
}

template <class T>
T scalar(const py::dict& values, const char* key) {
    if (!values.contains(key)) throw py::key_error(std::string("missing setting '") + key + "'");
    return values[key].cast<T>();
}

// SOCIALREC_READ(dict, obj, f1, f2, ...): obj.f = scalar<type of obj.f>(dict, "f") for each listed field, and
// SOCIALREC_READ_FACTORS(arrays, obj, f1, ...): obj.f = the factor matrix arrays["f"] in obj.storage; at most 8
// fields a call. A field has the name of its dict key by construction.
#define SOCIALREC_SCALAR(d, o, f) (o).f = ::socialrec::cuda::bind::scalar<std::remove_reference_t<decltype((o).f)>>(d, #f);
#define SOCIALREC_FACTOR(d, o, f) (o).f = ::socialrec::cuda::bind::factor_ptr(d, #f, (o).storage, -1);
#define SOCIALREC_EACH_1(M, d, o, f) M(d, o, f)
#define SOCIALREC_EACH_2(M, d, o, f, ...) M(d, o, f) SOCIALREC_EACH_1(M, d, o, __VA_ARGS__)
#define SOCIALREC_EACH_3(M, d, o, f, ...) M(d, o, f) SOCIALREC_EACH_2(M, d, o, __VA_ARGS__)
#define SOCIALREC_EACH_4(M, d, o, f, ...) M(d, o, f) SOCIALREC_EACH_3(M, d, o, __VA_ARGS__)
#define SOCIALREC_EACH_5(M, d, o, f, ...) M(d, o, f) SOCIALREC_EACH_4(M, d, o, __VA_ARGS__)
#define SOCIALREC_EACH_6(M, d, o, f, ...) M(d, o, f) SOCIALREC_EACH_5(M, d, o, __VA_ARGS__)
#define SOCIALREC_EACH_7(M, d, o, f, ...) M(d, o, f) SOCIALREC_EACH_6(M, d, o, __VA_ARGS__)
#define SOCIALREC_EACH_8(M, d, o, f, ...) M(d, o, f) SOCIALREC_EACH_7(M, d, o, __VA_ARGS__)
#define SOCIALREC_EACH_PICK(_1, _2, _3, _4, _5, _6, _7, _8, NAME, ...) NAME
#define SOCIALREC_EACH(M, d, o, ...)                                                                              \
    SOCIALREC_EACH_PICK(__VA_ARGS__, SOCIALREC_EACH_8, SOCIALREC_EACH_7, SOCIALREC_EACH_6, SOCIALREC_EACH_5,     \
                        SOCIALREC_EACH_4, SOCIALREC_EACH_3, SOCIALREC_EACH_2, SOCIALREC_EACH_1)(M, d, o, __VA_ARGS__)
#define SOCIALREC_READ(d, o, ...) SOCIALREC_EACH(SOCIALREC_SCALAR, d, o, __VA_ARGS__)
#define SOCIALREC_READ_FACTORS(d, o, ...) SOCIALREC_EACH(SOCIALREC_FACTOR, d, o, __VA_ARGS__)

// The loss slots of an epoch: arrays["loss"], float64 with one slot per pass.
double* loss_slots(const py::dict& arrays, std::int64_t passes);

// The epoch's seed, number and stream (the CPU settings dict {seed, epoch, ...} and CuPy's stream handle).
struct Epoch {
    std::uint64_t seed = 0;
    std::int64_t epoch = 0;
    cudaStream_t stream = nullptr;

    // Runs pass(args) with its loss in `slot` (a pass entry point of cuda/models/*.hpp).
    template <class Args>
    void run(void (*pass)(const Args&, std::uint64_t, std::int64_t, cudaStream_t), Args args, double* slot) const {
        args.loss = slot;
        pass(args, seed, epoch, stream);
    }
};

// arrays[key] as a nested dict (a pass's records or CSR, as the CPU's "link_grid").
py::dict nested(const py::dict& arrays, const char* key);

// (a, b, value) records of an ordered pass: the dict {a, b, values} (int32, int32, float32; models/device.py
// `records`), copied into the pass's fields of the same names; a indexes `a_rows` rows, b `b_rows`.
template <class PassArgs>
void read_records(const py::dict& records, PassArgs& pass, std::int64_t a_rows, std::int64_t b_rows) {
    pass.n = size_of(records, "values");
    pass.a = device_ids(records, "a", pass.n, a_rows);
    pass.b = device_ids(records, "b", pass.n, b_rows);
    pass.values = device_ptr<const float>(records, "values", pass.n);
}

// The owners of a per-user pass and their CSR offsets: {users, offsets, ...} into the pass's fields of the same
// names, for `n_users` users (the offsets are indexed by user id); returns the number of members (entries of
// `members`).
template <class PassArgs>
std::int64_t read_owners(const py::dict& d, PassArgs& pass, const char* members, std::int64_t n_users) {
    pass.n = size_of(d, "users");
    pass.users = device_ids(d, "users", pass.n, n_users);
    const std::int64_t n_members = size_of(d, members);
    pass.offsets = device_offsets(d, "offsets", n_users, n_members);
    return n_members;
}

// A mean-pull pass's users and their weighted neighbours: the dict {users, offsets, neighbours, weights}
// (models/device.py `mean_pull_state`) into the pass's fields of the same names; n_users rows of U.
template <class PassArgs>
void read_user_list(const py::dict& state, PassArgs& pass, std::int64_t n_users) {
    const std::int64_t edges = read_owners(state, pass, "neighbours", n_users);
    pass.neighbours = device_ids(state, "neighbours", edges, n_users);
    pass.weights = device_ptr<const float>(state, "weights", edges);
}

// A user-grouped pass's groups: {users, offsets, items, values} (models/device.py `user_groups`) into the
// pass's fields of the same names; n_users x n_items ratings.
template <class PassArgs>
void read_groups(const py::dict& groups, PassArgs& pass, std::int64_t n_users, std::int64_t n_items) {
    const std::int64_t ratings = read_owners(groups, pass, "values", n_users);
    pass.items = device_ids(groups, "items", ratings, n_items);
    pass.values = device_ptr<const float>(groups, "values", ratings);
}

// Binding files register themselves (no central list to edit): `const Registrar <file>_registrar{[](py::module_& m)
// {...}};` in an unnamed namespace. The name must be unique to the file, and so must every other name in its
// unnamed namespace: the unity build (CMakeLists.txt, SOCIALREC_UNITY) compiles several binding files as one
// translation unit.
using RegisterFn = std::function<void(py::module_&)>;
std::vector<RegisterFn>& registered_bindings();
struct Registrar {
    explicit Registrar(RegisterFn fn) { registered_bindings().push_back(fn); }
};

// Waits for `stream` and returns the sum of the `passes` float64 loss slots at `loss` (device memory; host
// memory with the host executor).
double read_loss(const double* loss, std::int64_t passes, cudaStream_t stream, Executor executor);

// settings["executor"]: "device" (the default), "host", "host_interleaved" or "host_warp" (sgd.hpp Executor: the
// passes on host memory).
Executor executor_of(const py::dict& settings);

// One pass of an epoch bound to its Args: pass(at, slot) launches it on at's stream with its loss in *slot.
using BoundPass = std::function<void(const Epoch&, double*)>;

// Binds `args` to `pass` (a pass entry point of cuda/models/*.hpp).
template <class Args>
BoundPass bind_pass(void (*pass)(const Args&, std::uint64_t, std::int64_t, cudaStream_t), const Args& args) {
    return [pass, args](const Epoch& at, double* slot) { at.run(pass, args, slot); };
}

// An epoch's passes in the order they run; pass p writes its summed terms to loss slot p.
using EpochPlan = std::vector<BoundPass>;

// The fields a pass over (a, b, value) records arrays[key] shares (read_records): the records, whose a and b
// index the rows of the factor matrices arrays[a_rows] and arrays[b_rows], factors, learning_rate, the factors'
// storage and the pass id. The caller reads the pass's own fields.
template <class PassArgs>
PassArgs records_pass(const py::dict& arrays, const py::dict& hyper, const char* key, std::uint64_t pass,
                      const char* a_rows, const char* b_rows) {
    PassArgs a;
    read_records(nested(arrays, key), a, rows_of(arrays, a_rows), rows_of(arrays, b_rows));
    SOCIALREC_READ(hyper, a, factors, learning_rate);
    a.storage = storage_of(arrays);
    a.pass = pass;
    return a;
}

// Registers `name(arrays, hyper, settings, stream=0) -> loss`: `read` plans the model's `passes` passes from
// the dicts (with the GIL); they then run in order on the stream without the GIL, pass p writing its summed
// terms to loss[p] (arrays["loss"], float64); the binding waits for the stream and returns the slots' sum,
// as the CPU `<model>_epoch` returns the epoch loss. With settings["executor"] = "host" the same plan runs on
// host memory (sgd.hpp Executor): the fake device of the tests.
inline void def_cuda_epoch(py::module_& m, const char* name, std::int64_t passes,
                           EpochPlan (*read)(const py::dict&, const py::dict&), const char* doc) {
    m.def(
        name,
        [passes, read](const py::dict& arrays, const py::dict& hyper, const py::dict& settings,
                       std::uintptr_t stream) {
            double* loss = loss_slots(arrays, passes);
            check_factor_shapes(arrays, hyper);
            const EpochPlan plan = read(arrays, hyper);
            if (static_cast<std::int64_t>(plan.size()) != passes)
                throw std::logic_error("an epoch plan has the wrong number of passes");
            const Epoch e{scalar<std::uint64_t>(settings, "seed"), scalar<std::int64_t>(settings, "epoch"),
                          reinterpret_cast<cudaStream_t>(stream)};
            const Executor executor = executor_of(settings);
            py::gil_scoped_release release;
            const ExecutorScope scope(executor);
            for (std::size_t p = 0; p < plan.size(); ++p) plan[p](e, loss + p);
            return read_loss(loss, passes, e.stream, executor);
        },
        py::arg("arrays"), py::arg("hyper"), py::arg("settings"), py::arg("stream") = 0, doc);
}

// An epoch entry point registered by its binding file in one declaration,
// `const EpochBinding <model>_binding{name, passes, &read_model, doc};` (def_cuda_epoch when the module loads;
// a name unique to the file, as a Registrar's is).
struct EpochBinding {
    EpochBinding(const char* name, std::int64_t passes, EpochPlan (*read)(const py::dict&, const py::dict&),
                 const char* doc) {
        registered_bindings().push_back([=](py::module_& m) { def_cuda_epoch(m, name, passes, read, doc); });
    }
};

}  // namespace socialrec::cuda::bind
