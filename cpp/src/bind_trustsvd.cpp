// socialrec._core.trustsvd_epoch
#include "bind_user_groups.hpp"

namespace socialrec::bind {

template <class T>
void read_args(const Dicts& d, TrustSVDArgs<T>& a) {
    SOCIALREC_READ((user_factors)(item_factors)(implicit_factors)(trustee_factors)(user_bias)(item_bias)(groups)
                   (trusters)(edges)(trust_offsets)(trustees)(item_weight)(trustee_weight)(factors)(global_bias)
                   (learning_rate)(regularization)(bias_regularization)(social_regularization));
    // The passes index with these without checks: the factor rows, the rating groups, the trust CSR over the
    // users (also the edges' offsets), one weight per item and per user.
    const std::int64_t n_users = check_factor_matrix(d.arrays, "user_factors", a.factors);
    const std::int64_t n_items = check_factor_matrix(d.arrays, "item_factors", a.factors);
    check_factor_matrix(d.arrays, "implicit_factors", a.factors, n_items);
    check_factor_matrix(d.arrays, "trustee_factors", a.factors, n_users);
    check_biases(d.arrays, n_users, n_items);
    check_user_groups(d.arrays, a.groups, n_users, n_items);
    check_size(d.arrays, "trust_offsets", n_users + 1);
    check_offsets(a.trust_offsets, n_users, a.edges.size, "'trust_offsets' (ending at the number of trust edges)");
    check_size(d.arrays, "trustees", a.edges.size);
    check_ids(a.trustees, a.edges.size, n_users, "trustees");
    check_records(a.edges.records, a.edges.size, n_users, n_users, "edges");
    check_ids(a.trusters.records, a.trusters.size, n_users, "trusters");
    check_size(d.arrays, "item_weight", n_items);
    check_size(d.arrays, "trustee_weight", n_users);
}

SOCIALREC_EPOCH(trustsvd_epoch, TrustSVDArgs,
                "One SGD epoch of TrustSVD (user-grouped rating pass + trust link pass); returns the epoch loss.")

}  // namespace socialrec::bind
