// socialrec._core.sbpr_epoch
#include "bind_args.hpp"

namespace socialrec::bind {

template <class T>
void read_args(const Dicts& d, BPRArgs<T>& a);  // bind_bpr.cpp

template <class T>
void read_args(const Dicts& d, SBPRArgs<T>& a) {
    SOCIALREC_READ((bpr)(social_weight)(social_indptr)(social_items)(social_counts));
    if (!(a.social_weight >= 0 && a.social_weight <= 1)) throw py::value_error("'social_weight' must be in [0, 1]");
    // SP_u as CSR rows over the users of the interactions, with one count per social item
    const std::int64_t n_users = size_of(d.arrays, "indptr") - 1, n_social = size_of(d.arrays, "social_items");
    if (size_of(d.arrays, "social_indptr") != n_users + 1)
        throw py::value_error("'social_indptr' must have n_users + 1 entries");
    if (size_of(d.arrays, "social_counts") != n_social)
        throw py::value_error("'social_counts' and 'social_items' differ in length");
    check_sorted_csr(a.social_indptr, n_users, a.social_items, n_social, a.bpr.data.n_items, "social items");
    for (std::int64_t r = 0; r < n_social; ++r)
        if (a.social_counts[r] < 1) throw py::value_error("'social_counts' must be positive");
}

SOCIALREC_EPOCH(sbpr_epoch, SBPRArgs, "One SBPR epoch of sampled (u, i+, k social, j-) observations; returns the epoch loss.")

}  // namespace socialrec::bind
