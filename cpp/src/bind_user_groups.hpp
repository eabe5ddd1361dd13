// Reads the user-grouped rating layout shared by SVD++ and TrustSVD (python/socialrec/models/svdpp.py builds it).
#pragma once
#include "bindings.hpp"

namespace socialrec::bind {

// arrays: 'rating_users' (int32, users with ratings), 'rating_records' (records sorted by user),
// 'rating_offsets' (int64, n_users + 1; user u's records at [off[u], off[u+1])).
inline UserRatingGroups user_rating_groups(const py::dict& arrays, std::int64_t n_users) {
    UserRatingGroups groups{};
    groups.users = typed_records<std::int32_t>(arrays, "rating_users");
    const FlatList<RatingRecord> records = typed_records<RatingRecord>(arrays, "rating_records");
    groups.ratings = records.records;
    groups.offsets = input_data<std::int64_t>(arrays, "rating_offsets", n_users + 1);
    if (groups.offsets[n_users] != records.size)
        throw py::value_error("'rating_offsets' does not end at the number of rating records");
    return groups;
}

}  // namespace socialrec::bind
