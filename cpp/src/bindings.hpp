// Helpers shared by the binding files: typed, validated views of NumPy arrays, GIL release with Ctrl-C
// support, and the kernel table chosen at import.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "socialrec/kernel_table.hpp"
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
    if (!array.dtype().is(py::dtype::of<T>()))
        throw py::type_error(std::string("'") + key + "' has dtype " + std::string(py::str(array.dtype())) +
                             ", expected " + std::string(py::str(py::dtype::of<T>())));
    if (!(array.flags() & py::array::c_style)) throw py::value_error(std::string("'") + key + "' must be C-contiguous");
    if (!array.writeable()) throw py::value_error(std::string("'") + key + "' must be writeable");
    return static_cast<T*>(array.mutable_data());
}

template <class T>
T scalar(const py::dict& values, const char* key) {
    if (!values.contains(key)) throw py::key_error(std::string("missing setting '") + key + "'");
    return values[key].cast<T>();
}

// The packed records of a rating grid (python/socialrec/_engine.py builds them).
RatingGrid rating_grid(const py::dict& arrays);

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

void bind_sgd(py::module_& m);

}  // namespace socialrec::bind
