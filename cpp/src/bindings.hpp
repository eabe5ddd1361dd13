// Helpers shared by the binding files: typed, validated views of NumPy arrays, GIL release with Ctrl-C
// support, and the kernel table chosen at import.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "socialrec/kernel_table.hpp"
#include "socialrec/sampling.hpp"
#include "socialrec/types.hpp"

namespace py = pybind11;

namespace socialrec::bind {

// The kernel variant in use (set once at import by module.cpp).
const KernelTable& kernels();

// A parameter array that a kernel updates in place: exact dtype, C-contiguous and writeable, so that a
// mismatch raises instead of silently updating a converted copy.
template <class T>
T* inplace_data(const py::dict& arrays, const char* key) {
    if (!arrays.contains(key)) throw py::key_error(std::string("missing parameter array '") + key + "'");
    py::object obj = arrays[key];
    if (!py::isinstance<py::array>(obj)) throw py::type_error(std::string("'") + key + "' must be a NumPy array");
    auto array = obj.cast<py::array>();
    if (!array.dtype().equal(py::dtype::of<T>()))
        throw py::type_error(std::string("'") + key + "' has dtype " + std::string(py::str(array.dtype())) +
                             ", expected " + std::string(py::str(py::dtype::of<T>())));
    if (!(array.flags() & py::array::c_style)) throw py::value_error(std::string("'") + key + "' must be C-contiguous");
    if (!array.writeable()) throw py::value_error(std::string("'") + key + "' must be writeable");
    return static_cast<T*>(array.mutable_data());
}

// A read-only input array the kernel keeps a raw pointer to (offsets, weights, index lists): exact dtype and
// C-contiguous, so that no converted temporary is handed over; `size` (when >= 0) is checked too.
template <class T>
const T* input_data(const py::dict& arrays, const char* key, std::int64_t size = -1) {
    if (!arrays.contains(key)) throw py::key_error(std::string("missing array '") + key + "'");
    py::object obj = arrays[key];
    if (!py::isinstance<py::array>(obj)) throw py::type_error(std::string("'") + key + "' must be a NumPy array");
    auto array = obj.cast<py::array>();
    if (!array.dtype().equal(py::dtype::of<T>()))
        throw py::type_error(std::string("'") + key + "' has dtype " + std::string(py::str(array.dtype())) +
                             ", expected " + std::string(py::str(py::dtype::of<T>())));
    if (!(array.flags() & py::array::c_style)) throw py::value_error(std::string("'") + key + "' must be C-contiguous");
    if (size >= 0 && array.size() != size)
        throw py::value_error(std::string("'") + key + "' has " + std::to_string(array.size()) + " entries, expected " +
                              std::to_string(size));
    return static_cast<const T*>(array.data());
}

// A list of packed records of any type (user ids, trust edges...) that a pass shuffles in place.
template <class Record>
FlatList<Record> typed_records(const py::dict& arrays, const char* key) {
    if (!arrays.contains(key)) throw py::key_error(std::string("missing array '") + key + "'");
    auto array = arrays[key].cast<py::array>();
    if (array.itemsize() != sizeof(Record) || !(array.flags() & py::array::c_style) || !array.writeable())
        throw py::value_error(std::string("'") + key + "' must be a writeable C-contiguous array of " +
                              std::to_string(sizeof(Record)) + "-byte records");
    return FlatList<Record>{static_cast<Record*>(array.mutable_data()), static_cast<std::int64_t>(array.size())};
}

// The same, reporting the number of elements in *size.
template <class T>
const T* input_data(const py::dict& arrays, const char* key, std::int64_t* size) {
    const T* data = input_data<T>(arrays, key);
    *size = static_cast<std::int64_t>(arrays[key].cast<py::array>().size());
    return data;
}

// Number of rows (first dimension) of arrays[key].
inline std::int64_t rows_of(const py::dict& arrays, const char* key) {
    return arrays[key].cast<py::array>().shape(0);
}

// Raises ValueError unless arrays[key] has exactly `shape`.
void check_shape(const py::dict& arrays, const char* key, std::vector<std::int64_t> shape);

template <class T>
T scalar(const py::dict& values, const char* key) {
    if (!values.contains(key)) throw py::key_error(std::string("missing setting '") + key + "'");
    return values[key].cast<T>();
}

// A 1-D array that a pass visits (and shuffles in place): data pointer and length, exact dtype.
template <class T>
FlatList<T> flat_list(const py::dict& arrays, const char* key) {
    T* data = inplace_data<T>(arrays, key);
    return FlatList<T>{data, static_cast<std::int64_t>(arrays[key].cast<py::array>().size())};
}

// A 1-D array of 12-byte (int32, int32, float32) records: rating records or packed trust edges.
FlatList<RatingRecord> record_list(const py::dict& arrays, const char* key);

// The packed records of a rating grid (python/socialrec/_engine.py builds them).
RatingGrid rating_grid(const py::dict& arrays);

// Sorted CSR rows of each user's items plus the pool of positive pairs (keys indptr, indices, pool_users,
// pool_items; python/socialrec/models/bpr.py builds them), validated against n_items.
Interactions interactions(const py::dict& arrays, std::int32_t n_items);

// Checks that `indptr` (n_rows + 1 entries) and `indices` form a CSR matrix whose rows are strictly increasing
// lists of column indices in [0, n_cols); `what` names it in the error.
void check_sorted_csr(const std::int64_t* indptr, std::int64_t n_rows, const std::int32_t* indices,
                      std::int64_t n_indices, std::int64_t n_cols, const char* what);

// Settings of one pass from the Python dict {seed, epoch, threads, deterministic, interruptible}.
PassSettings pass_settings(const py::dict& settings);

// True when the dict's 'user_factors' (or the given key) is float64.
bool is_float64(const py::dict& arrays, const char* key = "user_factors");

// Runs fn() without the GIL; Ctrl-C seen by the kernel re-raises the pending KeyboardInterrupt here.
template <class Fn>
auto without_gil(Fn&& fn) -> decltype(fn()) {
    bool interrupted = false;
    decltype(fn()) result{};
    {
        py::gil_scoped_release release;
        try {
            result = fn();
        } catch (const Interrupted&) {
            interrupted = true;
        }
    }
    if (interrupted) throw py::error_already_set();  // the KeyboardInterrupt that PyErr_CheckSignals set
    return result;
}

// Binding files register themselves (no central list to edit): `static Registrar r{[](py::module_& m) {...}};`
using RegisterFn = void (*)(py::module_&);
std::vector<RegisterFn>& registered_bindings();
struct Registrar {
    explicit Registrar(RegisterFn fn) { registered_bindings().push_back(fn); }
};

// Registers `name(arrays, hyper, settings) -> loss` for an epoch kernel of the table. `read<T>` builds the
// kernel's arguments from the dicts (with the GIL); the kernel then runs without it. The dtype is the one of
// arrays[dtype_key].
template <template <class> class Args>
void def_epoch(py::module_& m, const char* name, double (*const KernelTable::*f32)(const Args<float>&, const PassSettings&),
               double (*const KernelTable::*f64)(const Args<double>&, const PassSettings&),
               Args<float> (*read32)(const py::dict&, const py::dict&),
               Args<double> (*read64)(const py::dict&, const py::dict&), const char* doc,
               const char* dtype_key = "user_factors") {
    m.def(
        name,
        [=](const py::dict& arrays, const py::dict& hyper, const py::dict& settings) {
            const PassSettings s = pass_settings(settings);
            if (is_float64(arrays, dtype_key)) {
                const Args<double> a = read64(arrays, hyper);
                return without_gil([&] { return (kernels().*f64)(a, s); });
            }
            const Args<float> a = read32(arrays, hyper);
            return without_gil([&] { return (kernels().*f32)(a, s); });
        },
        py::arg("arrays"), py::arg("hyper"), py::arg("settings"), doc);
}

}  // namespace socialrec::bind
