// socialrec._core.svdpp_epoch
#include "bind_user_groups.hpp"

namespace socialrec::bind {
namespace {

template <class T>
SVDppArgs<T> read_svdpp(const py::dict& arrays, const py::dict& hyper) {
    SVDppArgs<T> a{};
    a.groups = user_rating_groups(arrays, rows_of(arrays, "user_factors"));
    a.user_factors = inplace_data<T>(arrays, "user_factors");
    a.item_factors = inplace_data<T>(arrays, "item_factors");
    a.implicit_factors = inplace_data<T>(arrays, "implicit_factors");
    a.user_bias = inplace_data<T>(arrays, "user_bias");
    a.item_bias = inplace_data<T>(arrays, "item_bias");
    a.factors = scalar<std::int32_t>(hyper, "factors");
    a.global_bias = scalar<double>(hyper, "global_bias");
    a.learning_rate = scalar<double>(hyper, "learning_rate");
    a.regularization = scalar<double>(hyper, "regularization");
    a.bias_regularization = scalar<double>(hyper, "bias_regularization");
    return a;
}

const Registrar registrar{[](py::module_& m) {
    def_epoch<SVDppArgs>(m, "svdpp_epoch", &KernelTable::svdpp_epoch_f32, &KernelTable::svdpp_epoch_f64,
                         &read_svdpp<float>, &read_svdpp<double>,
                         "One SGD epoch of SVD++ (user-grouped rating pass); returns the epoch loss.");
}};

}  // namespace
}  // namespace socialrec::bind
