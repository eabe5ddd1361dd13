// The arguments of the row-wise top-n selection (socialrec/topk.hpp) and the per-row exclusion lists: plain
// data and checks, compiled once with the bindings. The selection itself is a kernel variant (kernel_table.hpp),
// so that the scan uses the widest compare the CPU has.
#pragma once
#include <algorithm>
#include <cstdint>

namespace socialrec {

// Sorted id lists per row of a CSR matrix (indptr int64, indices int32); a row without a list is empty.
struct IdLists {
    const std::int64_t* indptr = nullptr;
    const std::int32_t* indices = nullptr;
    std::int64_t rows = 0;  // number of lists (indptr has rows + 1 entries)
};

template <class T>
struct TopKArgs {
    const T* scores = nullptr;              // rows x cols, row-major: one tile of columns of the score matrix
    std::int64_t rows = 0, cols = 0;
    const T* item_offset = nullptr;         // optional, cols: added to every row before ranking (item bias)
    const std::int64_t* columns = nullptr;  // optional, cols: item id of each column, strictly increasing
    std::int64_t column_start = 0;          // without `columns`: item id of column 0 (ids are consecutive)
    const std::int64_t* row_list = nullptr; // optional, rows: which exclusion list applies to each row
    IdLists exclude;                        // item ids excluded per list, each list sorted ascending
    std::int64_t n = 0;                     // list length
    std::int64_t* best_ids = nullptr;       // rows x n, in/out: best first, -1 pads
    T* best_scores = nullptr;               // rows x n, in/out: -inf pads
    bool merge = false;                     // the best_* lists already hold earlier tiles (of lower ids)
    bool finish = true;                     // sort the lists best first (else leave them unordered for the
                                            // next tile: sorting after every tile costs more than the scan)
    int threads = 1;
};

// Items excluded for one row: a sorted list of ids.
struct Exclusion {
    const std::int32_t* begin = nullptr;
    const std::int32_t* end = nullptr;
    bool contains(std::int64_t id) const { return begin != end && std::binary_search(begin, end, id); }
};

inline Exclusion exclusion_of(const IdLists& lists, std::int64_t list) {
    if (lists.indptr == nullptr) return {};
    return {lists.indices + lists.indptr[list], lists.indices + lists.indptr[list + 1]};
}

// True when every list that `used[0..count)` names is sorted ascending (checked once per call by the binding).
inline bool lists_sorted(const IdLists& lists, const std::int64_t* used, std::int64_t count) {
    for (std::int64_t r = 0; r < count; ++r) {
        const Exclusion e = exclusion_of(lists, used[r]);
        if (!std::is_sorted(e.begin, e.end)) return false;
    }
    return true;
}

}  // namespace socialrec
