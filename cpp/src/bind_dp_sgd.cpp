// socialrec._core.dp_mf_step: one DP-SGD step of BiasedMF / PMF (socialrec/dp_sgd.hpp). Not an SGD epoch
// kernel: compiled once with the bindings. Every index the step reads unchecked is checked here.
#include <string>

#include "bindings.hpp"
#include "socialrec/dp_sgd.hpp"

namespace socialrec::bind {
namespace {

template <class T>
void step(const py::dict& arrays, const py::dict& hyper) {
    DPMFStepArgs<T> a{};
    a.factors = scalar<std::int32_t>(hyper, "factors");
    a.biased = scalar<bool>(hyper, "biased");
    if (a.factors <= 0) throw py::value_error("factors must be positive");
    a.user_factors = inplace_data<T>(arrays, "user_factors");
    a.item_factors = inplace_data<T>(arrays, "item_factors");
    a.n_users = rows_of(arrays, "user_factors");
    a.n_items = rows_of(arrays, "item_factors");
    check_shape(arrays, "user_factors", {a.n_users, a.factors});
    check_shape(arrays, "item_factors", {a.n_items, a.factors});
    if (a.biased) {
        a.user_bias = inplace_data<T>(arrays, "user_bias");
        a.item_bias = inplace_data<T>(arrays, "item_bias");
        check_size(arrays, "user_bias", a.n_users);
        check_size(arrays, "item_bias", a.n_items);
    }
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
    for (std::int64_t s = 0; s < a.n_sampled; ++s)
        if (a.sampled[s] < 0 || a.sampled[s] >= n_units)
            throw py::index_error("sampled[" + std::to_string(s) + "] = " + std::to_string(a.sampled[s]) +
                                  " is not a unit id in [0, " + std::to_string(n_units) + ")");
    for (std::int64_t k = 0; k < n_ratings; ++k)
        if (a.users[k] < 0 || a.users[k] >= a.n_users || a.items[k] < 0 || a.items[k] >= a.n_items)
            throw py::index_error("rating " + std::to_string(k) + " has a user or item id out of range");
    if (!arrays.contains("noise") || arrays["noise"].is_none()) {
        a.noise = nullptr;
    } else {
        a.noise = input_data<double>(arrays, "noise");
        check_shape(arrays, "noise", {a.n_items, a.factors + (a.biased ? 1 : 0)});
    }
    a.global_bias = scalar<double>(hyper, "global_bias");
    a.learning_rate = scalar<double>(hyper, "learning_rate");
    a.regularization = scalar<double>(hyper, "regularization");
    a.bias_regularization = scalar<double>(hyper, "bias_regularization");
    a.clip_norm = scalar<double>(hyper, "clip_norm");
    a.noise_scale = scalar<double>(hyper, "noise_scale");
    if (!(a.clip_norm > 0)) throw py::value_error("clip_norm must be positive");
    py::gil_scoped_release release;
    dp_mf_step(a);
}

const Registrar dp_sgd_registrar{[](py::module_& m) {
    m.def(
        "dp_mf_step",
        [](const py::dict& arrays, const py::dict& hyper) {
            if (is_float64(arrays))
                step<double>(arrays, hyper);
            else
                step<float>(arrays, hyper);
        },
        py::arg("arrays"), py::arg("hyper"),
        "One DP-SGD step of BiasedMF / PMF in place (socialrec/dp_sgd.hpp): arrays user_factors, item_factors\n"
        "(user_bias, item_bias when biased), unit_offsets (int64), users, items (int32), values (float32),\n"
        "sampled (int64 unit ids), noise (float64 n_items x (factors + biased), or None); hyper factors, biased,\n"
        "global_bias, learning_rate, regularization, bias_regularization, clip_norm, noise_scale (sigma C).");
}};

}  // namespace
}  // namespace socialrec::bind
