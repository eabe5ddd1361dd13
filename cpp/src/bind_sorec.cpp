// socialrec._core.sorec_epoch
#include "bind_args.hpp"
#include "bind_checks.hpp"

namespace socialrec::bind {

// grid: the ratings; link_grid: the packed trust edges (a sub-dict); the biases only when biased
template <class T>
void read_args(const Dicts& d, SoRecArgs<T>& a) {
    SOCIALREC_READ((grid)(link_grid)(user_factors)(item_factors)(link_factors)(factors)(global_bias)(learning_rate)
                   (regularization)(social_regularization)(biased));
    if (a.biased) SOCIALREC_READ((user_bias)(item_bias)(bias_regularization));
    const std::int64_t n_users = check_factor_matrix(d.arrays, "user_factors", a.factors);
    const std::int64_t n_items = check_factor_matrix(d.arrays, "item_factors", a.factors);
    check_factor_matrix(d.arrays, "link_factors", a.factors, n_users);
    check_grid(a.grid, n_users, n_items, "grid");
    check_grid(a.link_grid, n_users, n_users, "link_grid");
    if (a.biased) check_biases(d.arrays, n_users, n_items);
    read_penalty_weights(d, a, n_users, n_items);
}

SOCIALREC_EPOCH(sorec_epoch, SoRecArgs,
                "One SGD epoch of SoRec (rating grid, then trust-edge grid); returns the epoch loss.")

}  // namespace socialrec::bind
