// socialrec._core.dp_svdpp_step: one user-level DP-SGD step of SVD++ (socialrec/dp_svdpp.hpp). Not an SGD epoch
// kernel: compiled once with the bindings. Every index the step reads unchecked is checked here.
#include <string>

#include "bindings.hpp"
#include "socialrec/dp_svdpp.hpp"

namespace socialrec::bind {
namespace {

template <class T>
void step(const py::dict& arrays, const py::dict& hyper) {
    DPSVDppStepArgs<T> a{};
    a.factors = scalar<std::int32_t>(hyper, "factors");
    if (a.factors <= 0) throw py::value_error("factors must be positive");
    a.user_factors = inplace_data<T>(arrays, "user_factors");
    a.item_factors = inplace_data<T>(arrays, "item_factors");
    a.implicit_factors = inplace_data<T>(arrays, "implicit_factors");
    a.user_bias = inplace_data<T>(arrays, "user_bias");
    a.item_bias = inplace_data<T>(arrays, "item_bias");
    a.n_users = rows_of(arrays, "user_factors");
    a.n_items = rows_of(arrays, "item_factors");
    check_shape(arrays, "user_factors", {a.n_users, a.factors});
    check_shape(arrays, "item_factors", {a.n_items, a.factors});
    check_shape(arrays, "implicit_factors", {a.n_items, a.factors});
    check_size(arrays, "user_bias", a.n_users);
    check_size(arrays, "item_bias", a.n_items);
    std::int64_t n_ratings = 0;
    a.rating_offsets = input_data<std::int64_t>(arrays, "rating_offsets", a.n_users + 1);
    a.items = input_data<std::int32_t>(arrays, "items", &n_ratings);
    a.values = input_data<float>(arrays, "values", n_ratings);
    a.sampled = input_data<std::int64_t>(arrays, "sampled", &a.n_sampled);
    if (a.rating_offsets[0] != 0 || a.rating_offsets[a.n_users] != n_ratings)
        throw py::value_error("rating_offsets must start at 0 and end at the number of ratings");
    for (std::int64_t u = 0; u < a.n_users; ++u)
        if (a.rating_offsets[u + 1] < a.rating_offsets[u])
            throw py::value_error("rating_offsets must be non-decreasing (at " + std::to_string(u) + ")");
    for (std::int64_t k = 0; k < n_ratings; ++k)
        if (a.items[k] < 0 || a.items[k] >= a.n_items)
            throw py::index_error("rating " + std::to_string(k) + " has an item id out of range");
    for (std::int64_t s = 0; s < a.n_sampled; ++s)
        if (a.sampled[s] < 0 || a.sampled[s] >= a.n_users)
            throw py::index_error("sampled[" + std::to_string(s) + "] = " + std::to_string(a.sampled[s]) +
                                  " is not a user id in [0, " + std::to_string(a.n_users) + ")");
    if (!arrays.contains("noise") || arrays["noise"].is_none()) {
        a.noise = nullptr;
    } else {
        a.noise = input_data<double>(arrays, "noise");
        check_shape(arrays, "noise", {a.n_items, 2 * std::int64_t(a.factors) + 1});
    }
    a.global_bias = scalar<double>(hyper, "global_bias");
    a.learning_rate = scalar<double>(hyper, "learning_rate");
    a.regularization = scalar<double>(hyper, "regularization");
    a.bias_regularization = scalar<double>(hyper, "bias_regularization");
    a.clip_norm = scalar<double>(hyper, "clip_norm");
    a.noise_scale = scalar<double>(hyper, "noise_scale");
    if (!(a.clip_norm > 0)) throw py::value_error("clip_norm must be positive");
    py::gil_scoped_release release;
    dp_svdpp_step(a);
}

const Registrar registrar{[](py::module_& m) {
    m.def(
        "dp_svdpp_step",
        [](const py::dict& arrays, const py::dict& hyper) {
            if (is_float64(arrays))
                step<double>(arrays, hyper);
            else
                step<float>(arrays, hyper);
        },
        py::arg("arrays"), py::arg("hyper"),
        "One user-level DP-SGD step of SVD++ in place (socialrec/dp_svdpp.hpp): arrays user_factors,\n"
        "item_factors, implicit_factors, user_bias, item_bias, rating_offsets (int64, n_users + 1), items (int32),\n"
        "values (float32), sampled (int64 user ids), noise (float64 n_items x (2 factors + 1), or None); hyper\n"
        "factors, global_bias, learning_rate, regularization, bias_regularization, clip_norm, noise_scale.");
}};

}  // namespace
}  // namespace socialrec::bind
