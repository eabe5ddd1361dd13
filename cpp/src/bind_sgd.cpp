// Bindings of the SGD epoch kernels: each takes (arrays, hyper, settings) dicts, updates the parameter
// arrays in place without the GIL, and returns the epoch's loss.
#include "bindings.hpp"

namespace socialrec::bind {

namespace {

template <class T>
double biased_mf_epoch(const py::dict& arrays, const py::dict& hyper, const py::dict& settings) {
    BiasedMFArgs<T> a{};
    a.grid = rating_grid(arrays);
    a.user_factors = inplace_data<T>(arrays, "user_factors");
    a.item_factors = inplace_data<T>(arrays, "item_factors");
    a.biased = scalar<bool>(hyper, "biased");
    if (a.biased) {
        a.user_bias = inplace_data<T>(arrays, "user_bias");
        a.item_bias = inplace_data<T>(arrays, "item_bias");
    }
    a.factors = scalar<std::int32_t>(hyper, "factors");
    a.global_bias = scalar<double>(hyper, "global_bias");
    a.learning_rate = scalar<double>(hyper, "learning_rate");
    a.regularization = scalar<double>(hyper, "regularization");
    a.bias_regularization = scalar<double>(hyper, "bias_regularization");
    const PassSettings s = pass_settings(settings);
    if constexpr (std::is_same_v<T, float>) return without_gil([&] { return kernels().biased_mf_epoch_f32(a, s); });
    else return without_gil([&] { return kernels().biased_mf_epoch_f64(a, s); });
}

// Registers name(arrays, hyper, settings) dispatching on the dtype of arrays['user_factors'].
template <class F32, class F64>
void def_epoch(py::module_& m, const char* name, F32 f32, F64 f64, const char* doc) {
    m.def(
        name,
        [f32, f64](const py::dict& arrays, const py::dict& hyper, const py::dict& settings) {
            return is_float64(arrays) ? f64(arrays, hyper, settings) : f32(arrays, hyper, settings);
        },
        py::arg("arrays"), py::arg("hyper"), py::arg("settings"), doc);
}

}  // namespace

void bind_sgd(py::module_& m) {
    def_epoch(m, "biased_mf_epoch", &biased_mf_epoch<float>, &biased_mf_epoch<double>,
              "One SGD epoch of BiasedMF/PMF over the rating grid; returns the epoch loss.");
}

}  // namespace socialrec::bind
