// socialrec._core.sbpr_epoch
#include "bindings.hpp"

namespace socialrec::bind {

template <class T>
BPRArgs<T> read_bpr_args(const py::dict& arrays, const py::dict& hyper);  // bind_bpr.cpp

namespace {

template <class T>
SBPRArgs<T> read_sbpr(const py::dict& arrays, const py::dict& hyper) {
    SBPRArgs<T> a{};
    a.bpr = read_bpr_args<T>(arrays, hyper);
    a.social_weight = scalar<double>(hyper, "social_weight");
    if (!(a.social_weight >= 0 && a.social_weight <= 1)) throw py::value_error("'social_weight' must be in [0, 1]");
    std::int64_t n_ptr = 0, n_social = 0, n_counts = 0;
    a.social_indptr = input_data<std::int64_t>(arrays, "social_indptr", &n_ptr);
    a.social_items = input_data<std::int32_t>(arrays, "social_items", &n_social);
    a.social_counts = input_data<std::int32_t>(arrays, "social_counts", &n_counts);
    const std::int64_t n_users = static_cast<std::int64_t>(arrays["indptr"].cast<py::array>().size()) - 1;
    if (n_ptr != n_users + 1) throw py::value_error("'social_indptr' must have n_users + 1 entries");
    if (n_counts != n_social) throw py::value_error("'social_counts' and 'social_items' differ in length");
    check_sorted_csr(a.social_indptr, n_users, a.social_items, n_social, a.bpr.data.n_items, "social items");
    for (std::int64_t r = 0; r < n_counts; ++r)
        if (a.social_counts[r] < 1) throw py::value_error("'social_counts' must be positive");
    return a;
}

const Registrar registrar{[](py::module_& m) {
    def_epoch<SBPRArgs>(m, "sbpr_epoch", &KernelTable::sbpr_epoch_f32, &KernelTable::sbpr_epoch_f64,
                        &read_sbpr<float>, &read_sbpr<double>,
                        "One SBPR epoch of sampled (u, i+, k social, j-) observations; returns the epoch loss.");
}};

}  // namespace
}  // namespace socialrec::bind
