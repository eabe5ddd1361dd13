// Reads the user-grouped rating layout shared by SVD++ and TrustSVD (python/socialrec/_engine.py builds it).
#pragma once
#include "bind_args.hpp"

namespace socialrec::bind {

// arrays: 'rating_users' (int32, users with ratings), 'rating_records' (records sorted by user),
// 'rating_offsets' (int64, n_users + 1; user u's records at [off[u], off[u+1])), n_users being the rows of
// 'user_factors'.
inline void read_args(const Dicts& d, UserRatingGroups& a) {
    SOCIALREC_READ((rating_users)(rating_records)(rating_offsets));
    const std::int64_t n_users = rows_of(d.arrays, "user_factors");
    check_size(d.arrays, "rating_offsets", n_users + 1);
    if (a.rating_offsets[n_users] != size_of(d.arrays, "rating_records"))
        throw py::value_error("'rating_offsets' does not end at the number of rating records");
}

}  // namespace socialrec::bind
