// socialrec._core.biased_mf_epoch
#include "bindings.hpp"

namespace socialrec::bind {
namespace {

template <class T>
BiasedMFArgs<T> read_biased_mf(const py::dict& arrays, const py::dict& hyper) {
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
    // optional (absent: the constant schedule), so that callers written before the schedule keep working
    a.adaptive = hyper.contains("adaptive") && scalar<bool>(hyper, "adaptive");
    if (a.adaptive) {  // RPCS accumulators: one per factor row, training state owned by the caller
        a.user_accumulators = inplace_data<T>(arrays, "user_accumulators");
        a.item_accumulators = inplace_data<T>(arrays, "item_accumulators");
        check_shape(arrays, "user_accumulators", {rows_of(arrays, "user_factors")});
        check_shape(arrays, "item_accumulators", {rows_of(arrays, "item_factors")});
    }
    a.global_bias = scalar<double>(hyper, "global_bias");
    a.learning_rate = scalar<double>(hyper, "learning_rate");
    a.regularization = scalar<double>(hyper, "regularization");
    a.bias_regularization = scalar<double>(hyper, "bias_regularization");
    return a;
}

const Registrar registrar{[](py::module_& m) {
    def_epoch<BiasedMFArgs>(m, "biased_mf_epoch", &KernelTable::biased_mf_epoch_f32, &KernelTable::biased_mf_epoch_f64,
                            &read_biased_mf<float>, &read_biased_mf<double>,
                            "One SGD epoch of BiasedMF/PMF over the rating grid; returns the epoch loss.");
}};

}  // namespace
}  // namespace socialrec::bind
