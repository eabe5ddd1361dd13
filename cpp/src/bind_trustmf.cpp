// socialrec._core.trustmf_epoch
#include "bindings.hpp"

namespace socialrec::bind {
namespace {

template <class T>
TrustMFArgs<T> read_trustmf(const py::dict& arrays, const py::dict& hyper) {
    TrustMFArgs<T> a{};
    a.ratings = rating_grid(arrays);
    a.trust = rating_grid(arrays["trust_grid"].cast<py::dict>());
    a.user_factors = inplace_data<T>(arrays, "user_factors");
    a.item_factors = inplace_data<T>(arrays, "item_factors");
    a.trustee_factors = inplace_data<T>(arrays, "trustee_factors");
    a.trustee_user_factors = inplace_data<T>(arrays, "trustee_user_factors");
    a.trustee_item_factors = inplace_data<T>(arrays, "trustee_item_factors");
    a.trustee_truster_factors = inplace_data<T>(arrays, "trustee_truster_factors");
    a.factors = scalar<std::int32_t>(hyper, "factors");
    a.global_bias = scalar<double>(hyper, "global_bias");
    a.learning_rate = scalar<double>(hyper, "learning_rate");
    a.regularization = scalar<double>(hyper, "regularization");
    a.trust_regularization = scalar<double>(hyper, "trust_regularization");
    return a;
}

const Registrar registrar{[](py::module_& m) {
    def_epoch<TrustMFArgs>(m, "trustmf_epoch", &KernelTable::trustmf_epoch_f32, &KernelTable::trustmf_epoch_f64,
                           &read_trustmf<float>, &read_trustmf<double>,
                           "One TrustMF epoch (truster and trustee models, rating and trust passes, all stratified); "
                           "returns the epoch loss.");
}};

}  // namespace
}  // namespace socialrec::bind
