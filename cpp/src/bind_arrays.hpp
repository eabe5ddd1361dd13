// Typed, validated views of NumPy arrays for the non-SGD bindings (top-k selection, ranking metrics).
// Inputs are converted when needed (the converted array lives in the returned object, so keep it alive for
// the call); outputs must already have the exact dtype and shape, since the kernel writes into them.
#pragma once
#include <optional>
#include <string>

#include "bindings.hpp"
#include "socialrec/topk_args.hpp"

namespace socialrec::bind {

template <class T>
using Input = py::array_t<T, py::array::c_style | py::array::forcecast>;

template <class T>
Input<T> input(const py::object& obj, const char* name) {
    if (obj.is_none()) throw py::type_error(std::string(name) + " must be an array, got None");
    Input<T> a = Input<T>::ensure(obj);
    if (!a) throw py::type_error(std::string(name) + " cannot be read as a numeric array");
    return a;
}

// None -> nullopt; otherwise a 1-D array of `size` entries (any size when size < 0).
template <class T>
std::optional<Input<T>> optional_input(const py::object& obj, const char* name, std::int64_t size) {
    if (obj.is_none()) return std::nullopt;
    Input<T> a = input<T>(obj, name);
    if (a.ndim() != 1) throw py::value_error(std::string(name) + " must be one-dimensional");
    if (size >= 0 && a.shape(0) != size)
        throw py::value_error(std::string(name) + " has " + std::to_string(a.shape(0)) + " entries, expected " +
                              std::to_string(size));
    return a;
}

template <class T>
T* output(py::array a, const char* name, std::int64_t rows, std::int64_t cols) {
    if (!a.dtype().equal(py::dtype::of<T>()))
        throw py::type_error(std::string(name) + " has dtype " + std::string(py::str(a.dtype())) + ", expected " +
                             std::string(py::str(py::dtype::of<T>())));
    if (!(a.flags() & py::array::c_style) || !a.writeable())
        throw py::value_error(std::string(name) + " must be a writeable C-contiguous array");
    if (a.ndim() != 2 || a.shape(0) != rows || a.shape(1) != cols)
        throw py::value_error(std::string(name) + " must have shape (" + std::to_string(rows) + ", " +
                              std::to_string(cols) + ")");
    return static_cast<T*>(a.mutable_data());
}

// CSR id lists, checked on the rows that `used[0..count)` will read.
inline IdLists id_lists(const Input<std::int64_t>& indptr, const Input<std::int32_t>& indices,
                        const std::int64_t* used, std::int64_t count, const char* name) {
    IdLists lists{indptr.data(), indices.data(), indptr.shape(0) - 1};
    if (lists.rows < 0) throw py::value_error(std::string(name) + "_indptr must have at least one entry");
    const std::int64_t nnz = indices.shape(0);
    for (std::int64_t r = 0; r < count; ++r) {
        const std::int64_t u = used[r];
        if (u < 0 || u >= lists.rows)
            throw py::index_error(std::string(name) + ": row " + std::to_string(r) + " asks for list " +
                                  std::to_string(u) + ", outside [0, " + std::to_string(lists.rows) + ")");
        if (lists.indptr[u] < 0 || lists.indptr[u] > lists.indptr[u + 1] || lists.indptr[u + 1] > nnz)
            throw py::value_error(std::string(name) + "_indptr is not a valid CSR offset array at row " +
                                  std::to_string(u));
    }
    return lists;
}

}  // namespace socialrec::bind
