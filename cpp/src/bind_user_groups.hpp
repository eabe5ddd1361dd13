// Reads the user-grouped rating layout shared by SVD++ and TrustSVD (python/socialrec/_engine.py builds it).
#pragma once
#include "bind_args.hpp"
#include "bind_checks.hpp"

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

// What the grouped passes index: the group users, each group's offsets, the records' user and item ids
// (call after the factor matrices gave n_users and n_items).
inline void check_user_groups(const py::dict& arrays, const UserRatingGroups& a, std::int64_t n_users,
                              std::int64_t n_items) {
    check_ids(a.rating_users.records, a.rating_users.size, n_users, "rating_users");
    const std::int64_t n_records = size_of(arrays, "rating_records");
    check_offsets(a.rating_offsets, n_users, n_records, "'rating_offsets'");
    check_records(a.rating_records, n_records, n_users, n_items, "rating_records");
}

}  // namespace socialrec::bind
