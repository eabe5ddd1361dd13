// socialrec._core.rste_epoch
#include "bindings.hpp"

namespace socialrec::bind {
namespace {

template <class T>
RSTEArgs<T> read_rste(const py::dict& arrays, const py::dict& hyper) {
    RSTEArgs<T> a{};
    a.users = flat_list<std::int32_t>(arrays, "rating_users");
    a.ratings = record_list(arrays, "ratings").records;
    a.rating_offsets = inplace_data<std::int64_t>(arrays, "rating_offsets");
    a.trust_offsets = inplace_data<std::int64_t>(arrays, "trust_offsets");
    a.trust_dst = inplace_data<std::int32_t>(arrays, "trust_dst");
    a.trust_weight = inplace_data<double>(arrays, "trust_weight");
    a.user_factors = inplace_data<T>(arrays, "user_factors");
    a.item_factors = inplace_data<T>(arrays, "item_factors");
    a.factors = scalar<std::int32_t>(hyper, "factors");
    a.alpha = scalar<double>(hyper, "alpha");
    a.global_bias = scalar<double>(hyper, "global_bias");
    a.learning_rate = scalar<double>(hyper, "learning_rate");
    a.regularization = scalar<double>(hyper, "regularization");
    return a;
}

const Registrar registrar{[](py::module_& m) {
    def_epoch<RSTEArgs>(m, "rste_epoch", &KernelTable::rste_epoch_f32, &KernelTable::rste_epoch_f64, &read_rste<float>,
                        &read_rste<double>, "One RSTE epoch (ratings grouped by user); returns the epoch loss.");
}};

}  // namespace
}  // namespace socialrec::bind
