// socialrec._core.bpr_epoch
#include "bindings.hpp"

namespace socialrec::bind {
namespace {

template <class T>
BPRArgs<T> read_bpr(const py::dict& arrays, const py::dict& hyper) {
    BPRArgs<T> a{};
    a.factors = scalar<std::int32_t>(hyper, "factors");
    std::int64_t n_items = 0;
    a.item_bias = inplace_data<T>(arrays, "item_bias");
    input_data<T>(arrays, "item_bias", &n_items);
    a.data = interactions(arrays, static_cast<std::int32_t>(n_items));
    const std::int64_t n_users = static_cast<std::int64_t>(arrays["indptr"].cast<py::array>().size()) - 1;
    a.user_factors = inplace_data<T>(arrays, "user_factors");
    a.item_factors = inplace_data<T>(arrays, "item_factors");
    check_shape(arrays, "user_factors", {n_users, a.factors});
    check_shape(arrays, "item_factors", {n_items, a.factors});
    a.learning_rate = scalar<double>(hyper, "learning_rate");
    a.regularization = scalar<double>(hyper, "regularization");
    a.bias_regularization = scalar<double>(hyper, "bias_regularization");
    return a;
}

const Registrar registrar{[](py::module_& m) {
    def_epoch<BPRArgs>(m, "bpr_epoch", &KernelTable::bpr_epoch_f32, &KernelTable::bpr_epoch_f64, &read_bpr<float>,
                       &read_bpr<double>, "One BPR epoch of sampled (u, i+, j-) triples; returns the epoch loss.");
}};

}  // namespace

// Shared with bind_sbpr.cpp.
template <class T>
BPRArgs<T> read_bpr_args(const py::dict& arrays, const py::dict& hyper) {
    return read_bpr<T>(arrays, hyper);
}
template BPRArgs<float> read_bpr_args<float>(const py::dict&, const py::dict&);
template BPRArgs<double> read_bpr_args<double>(const py::dict&, const py::dict&);

}  // namespace socialrec::bind
