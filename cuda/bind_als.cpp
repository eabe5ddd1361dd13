// socialrec._cuda bindings of the non-SGD kernels: ALS / SocialALS half-steps (cuda/als.hpp), ranking metrics
// (cuda/metrics.hpp), and their host-side checks (`host_als_half_step`, `host_metrics_ranking`: the same
// templates run serially on NumPy arrays, no device needed). Compiled by the host C++ compiler, like
// module.cpp, which calls bind_als_metrics() once.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "als.hpp"
#include "metrics.hpp"

namespace py = pybind11;

namespace socialrec::cuda {
namespace {

template <class T>
T* ptr(std::uintptr_t address) {
    return reinterpret_cast<T*>(address);
}

template <class T>
using Array = py::array_t<T, py::array::c_style | py::array::forcecast>;

template <class T>
Array<T> host_array(const py::object& o, const char* name, py::ssize_t size = -1) {
    Array<T> a = Array<T>::ensure(o);
    if (!a) throw py::type_error(std::string(name) + " must be a numeric array");
    if (size >= 0 && a.size() != size)
        throw py::value_error(std::string(name) + " has " + std::to_string(a.size()) + " elements, expected " +
                              std::to_string(size));
    return a;
}

// A CSR with `rows` rows whose column ids lie in [0, cols): checked before host code dereferences it.
void check_csr(const Array<std::int64_t>& indptr, const Array<std::int32_t>& indices, std::int64_t rows,
               std::int64_t cols, const char* name, bool sorted) {
    const std::string n(name);
    if (indptr.size() != rows + 1) throw py::value_error(n + "_indptr must have rows + 1 entries");
    const std::int64_t* p = indptr.data();
    if (p[0] != 0 || p[rows] != indices.size()) throw py::value_error(n + "_indptr does not match its indices");
    const std::int32_t* ix = indices.data();
    for (std::int64_t r = 0; r < rows; ++r) {
        if (p[r + 1] < p[r]) throw py::value_error(n + "_indptr must be non-decreasing");
        for (std::int64_t e = p[r]; e < p[r + 1]; ++e) {
            if (cols >= 0 && (ix[e] < 0 || ix[e] >= cols)) throw py::index_error(n + "_indices out of range");
            if (sorted && e > p[r] && ix[e] < ix[e - 1]) throw py::value_error(n + " rows must be sorted ascending");
        }
    }
}

// X, Y and previous in one storage type: all float32, or all float16 (NumPy's IEEE half, the bits of
// __half); returned as a C-contiguous array of that dtype.
py::array storage_array(const py::object& o, const char* name, const py::dtype& dtype) {
    py::array a = py::array::ensure(o, py::array::c_style);
    if (!a || !a.dtype().equal(dtype))
        throw py::type_error(std::string(name) + " must be a " + std::string(py::str(dtype)) + " array (X, Y and "
                             "previous share one storage dtype: float32, or float16)");
    return a;
}

py::tuple host_als(const py::object& G_, const py::object& Y_, const py::object& indptr_, const py::object& indices_,
                   const py::object& values_, const py::object& X_, float alpha, float regularization,
                   int cg_steps, const py::object& graph_indptr_, const py::object& graph_indices_,
                   const py::object& graph_values_, const py::object& previous_, float beta) {
    py::array X_any = py::array::ensure(X_);
    const bool half = X_any && X_any.dtype().equal(py::dtype("float16"));
    const py::dtype dtype = half ? py::dtype("float16") : py::dtype::of<float>();
    const py::array X0 = half ? storage_array(X_, "X", dtype) : py::array(host_array<float>(X_, "X"));
    if (X0.ndim() != 2) throw py::value_error("X must be 2-D (rows x k)");
    const std::int64_t rows = X0.shape(0);
    const int k = int(X0.shape(1));
    const py::array Y = half ? storage_array(Y_, "Y", dtype) : py::array(host_array<float>(Y_, "Y"));
    if (Y.ndim() != 2 || Y.shape(1) != k) throw py::value_error("Y must be 2-D with X's k columns");
    const auto G = host_array<float>(G_, "G", py::ssize_t(k) * k);
    const auto indptr = host_array<std::int64_t>(indptr_, "indptr");
    const auto indices = host_array<std::int32_t>(indices_, "indices");
    const auto values = host_array<float>(values_, "values", indices.size());
    check_csr(indptr, indices, rows, Y.shape(0), "", false);
    py::array X(dtype, std::vector<py::ssize_t>{py::ssize_t(rows), py::ssize_t(k)});  // a fresh copy: the input is
    std::memcpy(X.mutable_data(), X0.data(), X0.itemsize() * X0.size());             // not modified
    Array<double> row_loss(rows);
    AlsHalfStepArgs a;
    a.G = G.data();
    a.Y = Y.data();
    a.n_fixed = Y.shape(0);
    a.indptr = indptr.data();
    a.indices = indices.data();
    a.values = values.data();
    a.rows = rows;
    a.X = X.mutable_data();
    a.factors = k;
    a.alpha = alpha;
    a.regularization = regularization;
    a.cg_steps = cg_steps;
    a.row_loss = row_loss.mutable_data();
    a.float16 = half;
    std::optional<Array<std::int64_t>> gp;
    std::optional<Array<std::int32_t>> gi;
    std::optional<Array<float>> gv;
    std::optional<py::array> prev;
    if (!graph_indptr_.is_none()) {
        gp = host_array<std::int64_t>(graph_indptr_, "graph_indptr");
        gi = host_array<std::int32_t>(graph_indices_, "graph_indices");
        gv = host_array<float>(graph_values_, "graph_values", gi->size());
        prev = half ? storage_array(previous_, "previous", dtype) : py::array(host_array<float>(previous_, "previous"));
        if (prev->size() != X0.size()) throw py::value_error("previous must have X's shape");
        check_csr(*gp, *gi, rows, rows, "graph", false);
        a.graph_indptr = gp->data();
        a.graph_indices = gi->data();
        a.graph_values = gv->data();
        a.previous = prev->data();
        a.beta = beta;
    }
    try {
        host_als_half_step(a);
    } catch (const std::invalid_argument& e) {
        throw py::value_error(e.what());
    }
    return py::make_tuple(X, row_loss);
}

Array<double> host_metrics(const py::object& top_ids_, const py::object& users_, const py::object& test_indptr_,
                           const py::object& test_indices_, const py::object& exclude_indptr_,
                           const py::object& exclude_indices_, std::int64_t n_items) {
    const auto top = host_array<std::int64_t>(top_ids_, "top_ids");
    if (top.ndim() != 2 || top.shape(1) <= 0) throw py::value_error("top_ids must be 2-D with k >= 1 columns");
    const std::int64_t rows = top.shape(0);
    const auto users = host_array<std::int64_t>(users_, "users", rows);
    const auto tp = host_array<std::int64_t>(test_indptr_, "test_indptr");
    const auto ti = host_array<std::int32_t>(test_indices_, "test_indices");
    const std::int64_t n_users = tp.size() - 1;
    check_csr(tp, ti, n_users, -1, "test", true);
    for (std::int64_t r = 0; r < rows; ++r)
        if (users.data()[r] < 0 || users.data()[r] >= n_users) throw py::index_error("users out of range");
    RankingMetricsArgs a;
    a.top_ids = top.data();
    a.rows = rows;
    a.k = top.shape(1);
    a.users = users.data();
    a.test_indptr = tp.data();
    a.test_indices = ti.data();
    a.n_items = n_items;
    std::optional<Array<std::int64_t>> ep;
    std::optional<Array<std::int32_t>> ei;
    if (!exclude_indptr_.is_none()) {
        ep = host_array<std::int64_t>(exclude_indptr_, "exclude_indptr", n_users + 1);
        ei = host_array<std::int32_t>(exclude_indices_, "exclude_indices");
        check_csr(*ep, *ei, n_users, -1, "exclude", true);
        a.exclude_indptr = ep->data();
        a.exclude_indices = ei->data();
    }
    Array<double> out({rows, std::int64_t(6)});
    a.out = out.mutable_data();
    try {
        host_metrics_ranking(a);
    } catch (const std::invalid_argument& e) {
        throw py::value_error(e.what());
    }
    return out;
}

}  // namespace

void bind_als_metrics(py::module_& m) {
    m.attr("ALS_MAX_FACTORS") = kAlsMaxFactors;

    m.def("als_half_step",
          [](std::uintptr_t G, std::uintptr_t Y, std::int64_t n_fixed, std::uintptr_t indptr, std::uintptr_t indices,
             std::uintptr_t values, std::int64_t rows, std::uintptr_t X, std::int32_t factors, float alpha,
             float regularization, std::int32_t cg_steps, std::uintptr_t graph_indptr, std::uintptr_t graph_indices,
             std::uintptr_t graph_values, std::uintptr_t previous, float beta, std::uintptr_t row_loss,
             std::uintptr_t stream, bool float16) {
              AlsHalfStepArgs a;
              a.G = ptr<const float>(G);
              a.Y = ptr<const void>(Y);
              a.n_fixed = n_fixed;
              a.indptr = ptr<const std::int64_t>(indptr);
              a.indices = ptr<const std::int32_t>(indices);
              a.values = ptr<const float>(values);
              a.rows = rows;
              a.X = ptr<void>(X);
              a.factors = factors;
              a.alpha = alpha;
              a.regularization = regularization;
              a.cg_steps = cg_steps;
              a.graph_indptr = ptr<const std::int64_t>(graph_indptr);
              a.graph_indices = ptr<const std::int32_t>(graph_indices);
              a.graph_values = ptr<const float>(graph_values);
              a.previous = ptr<const void>(previous);
              a.beta = beta;
              a.row_loss = ptr<double>(row_loss);
              a.float16 = float16;
              als_half_step(a, reinterpret_cast<cudaStream_t>(stream));
          },
          py::arg("G"), py::arg("Y"), py::arg("n_fixed"), py::arg("indptr"), py::arg("indices"), py::arg("values"),
          py::arg("rows"), py::arg("X"), py::arg("factors"), py::arg("alpha"), py::arg("regularization"),
          py::arg("cg_steps"), py::arg("graph_indptr"), py::arg("graph_indices"), py::arg("graph_values"),
          py::arg("previous"), py::arg("beta"), py::arg("row_loss"), py::arg("stream"), py::arg("float16") = false,
          py::call_guard<py::gil_scoped_release>(),
          "One ALS / SocialALS half-step (every row of X solved by CG against the float32 Gramian G of Y); device\n"
          "pointers (0: absent), asynchronous on `stream`. float16: X, Y and previous are half precision (read\n"
          "into float32, the solve in float32, each new row rounded to half once). row_loss (optional) receives\n"
          "each row's loss term.");

    m.def("ranking_metrics",
          [](std::uintptr_t top_ids, std::int64_t rows, std::int64_t k, std::uintptr_t users,
             std::uintptr_t test_indptr, std::uintptr_t test_indices, std::uintptr_t exclude_indptr,
             std::uintptr_t exclude_indices, std::int64_t n_items, std::uintptr_t out, std::uintptr_t stream) {
              RankingMetricsArgs a;
              a.top_ids = ptr<const std::int64_t>(top_ids);
              a.rows = rows;
              a.k = k;
              a.users = ptr<const std::int64_t>(users);
              a.test_indptr = ptr<const std::int64_t>(test_indptr);
              a.test_indices = ptr<const std::int32_t>(test_indices);
              a.exclude_indptr = ptr<const std::int64_t>(exclude_indptr);
              a.exclude_indices = ptr<const std::int32_t>(exclude_indices);
              a.n_items = n_items;
              a.out = ptr<double>(out);
              ranking_metrics(a, reinterpret_cast<cudaStream_t>(stream));
          },
          py::arg("top_ids"), py::arg("rows"), py::arg("k"), py::arg("users"), py::arg("test_indptr"),
          py::arg("test_indices"), py::arg("exclude_indptr"), py::arg("exclude_indices"), py::arg("n_items"),
          py::arg("out"), py::arg("stream"), py::call_guard<py::gil_scoped_release>(),
          "Per-list ranking metrics @k into out (rows x 6 float64: precision, recall, ndcg, AP, hit, AUC);\n"
          "device pointers, CSR rows sorted ascending, asynchronous on `stream`.");

    m.def("host_als_half_step", &host_als, py::arg("G"), py::arg("Y"), py::arg("indptr"), py::arg("indices"),
          py::arg("values"), py::arg("X"), py::arg("alpha"), py::arg("regularization"), py::arg("cg_steps"),
          py::arg("graph_indptr") = py::none(), py::arg("graph_indices") = py::none(),
          py::arg("graph_values") = py::none(), py::arg("previous") = py::none(), py::arg("beta") = 0.0f,
          "Host check of als_half_step: the kernel's row math run serially on NumPy arrays (X, Y, previous all\n"
          "float32, or all float16: the kernel's half storage). Returns (new X, row losses); the inputs are not\n"
          "modified.");
    m.def("host_metrics_ranking", &host_metrics, py::arg("top_ids"), py::arg("users"), py::arg("test_indptr"),
          py::arg("test_indices"), py::arg("exclude_indptr") = py::none(), py::arg("exclude_indices") = py::none(),
          py::arg("n_items"),
          "Host check of ranking_metrics: the kernel's per-user math run serially on NumPy arrays; (rows, 6).");
}

}  // namespace socialrec::cuda
