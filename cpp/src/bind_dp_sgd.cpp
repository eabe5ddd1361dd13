// socialrec._core.dp_mf_step: one DP-SGD step of BiasedMF / PMF (socialrec/dp_sgd.hpp). Not an SGD epoch
// kernel: compiled once with the bindings. Every index the step reads unchecked is checked here.
#include <string>

#include "bind_dp.hpp"
#include "bindings.hpp"
#include "socialrec/dp_sgd.hpp"

namespace socialrec::bind {
namespace {

template <class T>
void step(const py::dict& arrays, const py::dict& hyper) {
    DPMFStepArgs<T> a{};
    dp::read_factors<T>(arrays, hyper, a, false);
    std::int64_t n_offsets = 0, n_ratings = 0;
    a.unit_offsets = input_data<std::int64_t>(arrays, "unit_offsets", &n_offsets);
    a.users = input_data<std::int32_t>(arrays, "users", &n_ratings);
    a.items = input_data<std::int32_t>(arrays, "items", n_ratings);
    a.values = input_data<float>(arrays, "values", n_ratings);
    a.sampled = input_data<std::int64_t>(arrays, "sampled", &a.n_sampled);
    const std::int64_t n_units = n_offsets - 1;
    if (n_units < 0 || a.unit_offsets[0] != 0 || a.unit_offsets[n_units] != n_ratings)
        throw py::value_error("unit_offsets must start at 0 and end at the number of ratings");
    for (std::int64_t j = 0; j < n_units; ++j)
        if (a.unit_offsets[j + 1] < a.unit_offsets[j])
            throw py::value_error("unit_offsets must be non-decreasing (at " + std::to_string(j) + ")");
    dp::check_sampled(a.sampled, a.n_sampled, n_units);
    for (std::int64_t k = 0; k < n_ratings; ++k)
        if (a.users[k] < 0 || a.users[k] >= a.n_users || a.items[k] < 0 || a.items[k] >= a.n_items)
            throw py::index_error("rating " + std::to_string(k) + " has a user or item id out of range");
    a.noise = dp::optional_noise(arrays, "noise", a.n_items, a.factors + (a.biased ? 1 : 0));
    dp::read_hyper(hyper, a);
    py::gil_scoped_release release;
    dp_mf_step(a);
}

const Registrar dp_sgd_registrar{[](py::module_& m) {
    dp::define_step(
        m, "dp_mf_step", step<double>, step<float>,
        "One DP-SGD step of BiasedMF / PMF in place (socialrec/dp_sgd.hpp): arrays user_factors, item_factors\n"
        "(user_bias, item_bias when biased), unit_offsets (int64), users, items (int32), values (float32),\n"
        "sampled (int64 unit ids), noise (float64 n_items x (factors + biased), or None); hyper factors, biased,\n"
        "global_bias, learning_rate, regularization, bias_regularization, clip_norm, noise_scale (sigma C).");
}};

}  // namespace
}  // namespace socialrec::bind
