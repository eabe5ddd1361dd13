// socialrec._core.trustmf_epoch
#include "bind_args.hpp"
#include "bind_checks.hpp"

namespace socialrec::bind {

// grid: the ratings; trust_grid: the trust edges (a sub-dict); the truster model, then the trustee model;
// the biases only when biased
template <class T>
void read_args(const Dicts& d, TrustMFArgs<T>& a) {
    SOCIALREC_READ((grid)(trust_grid)(user_factors)(item_factors)(trustee_factors)(trustee_user_factors)
                   (trustee_item_factors)(trustee_truster_factors)(factors)(global_bias)(learning_rate)
                   (regularization)(trust_regularization)(biased));
    if (a.biased)
        SOCIALREC_READ((user_bias)(item_bias)(trustee_user_bias)(trustee_item_bias)(bias_regularization));
    const std::int64_t n_users = check_factor_matrix(d.arrays, "user_factors", a.factors);
    const std::int64_t n_items = check_factor_matrix(d.arrays, "item_factors", a.factors);
    for (const char* key : {"trustee_factors", "trustee_user_factors", "trustee_truster_factors"})
        check_factor_matrix(d.arrays, key, a.factors, n_users);
    check_factor_matrix(d.arrays, "trustee_item_factors", a.factors, n_items);
    check_grid(a.grid, n_users, n_items, "grid");
    check_grid(a.trust_grid, n_users, n_users, "trust_grid");
    if (a.biased) {
        check_biases(d.arrays, n_users, n_items);
        check_size(d.arrays, "trustee_user_bias", n_users);
        check_size(d.arrays, "trustee_item_bias", n_items);
    }
    read_penalty_weights(d, a, n_users, n_items);
}

SOCIALREC_EPOCH(trustmf_epoch, TrustMFArgs,
                "One TrustMF epoch (truster and trustee models, rating and trust passes, all stratified); "
                "returns the epoch loss.")

}  // namespace socialrec::bind
