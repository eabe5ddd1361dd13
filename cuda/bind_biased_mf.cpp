// socialrec._cuda.biased_mf_epoch: the dicts of socialrec._core.biased_mf_epoch, CuPy arrays (cuda/bindings.hpp).
#include "bindings.hpp"
#include "models/biased_mf.hpp"

namespace socialrec::cuda::bind {
namespace {

EpochPlan read_biased_mf(const py::dict& arrays, const py::dict& hyper) {
    BiasedMFDeviceArgs a;
    a.n = size_of(arrays, "values");
    const std::int64_t n_users = rows_of(arrays, "user_factors"), n_items = rows_of(arrays, "item_factors");
    a.users = device_ids(arrays, "users", a.n, n_users);
    a.items = device_ids(arrays, "items", a.n, n_items);
    a.values = device_ptr<const float>(arrays, "values", a.n);
    SOCIALREC_READ(hyper, a, factors, biased, global_bias, learning_rate, regularization, bias_regularization);
    a.storage = storage_of(arrays);
    SOCIALREC_READ_FACTORS(arrays, a, user_factors, item_factors);
    if (a.biased) {
        a.user_bias = device_ptr<float>(arrays, "user_bias", n_users);
        a.item_bias = device_ptr<float>(arrays, "item_bias", n_items);
    }
    return {bind_pass(biased_mf_pass, a)};
}

const EpochBinding biased_mf_binding{"biased_mf_epoch", 1, &read_biased_mf,
                           "One BiasedMF/PMF epoch (batch-Hogwild SGD over the shuffled records users, items, values); "
                           "waits for `stream` and returns the epoch loss."};

}  // namespace
}  // namespace socialrec::cuda::bind
