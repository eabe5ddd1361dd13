// socialrec._core.social_mf_epoch
#include "bind_args.hpp"

namespace socialrec::bind {

template <class T>
void read_args(const Dicts& d, SocialMFArgs<T>& a) {
    SOCIALREC_READ((grid)(user_factors)(item_factors)(trusters)(trust_offsets)(trustees)(trust_weights)(factors)
                   (global_bias)(learning_rate)(regularization)(social_regularization)(biased));
    if (a.biased) SOCIALREC_READ((user_bias)(item_bias)(bias_regularization));
    // The kernel indexes with these without checks: validate the CSR once here.
    const std::int64_t users = rows_of(d.arrays, "user_factors"), n_edges = size_of(d.arrays, "trustees");
    if (size_of(d.arrays, "trust_offsets") != users + 1 || a.trust_offsets[0] != 0 ||
        a.trust_offsets[users] != n_edges || size_of(d.arrays, "trust_weights") != n_edges)
        throw py::value_error("trust_offsets / trustees / trust_weights do not form an n_users x n_users CSR");
    for (std::int64_t e = 0; e < n_edges; ++e)
        if (a.trustees[e] < 0 || a.trustees[e] >= users)
            throw py::index_error("trustees[" + std::to_string(e) + "] = " + std::to_string(a.trustees[e]) +
                                  " is out of range");
    for (std::int64_t r = 0; r < a.trusters.size; ++r)
        if (a.trusters.records[r] < 0 || a.trusters.records[r] >= users)
            throw py::index_error("trusters[" + std::to_string(r) + "] is out of range");
}

SOCIALREC_EPOCH(social_mf_epoch, SocialMFArgs,
                "One SGD epoch of SocialMF (rating grid, then the user pass); returns the epoch loss.")

}  // namespace socialrec::bind
