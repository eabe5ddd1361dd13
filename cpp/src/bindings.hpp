// Helpers shared by the binding files: typed, validated views of NumPy arrays, GIL release with Ctrl-C
// support, and the kernel table chosen at import. bind_args.hpp builds on them to read a model's argument
// struct by member name.
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

// Number of elements of arrays[key] (an array already read and checked).
inline std::int64_t size_of(const py::dict& arrays, const char* key) {
    return static_cast<std::int64_t>(arrays[key].cast<py::array>().size());
}

// Raises ValueError unless arrays[key] has `size` elements: for sizes the kernel relies on without checking.
inline void check_size(const py::dict& arrays, const char* key, std::int64_t size) {
    const std::int64_t actual = size_of(arrays, key);
    if (actual != size)
        throw py::value_error(std::string("'") + key + "' has " + std::to_string(actual) + " entries, expected " +
                              std::to_string(size));
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
    if (size >= 0) check_size(arrays, key, size);
    return static_cast<const T*>(array.data());
}

// The same, reporting the number of elements in *size.
template <class T>
const T* input_data(const py::dict& arrays, const char* key, std::int64_t* size) {
    const T* data = input_data<T>(arrays, key);
    *size = size_of(arrays, key);
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
    return FlatList<T>{data, size_of(arrays, key)};
}

// A 1-D array of packed records (RatingRecord, EdgeRecord: NumPy's structured (int32, int32, float32)) that
// a pass shuffles in place: the item size must match, the array be C-contiguous and writeable.
template <class Record>
FlatList<Record> record_list(const py::dict& arrays, const char* key) {
    if (!arrays.contains(key)) throw py::key_error(std::string("missing record array '") + key + "'");
    auto records = arrays[key].cast<py::array>();
    if (records.itemsize() != sizeof(Record) || records.ndim() != 1 || !(records.flags() & py::array::c_style) ||
        !records.writeable())
        throw py::value_error(std::string("'") + key + "' must be a writeable C-contiguous 1-D array of " +
                              std::to_string(sizeof(Record)) + "-byte (int32, int32, float32) records");
    return FlatList<Record>{static_cast<Record*>(records.mutable_data()), static_cast<std::int64_t>(records.size())};
}

// A rating grid from the keys records (12-byte records, block by block), offsets (int64, blocks*blocks + 1)
// and blocks of `arrays` (python/socialrec/_engine.py pack_grid builds them).
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

// Binding files register themselves (no central list to edit): `const Registrar <file>_registrar{[](py::module_& m)
// {...}};` in an unnamed namespace. The name must be unique to the file, and so must every other name in its
// unnamed namespace: the unity build (CMakeLists.txt, SOCIALREC_UNITY) compiles several binding files as one
// translation unit.
using RegisterFn = void (*)(py::module_&);
std::vector<RegisterFn>& registered_bindings();
struct Registrar {
    explicit Registrar(RegisterFn fn) { registered_bindings().push_back(fn); }
};

}  // namespace socialrec::bind
