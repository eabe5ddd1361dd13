// socialrec._cuda.rste_epoch: the user-grouped pass (cpp/include/socialrec/models/rste.hpp; the dicts of
// cuda/bindings.hpp).
#include "bindings.hpp"
#include "models/rste.hpp"
#include "socialrec/types.hpp"

namespace socialrec::cuda::bind {
namespace {

EpochPlan read_rste(const py::dict& arrays, const py::dict& hyper) {
    RSTEPassArgs a;
    const std::int64_t n_users = rows_of(arrays, "user_factors"), n_items = rows_of(arrays, "item_factors");
    read_groups(arrays, a, n_users, n_items);  // the groups sit at the top of RSTE's state
    const std::int64_t n_trust = size_of(arrays, "trustees");
    a.trust_offsets = device_offsets(arrays, "trust_offsets", n_users, n_trust);
    a.trustees = device_ids(arrays, "trustees", n_trust, n_users);
    a.trust_weights = device_ptr<const float>(arrays, "trust_weights", n_trust);
    a.storage = storage_of(arrays);
    SOCIALREC_READ_FACTORS(arrays, a, user_factors, item_factors);
    SOCIALREC_READ(hyper, a, factors, global_bias, alpha, learning_rate, regularization);
    if (scalar<bool>(hyper, "biased")) {  // b_u, b_i inside the link (rste.hpp), float32, one per user / item
        SOCIALREC_READ(hyper, a, bias_regularization);
        a.user_bias = device_ptr<float>(arrays, "user_bias", n_users);
        a.item_bias = device_ptr<float>(arrays, "item_bias", n_items);
    }
    a.pass = kRatingPass;
    return {bind_pass(rste_pass, a)};
}

const EpochBinding rste_binding{"rste_epoch", 1, &read_rste,
                           "One RSTE epoch (user-grouped; factors <= SVDPP_MAX_FACTORS); returns the loss."};

}  // namespace
}  // namespace socialrec::cuda::bind
