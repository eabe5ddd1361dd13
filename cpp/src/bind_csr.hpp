// CSR arrays read from a binding's dicts: the ALS family's interactions and similarity (bind_als.cpp) and the
// blocks of the distributed fits (bind_als_blocks.cpp).
#pragma once
#include <string>

#include "bind_args.hpp"

namespace socialrec::bind {

// A C-contiguous array of exactly dtype V: the kernel keeps its pointer, so no converted temporary.
template <class V>
inline py::array exact_array(const py::dict& arrays, const std::string& key) {
    if (!arrays.contains(key.c_str())) throw py::key_error("missing array '" + key + "'");
    py::object obj = arrays[key.c_str()];
    if (!py::isinstance<py::array>(obj)) throw py::type_error("'" + key + "' must be a NumPy array");
    auto array = obj.cast<py::array>();
    if (!array.dtype().equal(py::dtype::of<V>()) || !(array.flags() & py::array::c_style) || array.ndim() != 1)
        throw py::type_error("'" + key + "' must be a one-dimensional C-contiguous " +
                             std::string(py::str(py::dtype::of<V>())) + " array");
    return array;
}

// The CSR arrays <prefix>_indptr (int64), <prefix>_indices (int32, in [0, columns)), <prefix>_values (float32).
inline CsrRows csr_rows(const py::dict& arrays, const std::string& prefix, std::int64_t columns) {
    const auto indptr = exact_array<std::int64_t>(arrays, prefix + "_indptr");
    const auto indices = exact_array<std::int32_t>(arrays, prefix + "_indices");
    const auto values = exact_array<float>(arrays, prefix + "_values");
    CsrRows rows{static_cast<const std::int64_t*>(indptr.data()), static_cast<const std::int32_t*>(indices.data()),
                 static_cast<const float*>(values.data()), std::int64_t(indptr.size()) - 1};
    if (rows.rows < 0 || rows.indptr[0] != 0) throw py::value_error("'" + prefix + "_indptr' must start at 0");
    for (std::int64_t u = 0; u < rows.rows; ++u)
        if (rows.indptr[u + 1] < rows.indptr[u])
            throw py::value_error("'" + prefix + "_indptr' decreases at row " + std::to_string(u));
    if (rows.indptr[rows.rows] != indices.size() || indices.size() != values.size())
        throw py::value_error("'" + prefix + "_indptr' does not end at the length of its indices and values");
    for (py::ssize_t e = 0; e < indices.size(); ++e)
        if (rows.indices[e] < 0 || rows.indices[e] >= columns)
            throw py::index_error("'" + prefix + "_indices'[" + std::to_string(e) + "] = " +
                                  std::to_string(rows.indices[e]) + " is out of range [0, " + std::to_string(columns) +
                                  ")");
    return rows;
}

// ALSSolver's settings from hyper (alpha, regularization, cg_steps, cholesky); defined in bind_als.cpp.
void read_args(const Dicts& d, ALSSolver& a);

}  // namespace socialrec::bind
