// socialrec._core.social_mf_epoch
#include "bind_args.hpp"
#include "bind_checks.hpp"

namespace socialrec::bind {

template <class T>
void read_args(const Dicts& d, SocialMFArgs<T>& a) {
    SOCIALREC_READ((grid)(user_factors)(item_factors)(trusters)(trust_offsets)(trustees)(trust_weights)(factors)
                   (global_bias)(learning_rate)(regularization)(social_regularization)(biased));
    if (a.biased) SOCIALREC_READ((user_bias)(item_bias)(bias_regularization));
    // The kernel indexes with these without checks: validate them once here.
    const std::int64_t users = check_factor_matrix(d.arrays, "user_factors", a.factors);
    const std::int64_t items = check_factor_matrix(d.arrays, "item_factors", a.factors);
    check_grid(a.grid, users, items, "grid");
    if (a.biased) check_biases(d.arrays, users, items);
    read_penalty_weights(d, a, users, items);
    const std::int64_t n_edges = size_of(d.arrays, "trustees");
    if (size_of(d.arrays, "trust_offsets") != users + 1 || size_of(d.arrays, "trust_weights") != n_edges)
        throw py::value_error("trust_offsets / trustees / trust_weights do not form an n_users x n_users CSR");
    check_offsets(a.trust_offsets, users, n_edges, "'trust_offsets'");
    check_ids(a.trustees, n_edges, users, "trustees");
    check_ids(a.trusters.records, a.trusters.size, users, "trusters");
}

SOCIALREC_EPOCH(social_mf_epoch, SocialMFArgs,
                "One SGD epoch of SocialMF (rating grid, then the user pass); returns the epoch loss.")

}  // namespace socialrec::bind
