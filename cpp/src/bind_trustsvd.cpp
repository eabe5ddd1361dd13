// socialrec._core.trustsvd_epoch
#include "bind_user_groups.hpp"

namespace socialrec::bind {
namespace {

template <class T>
TrustSVDArgs<T> read_trustsvd(const py::dict& arrays, const py::dict& hyper) {
    TrustSVDArgs<T> a{};
    const std::int64_t n_users = rows_of(arrays, "user_factors");
    const std::int64_t n_items = rows_of(arrays, "item_factors");
    a.groups = user_rating_groups(arrays, n_users);
    a.trusters = typed_records<std::int32_t>(arrays, "trusters");
    a.edges = typed_records<EdgeRecord>(arrays, "edges");
    a.trust_offsets = input_data<std::int64_t>(arrays, "trust_offsets", n_users + 1);
    a.trustees = input_data<std::int32_t>(arrays, "trustees", a.trust_offsets[n_users]);
    if (a.trust_offsets[n_users] != a.edges.size)
        throw py::value_error("'trust_offsets' does not end at the number of trust edges");
    a.item_weight = input_data<double>(arrays, "item_weight", n_items);
    a.trustee_weight = input_data<double>(arrays, "trustee_weight", n_users);
    a.user_factors = inplace_data<T>(arrays, "user_factors");
    a.item_factors = inplace_data<T>(arrays, "item_factors");
    a.implicit_factors = inplace_data<T>(arrays, "implicit_factors");
    a.trustee_factors = inplace_data<T>(arrays, "trustee_factors");
    a.user_bias = inplace_data<T>(arrays, "user_bias");
    a.item_bias = inplace_data<T>(arrays, "item_bias");
    a.factors = scalar<std::int32_t>(hyper, "factors");
    a.global_bias = scalar<double>(hyper, "global_bias");
    a.learning_rate = scalar<double>(hyper, "learning_rate");
    a.regularization = scalar<double>(hyper, "regularization");
    a.bias_regularization = scalar<double>(hyper, "bias_regularization");
    a.social_regularization = scalar<double>(hyper, "social_regularization");
    return a;
}

const Registrar registrar{[](py::module_& m) {
    def_epoch<TrustSVDArgs>(m, "trustsvd_epoch", &KernelTable::trustsvd_epoch_f32, &KernelTable::trustsvd_epoch_f64,
                            &read_trustsvd<float>, &read_trustsvd<double>,
                            "One SGD epoch of TrustSVD (user-grouped rating pass + trust link pass); returns the "
                            "epoch loss.");
}};

}  // namespace
}  // namespace socialrec::bind
