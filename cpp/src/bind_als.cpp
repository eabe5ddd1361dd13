// socialrec._core.als_epoch and socialrec._core.social_als_epoch (the WRMF family).
#include <string>

#include "bind_args.hpp"

namespace socialrec::bind {
namespace {

// A C-contiguous array of exactly dtype V: the kernel keeps its pointer, so no converted temporary.
template <class V>
py::array exact_array(const py::dict& arrays, const std::string& key) {
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
CsrRows csr_rows(const py::dict& arrays, const std::string& prefix, std::int64_t columns) {
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

}  // namespace

// ALSSolver's settings, all from hyper (ALSArgs::solver).
void read_args(const Dicts& d, ALSSolver& a) { SOCIALREC_READ((alpha)(regularization)(cg_steps)(cholesky)); }

template <class T>
void read_args(const Dicts& d, ALSArgs<T>& a) {
    SOCIALREC_READ((factors)(solver)(user_factors)(item_factors));
    if (a.factors <= 0) throw py::value_error("factors must be positive");
    // r_ui as CSR rows both ways: the users' rows index the items, the items' rows the users
    const auto n_users = exact_array<std::int64_t>(d.arrays, "user_items_indptr").size() - 1;
    const auto n_items = exact_array<std::int64_t>(d.arrays, "item_users_indptr").size() - 1;
    a.user_items = csr_rows(d.arrays, "user_items", n_items);
    a.item_users = csr_rows(d.arrays, "item_users", n_users);
    check_size(d.arrays, "user_factors", n_users * a.factors);
    check_size(d.arrays, "item_factors", n_items * a.factors);
}

template <class T>
void read_args(const Dicts& d, SocialALSArgs<T>& a) {
    SOCIALREC_READ((als)(social_regularization));
    a.similarity = csr_rows(d.arrays, "similarity", a.als.user_items.rows);
    if (a.similarity.rows != a.als.user_items.rows)
        throw py::value_error("'similarity_indptr' must have n_users + 1 entries");
}

SOCIALREC_EPOCH(als_epoch, ALSArgs,
                "One ALS (WRMF) alternation: user rows, then item rows; returns the objective after it.")
SOCIALREC_EPOCH(social_als_epoch, SocialALSArgs,
                "One SocialALS alternation (Jacobi user solves with the graph-Laplacian term, then WRMF item solves); "
                "returns the objective after it.")

}  // namespace socialrec::bind
