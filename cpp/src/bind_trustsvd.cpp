// socialrec._core.trustsvd_epoch
#include "bind_user_groups.hpp"

namespace socialrec::bind {

template <class T>
void read_args(const Dicts& d, TrustSVDArgs<T>& a) {
    SOCIALREC_READ((user_factors)(item_factors)(implicit_factors)(trustee_factors)(user_bias)(item_bias)(groups)
                   (trusters)(edges)(trust_offsets)(trustees)(item_weight)(trustee_weight)(factors)(global_bias)
                   (learning_rate)(regularization)(bias_regularization)(social_regularization));
    // The passes index with these without checks: the trust CSR over the users (also the edges' offsets), one
    // weight per item and per user.
    const std::int64_t n_users = rows_of(d.arrays, "user_factors");
    check_size(d.arrays, "trust_offsets", n_users + 1);
    check_size(d.arrays, "trustees", a.trust_offsets[n_users]);
    if (a.trust_offsets[n_users] != a.edges.size)
        throw py::value_error("'trust_offsets' does not end at the number of trust edges");
    check_size(d.arrays, "item_weight", rows_of(d.arrays, "item_factors"));
    check_size(d.arrays, "trustee_weight", n_users);
}

SOCIALREC_EPOCH(trustsvd_epoch, TrustSVDArgs,
                "One SGD epoch of TrustSVD (user-grouped rating pass + trust link pass); returns the epoch loss.")

}  // namespace socialrec::bind
