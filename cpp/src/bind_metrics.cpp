// socialrec._core.ranking_metrics: per-user precision, recall, NDCG, AP, hit and AUC of top-k lists
// (cpp/include/socialrec/metrics.hpp). Not an SGD kernel: compiled once with the bindings.
#include <string>

#include "bind_arrays.hpp"
#include "socialrec/metrics.hpp"

namespace socialrec::bind {
namespace {

py::array_t<double> metrics(const py::object& top_ids, const py::object& users, const py::object& test_indptr,
                            const py::object& test_indices, const py::object& exclude_indptr,
                            const py::object& exclude_indices, std::int64_t n_items, int threads) {
    RankingArgs a;
    const auto lists = input<std::int64_t>(top_ids, "top_ids");
    if (lists.ndim() != 2) throw py::value_error("top_ids must be a 2-D array (users x k)");
    a.top_ids = lists.data();
    a.rows = lists.shape(0);
    a.k = lists.shape(1);
    if (a.k <= 0) throw py::value_error("top_ids must have at least one column (k >= 1)");
    if (n_items < 0) throw py::value_error("n_items must be non-negative");
    a.n_items = n_items;
    a.threads = threads;
    const auto rows = *optional_input<std::int64_t>(users, "users", a.rows);
    a.users = rows.data();
    const auto t_indptr = *optional_input<std::int64_t>(test_indptr, "test_indptr", -1);
    const auto t_indices = *optional_input<std::int32_t>(test_indices, "test_indices", -1);
    a.test = id_lists(t_indptr, t_indices, a.users, a.rows, "test");
    const auto e_indptr = optional_input<std::int64_t>(exclude_indptr, "exclude_indptr", -1);
    const auto e_indices = optional_input<std::int32_t>(exclude_indices, "exclude_indices", -1);
    if (bool(e_indptr) != bool(e_indices)) throw py::value_error("exclude_indptr and exclude_indices go together");
    if (e_indptr) a.exclude = id_lists(*e_indptr, *e_indices, a.users, a.rows, "exclude");
    py::array_t<double> out({a.rows, std::int64_t(kRankingMetrics)});
    a.out = out.mutable_data();
    {
        py::gil_scoped_release release;
        ranking_metrics(a);
    }
    return out;
}

const Registrar metrics_registrar{[](py::module_& m) {
    m.def("ranking_metrics", &metrics, py::arg("top_ids"), py::arg("users"), py::arg("test_indptr"),
          py::arg("test_indices"), py::arg("exclude_indptr") = py::none(), py::arg("exclude_indices") = py::none(),
          py::arg("n_items"), py::arg("threads") = 1,
          "Per-list ranking metrics @k (k = top_ids.shape[1]) as a (rows, 6) float64 array with columns\n"
          "precision, recall, ndcg, average precision, hit, auc (NaN where undefined). users[r] selects the\n"
          "CSR rows of held-out items (test_*) and of items excluded from the ranking (exclude_*).");
    m.attr("RANKING_METRIC_NAMES") = py::make_tuple("precision", "recall", "ndcg", "map", "hit_rate", "auc");
}};

}  // namespace
}  // namespace socialrec::bind
