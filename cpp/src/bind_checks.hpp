// Checks of what an epoch kernel indexes without checking (issue 22 item 5): factor matrices against the
// `factors` setting, bias lengths, record ids within the factor rows, offsets arrays that never go back. Run
// by the read_args of each binding (with the GIL, once per epoch call, outside the kernels' loops): the
// kernels are reachable with arrays from an unpickled or loaded model, not only from fit.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>

#include "bindings.hpp"

namespace socialrec::bind {

// Raises ValueError unless arrays[key] is a 2-D (rows x factors) array and factors >= 1; returns rows when
// rows < 0 (any row count: the matrix that defines n_users or n_items).
std::int64_t check_factor_matrix(const py::dict& arrays, const char* key, std::int32_t factors,
                                 std::int64_t rows = -1);

// Raises IndexError unless every ids[0..n) is in [0, bound).
void check_ids(const std::int32_t* ids, std::int64_t n, std::int64_t bound, const char* what);

// Raises ValueError unless offsets[0..n] starts at 0, never decreases and ends at `end` (n + 1 entries: the
// caller checked the array's length).
void check_offsets(const std::int64_t* offsets, std::int64_t n, std::int64_t end, const char* what);

// The two ids of a record: (user, item) of a rating, (src, dst) of a trust edge.
inline std::int32_t first_id(const RatingRecord& r) { return r.user; }
inline std::int32_t second_id(const RatingRecord& r) { return r.item; }
inline std::int32_t first_id(const EdgeRecord& e) { return e.src; }
inline std::int32_t second_id(const EdgeRecord& e) { return e.dst; }

// Raises IndexError unless each record's two ids are in [0, rows) x [0, cols).
template <class Record>
void check_records(const Record* records, std::int64_t n, std::int64_t rows, std::int64_t cols, const char* what) {
    // One branch-free pass for the largest ids as unsigned numbers (a negative id becomes a large one): this
    // runs before every epoch, so it stays a vectorised reduction (about 0.7 ns per record, 1-3% of an SGD
    // epoch); only a failure looks again for the first bad record to name it.
    std::uint32_t most_first = 0, most_second = 0;
    for (std::int64_t r = 0; r < n; ++r) {
        most_first = std::max(most_first, std::uint32_t(first_id(records[r])));
        most_second = std::max(most_second, std::uint32_t(second_id(records[r])));
    }
    if (n == 0 || (most_first < std::uint64_t(rows) && most_second < std::uint64_t(cols))) return;
    for (std::int64_t r = 0; r < n; ++r) {
        const std::int32_t a = first_id(records[r]), b = second_id(records[r]);
        if (a < 0 || a >= rows || b < 0 || b >= cols)
            throw py::index_error(std::string(what) + " record " + std::to_string(r) + " = (" + std::to_string(a) +
                                  ", " + std::to_string(b) + ") is outside [0, " + std::to_string(rows) + ") x [0, " +
                                  std::to_string(cols) + ")");
    }
}

// A rating grid whose offsets never go back and whose records index a rows x cols matrix.
void check_grid(const RatingGrid& grid, std::int64_t rows, std::int64_t cols, const char* what);

// The bias vectors 'user_bias' (n_users entries) and 'item_bias' (n_items) of a biased model.
void check_biases(const py::dict& arrays, std::int64_t n_users, std::int64_t n_items);

}  // namespace socialrec::bind
