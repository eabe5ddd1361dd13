// Drawing implicit-feedback observations for the sampled models (BPR, SBPR); mirrored by
// socialrec/reference/bpr.py. Every draw comes from the chunk's SplitMix64 stream (rng.hpp, sgd.hpp
// sampled_pass), in this order:
//   positive pair:  r = below(n_pool); (u, i) = (pool_users[r], pool_items[r])      -- one draw
//   negative item:  j = below(n_items), drawn again while j is in one of the excluded sorted lists
//                   (rejection sampling: j is uniform over the items outside them)
#pragma once
#include <algorithm>
#include <cstdint>

#include "socialrec/isa.hpp"
#include "socialrec/rng.hpp"
#include "socialrec/sorted_search.hpp"

namespace socialrec {

// The training interactions: each user's items as a sorted CSR row, and the pool the positive pairs are
// drawn from (every interaction of a user who has at least one item outside their row).
struct Interactions {
    const std::int64_t* indptr;      // n_users + 1
    const std::int32_t* indices;     // sorted within each row
    const std::int32_t* pool_users;  // n_pool
    const std::int32_t* pool_items;  // n_pool
    std::int64_t n_pool;
    std::int32_t n_items;
};

// A sorted list of item indices (one CSR row).
struct ItemRow {
    const std::int32_t* first;
    std::int64_t size;
    bool contains(std::int32_t item) const { return sorted_contains(first, size, item); }
};

}  // namespace socialrec

SOCIALREC_KERNELS_BEGIN

inline ItemRow user_row(const Interactions& data, std::int32_t user) {
    const std::int64_t begin = data.indptr[user];
    return {data.indices + begin, data.indptr[std::int64_t(user) + 1] - begin};
}

struct PositivePair {
    std::int32_t user, item;
};

inline PositivePair draw_positive(const Interactions& data, SplitMix64& gen) {
    const auto r = static_cast<std::int64_t>(gen.below(std::uint64_t(data.n_pool)));
    return {data.pool_users[r], data.pool_items[r]};
}

// Uniform item outside `a` and `b` (b may be empty). The caller guarantees such an item exists.
inline std::int32_t draw_outside(std::int32_t n_items, const ItemRow& a, const ItemRow& b, SplitMix64& gen) {
    for (;;) {
        const auto j = static_cast<std::int32_t>(gen.below(std::uint64_t(n_items)));
        if (!a.contains(j) && !b.contains(j)) return j;
    }
}

SOCIALREC_KERNELS_END
