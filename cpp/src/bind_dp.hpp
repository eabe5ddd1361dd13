// Shared checks and registration of the DP-SGD step bindings (bind_dp_sorec.cpp, bind_dp_svdpp.cpp): every
// index a step reads unchecked is checked here first.
#pragma once
#include <string>

#include "bindings.hpp"
#include "socialrec/dp_step.hpp"

namespace socialrec::bind::dp {

// offsets (n_rows + 1) into `n` entries: from 0 to n, non-decreasing; every index[k] in [0, bound).
inline void check_rows(const std::int64_t* offsets, std::int64_t n_rows, const std::int32_t* index, std::int64_t n,
                       std::int64_t bound, const std::string& name) {
    if (offsets[0] != 0 || offsets[n_rows] != n)
        throw py::value_error(name + "_offsets must start at 0 and end at its number of entries");
    for (std::int64_t u = 0; u < n_rows; ++u)
        if (offsets[u + 1] < offsets[u])
            throw py::value_error(name + "_offsets must be non-decreasing (at " + std::to_string(u) + ")");
    for (std::int64_t k = 0; k < n; ++k)
        if (index[k] < 0 || index[k] >= bound)
            throw py::index_error(name + " entry " + std::to_string(k) + " is out of range");
}

// The batch's unit ids, each in [0, n_units).
inline void check_sampled(const std::int64_t* sampled, std::int64_t n_sampled, std::int64_t n_units) {
    for (std::int64_t s = 0; s < n_sampled; ++s)
        if (sampled[s] < 0 || sampled[s] >= n_units)
            throw py::index_error("sampled[" + std::to_string(s) + "] = " + std::to_string(sampled[s]) +
                                  " is not a unit id in [0, " + std::to_string(n_units) + ")");
}

// A float64 rows x cols noise array, or nullptr when absent or None.
inline const double* optional_noise(const py::dict& arrays, const char* name, std::int64_t rows, std::int64_t cols) {
    if (!arrays.contains(name) || arrays[name].is_none()) return nullptr;
    const double* data = input_data<double>(arrays, name);
    check_shape(arrays, name, {rows, cols});
    return data;
}

// The hyper-parameters every step reads (the step's args have these members).
template <class Args>
void read_hyper(const py::dict& hyper, Args& a) {
    a.global_bias = scalar<double>(hyper, "global_bias");
    a.learning_rate = scalar<double>(hyper, "learning_rate");
    a.regularization = scalar<double>(hyper, "regularization");
    a.bias_regularization = scalar<double>(hyper, "bias_regularization");
    a.clip_norm = scalar<double>(hyper, "clip_norm");
    a.noise_scale = scalar<double>(hyper, "noise_scale");
    if (!(a.clip_norm > 0)) throw py::value_error("clip_norm must be positive");
}

// factors, biased (`always_biased`, or the hyper's) and the user and item arrays (factors, and biases when
// biased) of a step's args, checked.
template <class T, class Args>
void read_factors(const py::dict& arrays, const py::dict& hyper, Args& a, bool always_biased) {
    a.factors = scalar<std::int32_t>(hyper, "factors");
    a.biased = always_biased || scalar<bool>(hyper, "biased");
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
}

// The arrays and hyper-parameters of socialrec::dp::UserStepArgs, checked (`biased`: the model's, from hyper
// unless the model is always biased).
template <class T>
void read_user_step(const py::dict& arrays, const py::dict& hyper, socialrec::dp::UserStepArgs<T>& a,
                    bool always_biased) {
    read_factors<T>(arrays, hyper, a, always_biased);
    std::int64_t n_ratings = 0;
    a.rating_offsets = input_data<std::int64_t>(arrays, "rating_offsets", a.n_users + 1);
    a.items = input_data<std::int32_t>(arrays, "items", &n_ratings);
    a.values = input_data<float>(arrays, "values", n_ratings);
    a.sampled = input_data<std::int64_t>(arrays, "sampled", &a.n_sampled);
    check_rows(a.rating_offsets, a.n_users, a.items, n_ratings, a.n_items, "rating");
    check_sampled(a.sampled, a.n_sampled, a.n_users);
    read_hyper(hyper, a);
}

// A rows x cols parameter array of the model's own (in place), checked.
template <class T>
T* matrix(const py::dict& arrays, const char* name, std::int64_t rows, std::int64_t cols) {
    T* data = inplace_data<T>(arrays, name);
    check_shape(arrays, name, {rows, cols});
    return data;
}

// m.<name>(arrays, hyper): `f64` on float64 parameters, else `f32`.
template <class F64, class F32>
void define_step(py::module_& m, const char* name, F64 f64, F32 f32, const char* doc) {
    m.def(
        name,
        [f64, f32](const py::dict& arrays, const py::dict& hyper) {
            if (is_float64(arrays))
                f64(arrays, hyper);
            else
                f32(arrays, hyper);
        },
        py::arg("arrays"), py::arg("hyper"), doc);
}

}  // namespace socialrec::bind::dp
