// socialrec._core.topk_select / lists_sorted: row-wise top-n of a dense score tile (socialrec/topk.hpp).
// The binding is compiled once, for the baseline instruction set; the scan itself is a kernel variant
// (kernels().topk_select_*), chosen at import with the others.
#include <string>
#include <type_traits>

#include "bind_arrays.hpp"
#include "socialrec/topk_args.hpp"

namespace socialrec::bind {
namespace {

template <class T>
void select(const py::array& scores_obj, std::int64_t n, const py::object& item_offset, const py::object& columns,
            std::int64_t column_start, const py::object& row_list, const py::object& exclude_indptr,
            const py::object& exclude_indices, bool check_sorted, const py::array& best_ids,
            const py::array& best_scores, bool merge, bool finish, int threads) {
    TopKArgs<T> a;
    const auto scores = input<T>(scores_obj, "scores");
    if (scores.ndim() != 2) throw py::value_error("scores must be a 2-D array (rows x items)");
    if (n <= 0) throw py::value_error("n=" + std::to_string(n) + " must be a positive integer");
    a.scores = scores.data();
    a.rows = scores.shape(0);
    a.cols = scores.shape(1);
    a.n = n;
    a.merge = merge;
    a.finish = finish;
    a.threads = threads;
    a.column_start = column_start;
    const auto offset = optional_input<T>(item_offset, "item_offset", a.cols);
    a.item_offset = offset ? offset->data() : nullptr;
    const auto cols = optional_input<std::int64_t>(columns, "columns", a.cols);
    if (cols) {
        a.columns = cols->data();
        for (std::int64_t c = 1; c < a.cols; ++c)
            if (a.columns[c] <= a.columns[c - 1])
                throw py::value_error("columns must be strictly increasing (columns[" + std::to_string(c) + "])");
    }
    const auto lists = optional_input<std::int64_t>(row_list, "row_list", a.rows);
    const auto indptr = optional_input<std::int64_t>(exclude_indptr, "exclude_indptr", -1);
    const auto indices = optional_input<std::int32_t>(exclude_indices, "exclude_indices", -1);
    if (bool(lists) != bool(indptr) || bool(indptr) != bool(indices))
        throw py::value_error("row_list, exclude_indptr and exclude_indices go together");
    if (lists) {
        a.row_list = lists->data();
        a.exclude = id_lists(*indptr, *indices, a.row_list, a.rows, "exclude");
        if (check_sorted && !lists_sorted(a.exclude, a.row_list, a.rows))
            throw py::value_error("exclude_indices must be sorted ascending within each row (CSR sort_indices)");
    }
    a.best_ids = output<std::int64_t>(best_ids, "best_ids", a.rows, n);
    a.best_scores = output<T>(best_scores, "best_scores", a.rows, n);
    py::gil_scoped_release release;
    if constexpr (std::is_same_v<T, double>)
        kernels().topk_select_f64(a);
    else
        kernels().topk_select_f32(a);
}

bool sorted_rows(const py::object& indptr, const py::object& indices, const py::object& rows) {
    const auto p = *optional_input<std::int64_t>(indptr, "indptr", -1);
    const auto i = *optional_input<std::int32_t>(indices, "indices", -1);
    const auto r = *optional_input<std::int64_t>(rows, "rows", -1);
    const IdLists lists = id_lists(p, i, r.data(), r.shape(0), "exclude");
    py::gil_scoped_release release;
    return lists_sorted(lists, r.data(), r.shape(0));
}

const Registrar topk_registrar{[](py::module_& m) {
    m.def(
        "topk_select",
        [](const py::array& scores, std::int64_t n, const py::object& item_offset, const py::object& columns,
           std::int64_t column_start, const py::object& row_list, const py::object& exclude_indptr,
           const py::object& exclude_indices, bool check_sorted, const py::array& best_ids,
           const py::array& best_scores, bool merge, bool finish, int threads) {
            auto run = [&](auto tag) {
                select<decltype(tag)>(scores, n, item_offset, columns, column_start, row_list, exclude_indptr,
                                      exclude_indices, check_sorted, best_ids, best_scores, merge, finish, threads);
            };
            if (scores.dtype().equal(py::dtype::of<double>()))
                run(double{});
            else
                run(float{});
        },
        py::arg("scores"), py::arg("n"), py::kw_only(), py::arg("item_offset") = py::none(),
        py::arg("columns") = py::none(), py::arg("column_start") = 0, py::arg("row_list") = py::none(),
        py::arg("exclude_indptr") = py::none(), py::arg("exclude_indices") = py::none(),
        py::arg("check_sorted") = true, py::arg("best_ids"), py::arg("best_scores"), py::arg("merge") = false,
        py::arg("finish") = true, py::arg("threads") = 1,
        "Row-wise top-n of one tile of scores (+ item_offset) into best_ids / best_scores (scores' dtype), best\n"
        "first, ties to the lower item id, -1 / -inf padding. Column c is item columns[c] (strictly increasing)\n"
        "or column_start + c. row_list[r] selects the CSR row (exclude_indptr, exclude_indices) of item ids\n"
        "row r leaves out (sorted ascending; check_sorted verifies it). merge=True merges into lists that\n"
        "already hold earlier tiles of lower item ids; finish=False leaves the lists unordered (for a next tile)\n"
        "instead of sorted. -inf and NaN scores never qualify.");
    m.def("lists_sorted", &sorted_rows, py::arg("indptr"), py::arg("indices"), py::arg("rows"),
          "True when the CSR rows `rows` of (indptr, indices) are each sorted ascending.");
}};

}  // namespace
}  // namespace socialrec::bind
