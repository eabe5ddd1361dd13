// socialrec._core.sorec_epoch
#include "bindings.hpp"

namespace socialrec::bind {
namespace {

template <class T>
SoRecArgs<T> read_sorec(const py::dict& arrays, const py::dict& hyper) {
    SoRecArgs<T> a{};
    a.grid = rating_grid(arrays);
    if (!arrays.contains("link_grid")) throw py::key_error("missing 'link_grid' (the packed trust edges)");
    a.link_grid = rating_grid(arrays["link_grid"].cast<py::dict>());
    a.user_factors = inplace_data<T>(arrays, "user_factors");
    a.item_factors = inplace_data<T>(arrays, "item_factors");
    a.link_factors = inplace_data<T>(arrays, "link_factors");
    a.factors = scalar<std::int32_t>(hyper, "factors");
    a.global_bias = scalar<double>(hyper, "global_bias");
    a.learning_rate = scalar<double>(hyper, "learning_rate");
    a.regularization = scalar<double>(hyper, "regularization");
    a.social_regularization = scalar<double>(hyper, "social_regularization");
    return a;
}

const Registrar registrar{[](py::module_& m) {
    def_epoch<SoRecArgs>(m, "sorec_epoch", &KernelTable::sorec_epoch_f32, &KernelTable::sorec_epoch_f64,
                         &read_sorec<float>, &read_sorec<double>,
                         "One SGD epoch of SoRec (rating grid, then trust-edge grid); returns the epoch loss.");
}};

}  // namespace
}  // namespace socialrec::bind
