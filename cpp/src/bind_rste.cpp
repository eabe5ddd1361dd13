// socialrec._core.rste_epoch
#include "bind_args.hpp"
#include "bind_checks.hpp"

namespace socialrec::bind {

template <class T>
void read_args(const Dicts& d, RSTEArgs<T>& a) {
    SOCIALREC_READ((rating_users)(ratings)(rating_offsets)(trust_offsets)(trust_dst)(trust_weight)(user_factors)
                   (item_factors)(factors)(biased)(alpha)(global_bias)(learning_rate)(regularization)
                   (bias_regularization));
    if (a.biased) SOCIALREC_READ((user_bias)(item_bias));  // b_u, b_i (updated in place)
    const std::int64_t n_users = check_factor_matrix(d.arrays, "user_factors", a.factors);
    const std::int64_t n_items = check_factor_matrix(d.arrays, "item_factors", a.factors);
    if (a.biased) check_biases(d.arrays, n_users, n_items);
    read_penalty_weights(d, a, n_users, n_items);
    // the rating groups: users with ratings, their offsets into the records, the records' ids
    check_ids(a.rating_users.records, a.rating_users.size, n_users, "rating_users");
    const std::int64_t n_ratings = size_of(d.arrays, "ratings");
    check_size(d.arrays, "rating_offsets", n_users + 1);
    check_offsets(a.rating_offsets, n_users, n_ratings, "'rating_offsets'");
    check_records(a.ratings, n_ratings, n_users, n_items, "ratings");
    // the trust CSR: S_uv at trust_dst / trust_weight[trust_offsets[u] .. trust_offsets[u + 1])
    const std::int64_t n_edges = size_of(d.arrays, "trust_dst");
    check_size(d.arrays, "trust_offsets", n_users + 1);
    check_size(d.arrays, "trust_weight", n_edges);
    check_offsets(a.trust_offsets, n_users, n_edges, "'trust_offsets'");
    check_ids(a.trust_dst, n_edges, n_users, "trust_dst");
}

SOCIALREC_EPOCH(rste_epoch, RSTEArgs, "One RSTE epoch (ratings grouped by user); returns the epoch loss.")

}  // namespace socialrec::bind
