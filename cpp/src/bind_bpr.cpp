// socialrec._core.bpr_epoch
#include "bind_args.hpp"

namespace socialrec::bind {

template <class T>
void read_args(const Dicts& d, BPRArgs<T>& a) {
    SOCIALREC_READ((item_bias)(user_factors)(item_factors)(factors)(learning_rate)(regularization)
                   (bias_regularization));
    // The sampler indexes the factor rows with the users and items of the interactions: check both counts.
    const std::int64_t n_items = size_of(d.arrays, "item_bias");
    a.data = interactions(d.arrays, static_cast<std::int32_t>(n_items));
    const std::int64_t n_users = size_of(d.arrays, "indptr") - 1;
    check_shape(d.arrays, "user_factors", {n_users, a.factors});
    check_shape(d.arrays, "item_factors", {n_items, a.factors});
}
// For SBPRArgs::bpr (bind_sbpr.cpp).
template void read_args(const Dicts&, BPRArgs<float>&);
template void read_args(const Dicts&, BPRArgs<double>&);

SOCIALREC_EPOCH(bpr_epoch, BPRArgs, "One BPR epoch of sampled (u, i+, j-) triples; returns the epoch loss.")

}  // namespace socialrec::bind
