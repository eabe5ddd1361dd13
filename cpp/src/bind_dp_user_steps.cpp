// socialrec._core.dp_sorec_step and dp_svdpp_step: one user-level DP-SGD step of SoRec (socialrec/dp_sorec.hpp)
// and of SVD++ (socialrec/dp_svdpp.hpp). Not SGD epoch kernels: compiled once with the bindings. Every index a
// step reads unchecked is checked here (bind_dp.hpp).
#include "bind_dp.hpp"
#include "bindings.hpp"
#include "socialrec/dp_sorec.hpp"
#include "socialrec/dp_svdpp.hpp"

namespace socialrec::bind {
namespace {

template <class T>
void sorec_step(const py::dict& arrays, const py::dict& hyper) {
    DPSoRecStepArgs<T> a{};
    dp::read_user_step<T>(arrays, hyper, a, false);
    a.link_factors = dp::matrix<T>(arrays, "link_factors", a.n_users, a.factors);
    std::int64_t n_edges = 0;
    a.edge_offsets = input_data<std::int64_t>(arrays, "edge_offsets", a.n_users + 1);
    a.trustees = input_data<std::int32_t>(arrays, "trustees", &n_edges);
    a.targets = input_data<double>(arrays, "targets", n_edges);
    dp::check_rows(a.edge_offsets, a.n_users, a.trustees, n_edges, a.n_users, "edge");
    a.item_noise = dp::optional_noise(arrays, "item_noise", a.n_items, a.factors + (a.biased ? 1 : 0));
    a.link_noise = dp::optional_noise(arrays, "link_noise", a.n_users, a.factors);
    if ((a.item_noise == nullptr) != (a.link_noise == nullptr))
        throw py::value_error("item_noise and link_noise must both be given or both be None");
    a.social_regularization = scalar<double>(hyper, "social_regularization");
    py::gil_scoped_release release;
    dp_sorec_step(a);
}

template <class T>
void svdpp_step(const py::dict& arrays, const py::dict& hyper) {
    DPSVDppStepArgs<T> a{};
    dp::read_user_step<T>(arrays, hyper, a, true);
    a.implicit_factors = dp::matrix<T>(arrays, "implicit_factors", a.n_items, a.factors);
    a.noise = dp::optional_noise(arrays, "noise", a.n_items, 2 * std::int64_t(a.factors) + 1);
    py::gil_scoped_release release;
    dp_svdpp_step(a);
}

const Registrar dp_user_steps_registrar{[](py::module_& m) {
    dp::define_step(m, "dp_sorec_step", sorec_step<double>, sorec_step<float>,
                    "One user-level DP-SGD step of SoRec in place (socialrec/dp_sorec.hpp): arrays\n"
                    "user_factors, item_factors, link_factors (user_bias, item_bias when biased), rating_offsets,\n"
                    "edge_offsets (int64, n_users + 1), items, trustees (int32), values (float32 r~), targets\n"
                    "(float64), sampled (int64 user ids), item_noise (n_items x (factors + biased)) and link_noise\n"
                    "(n_users x factors), float64 or None; hyper factors, biased, global_bias, learning_rate,\n"
                    "regularization, bias_regularization, social_regularization, clip_norm, noise_scale (sigma C).");
    dp::define_step(m, "dp_svdpp_step", svdpp_step<double>, svdpp_step<float>,
                    "One user-level DP-SGD step of SVD++ in place (socialrec/dp_svdpp.hpp): arrays\n"
                    "user_factors, item_factors, implicit_factors, user_bias, item_bias, rating_offsets (int64,\n"
                    "n_users + 1), items (int32), values (float32), sampled (int64 user ids), noise (float64\n"
                    "n_items x (2 factors + 1), or None); hyper factors, global_bias, learning_rate,\n"
                    "regularization, bias_regularization, clip_norm, noise_scale (sigma C).");
}};

}  // namespace
}  // namespace socialrec::bind
