// socialrec._core.dp_sorec_step: one user-level DP-SGD step of SoRec (socialrec/dp_sorec.hpp). Not an SGD epoch
// kernel: compiled once with the bindings. Every index the step reads unchecked is checked here.
#include <string>

#include "bindings.hpp"
#include "socialrec/dp_sorec.hpp"

namespace socialrec::bind {
namespace {

// offsets (n_users + 1, int64) into an index array of n entries each below `bound`.
void check_rows(const std::int64_t* offsets, std::int64_t n_users, const std::int32_t* index, std::int64_t n,
                std::int64_t bound, const char* name) {
    if (offsets[0] != 0 || offsets[n_users] != n)
        throw py::value_error(std::string(name) + "_offsets must start at 0 and end at its number of entries");
    for (std::int64_t u = 0; u < n_users; ++u)
        if (offsets[u + 1] < offsets[u])
            throw py::value_error(std::string(name) + "_offsets must be non-decreasing (at " + std::to_string(u) + ")");
    for (std::int64_t k = 0; k < n; ++k)
        if (index[k] < 0 || index[k] >= bound)
            throw py::index_error(std::string(name) + " entry " + std::to_string(k) + " is out of range");
}

const double* optional_noise(const py::dict& arrays, const char* name, std::int64_t rows, std::int64_t cols) {
    if (!arrays.contains(name) || arrays[name].is_none()) return nullptr;
    const double* data = input_data<double>(arrays, name);
    check_shape(arrays, name, {rows, cols});
    return data;
}

template <class T>
void step(const py::dict& arrays, const py::dict& hyper) {
    DPSoRecStepArgs<T> a{};
    a.factors = scalar<std::int32_t>(hyper, "factors");
    a.biased = scalar<bool>(hyper, "biased");
    if (a.factors <= 0) throw py::value_error("factors must be positive");
    a.user_factors = inplace_data<T>(arrays, "user_factors");
    a.item_factors = inplace_data<T>(arrays, "item_factors");
    a.link_factors = inplace_data<T>(arrays, "link_factors");
    a.n_users = rows_of(arrays, "user_factors");
    a.n_items = rows_of(arrays, "item_factors");
    check_shape(arrays, "user_factors", {a.n_users, a.factors});
    check_shape(arrays, "item_factors", {a.n_items, a.factors});
    check_shape(arrays, "link_factors", {a.n_users, a.factors});
    if (a.biased) {
        a.user_bias = inplace_data<T>(arrays, "user_bias");
        a.item_bias = inplace_data<T>(arrays, "item_bias");
        check_size(arrays, "user_bias", a.n_users);
        check_size(arrays, "item_bias", a.n_items);
    }
    std::int64_t n_ratings = 0, n_edges = 0;
    a.rating_offsets = input_data<std::int64_t>(arrays, "rating_offsets", a.n_users + 1);
    a.items = input_data<std::int32_t>(arrays, "items", &n_ratings);
    a.values = input_data<float>(arrays, "values", n_ratings);
    a.edge_offsets = input_data<std::int64_t>(arrays, "edge_offsets", a.n_users + 1);
    a.trustees = input_data<std::int32_t>(arrays, "trustees", &n_edges);
    a.targets = input_data<double>(arrays, "targets", n_edges);
    a.sampled = input_data<std::int64_t>(arrays, "sampled", &a.n_sampled);
    check_rows(a.rating_offsets, a.n_users, a.items, n_ratings, a.n_items, "rating");
    check_rows(a.edge_offsets, a.n_users, a.trustees, n_edges, a.n_users, "edge");
    for (std::int64_t s = 0; s < a.n_sampled; ++s)
        if (a.sampled[s] < 0 || a.sampled[s] >= a.n_users)
            throw py::index_error("sampled[" + std::to_string(s) + "] = " + std::to_string(a.sampled[s]) +
                                  " is not a user id in [0, " + std::to_string(a.n_users) + ")");
    a.item_noise = optional_noise(arrays, "item_noise", a.n_items, a.factors + (a.biased ? 1 : 0));
    a.link_noise = optional_noise(arrays, "link_noise", a.n_users, a.factors);
    if ((a.item_noise == nullptr) != (a.link_noise == nullptr))
        throw py::value_error("item_noise and link_noise must both be given or both be None");
    a.global_bias = scalar<double>(hyper, "global_bias");
    a.learning_rate = scalar<double>(hyper, "learning_rate");
    a.regularization = scalar<double>(hyper, "regularization");
    a.bias_regularization = scalar<double>(hyper, "bias_regularization");
    a.social_regularization = scalar<double>(hyper, "social_regularization");
    a.clip_norm = scalar<double>(hyper, "clip_norm");
    a.noise_scale = scalar<double>(hyper, "noise_scale");
    if (!(a.clip_norm > 0)) throw py::value_error("clip_norm must be positive");
    py::gil_scoped_release release;
    dp_sorec_step(a);
}

const Registrar registrar{[](py::module_& m) {
    m.def(
        "dp_sorec_step",
        [](const py::dict& arrays, const py::dict& hyper) {
            if (is_float64(arrays))
                step<double>(arrays, hyper);
            else
                step<float>(arrays, hyper);
        },
        py::arg("arrays"), py::arg("hyper"),
        "One user-level DP-SGD step of SoRec in place (socialrec/dp_sorec.hpp): arrays user_factors,\n"
        "item_factors, link_factors (user_bias, item_bias when biased), rating_offsets, edge_offsets (int64,\n"
        "n_users + 1), items, trustees (int32), values (float32 r~), targets (float64), sampled (int64 user ids),\n"
        "item_noise (n_items x (factors + biased)) and link_noise (n_users x factors), float64 or None; hyper\n"
        "factors, biased, global_bias, learning_rate, regularization, bias_regularization, social_regularization,\n"
        "clip_norm, noise_scale (sigma C).");
}};

}  // namespace
}  // namespace socialrec::bind
