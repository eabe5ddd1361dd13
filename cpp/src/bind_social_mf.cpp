// socialrec._core.social_mf_epoch
#include "bindings.hpp"

namespace socialrec::bind {
namespace {

template <class T>
SocialMFArgs<T> read_social_mf(const py::dict& arrays, const py::dict& hyper) {
    SocialMFArgs<T> a{};
    a.grid = rating_grid(arrays);
    a.user_factors = inplace_data<T>(arrays, "user_factors");
    a.item_factors = inplace_data<T>(arrays, "item_factors");
    const auto users = arrays["user_factors"].cast<py::array>().shape(0);
    a.trusters.records = inplace_data<std::int32_t>(arrays, "trusters");
    a.trusters.size = arrays["trusters"].cast<py::array>().size();
    a.trust_offsets = inplace_data<std::int64_t>(arrays, "trust_offsets");
    a.trustees = inplace_data<std::int32_t>(arrays, "trustees");
    a.trust_weights = inplace_data<T>(arrays, "trust_weights");
    // The kernel indexes with these without checks: validate the CSR once here.
    const auto offsets = arrays["trust_offsets"].cast<py::array>();
    const auto n_edges = arrays["trustees"].cast<py::array>().size();
    if (offsets.size() != users + 1 || a.trust_offsets[0] != 0 || a.trust_offsets[users] != n_edges ||
        arrays["trust_weights"].cast<py::array>().size() != n_edges)
        throw py::value_error("trust_offsets / trustees / trust_weights do not form an n_users x n_users CSR");
    for (std::int64_t e = 0; e < n_edges; ++e)
        if (a.trustees[e] < 0 || a.trustees[e] >= users)
            throw py::index_error("trustees[" + std::to_string(e) + "] = " + std::to_string(a.trustees[e]) +
                                  " is out of range");
    for (std::int64_t r = 0; r < a.trusters.size; ++r)
        if (a.trusters.records[r] < 0 || a.trusters.records[r] >= users)
            throw py::index_error("trusters[" + std::to_string(r) + "] is out of range");
    a.factors = scalar<std::int32_t>(hyper, "factors");
    a.global_bias = scalar<double>(hyper, "global_bias");
    a.learning_rate = scalar<double>(hyper, "learning_rate");
    a.regularization = scalar<double>(hyper, "regularization");
    a.social_regularization = scalar<double>(hyper, "social_regularization");
    return a;
}

const Registrar registrar{[](py::module_& m) {
    def_epoch<SocialMFArgs>(m, "social_mf_epoch", &KernelTable::social_mf_epoch_f32,
                            &KernelTable::social_mf_epoch_f64, &read_social_mf<float>, &read_social_mf<double>,
                            "One SGD epoch of SocialMF (rating grid, then the user pass); returns the epoch loss.");
}};

}  // namespace
}  // namespace socialrec::bind
