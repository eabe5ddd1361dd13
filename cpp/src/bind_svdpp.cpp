// socialrec._core.svdpp_epoch
#include "bind_user_groups.hpp"

namespace socialrec::bind {

template <class T>
void read_args(const Dicts& d, SVDppArgs<T>& a) {
    SOCIALREC_READ((user_factors)(item_factors)(implicit_factors)(user_bias)(item_bias)(groups)(factors)(global_bias)
                   (learning_rate)(regularization)(bias_regularization));
    const std::int64_t n_users = check_factor_matrix(d.arrays, "user_factors", a.factors);
    const std::int64_t n_items = check_factor_matrix(d.arrays, "item_factors", a.factors);
    check_factor_matrix(d.arrays, "implicit_factors", a.factors, n_items);
    check_biases(d.arrays, n_users, n_items);
    check_user_groups(d.arrays, a.groups, n_users, n_items);
    read_penalty_weights(d, a, n_users, n_items);
}

SOCIALREC_EPOCH(svdpp_epoch, SVDppArgs, "One SGD epoch of SVD++ (user-grouped rating pass); returns the epoch loss.")

}  // namespace socialrec::bind
