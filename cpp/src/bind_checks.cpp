// The epoch kernels' input checks (bind_checks.hpp).
#include "bind_checks.hpp"

#include <algorithm>

namespace socialrec::bind {

std::int64_t check_factor_matrix(const py::dict& arrays, const char* key, std::int32_t factors, std::int64_t rows) {
    if (factors < 1) throw py::value_error("'factors' must be at least 1, got " + std::to_string(factors));
    const auto array = arrays[key].cast<py::array>();
    if (array.ndim() != 2 || array.shape(1) != factors || (rows >= 0 && array.shape(0) != rows))
        throw py::value_error(std::string("'") + key + "' must be a (" + (rows >= 0 ? std::to_string(rows) : "rows") +
                              ", " + std::to_string(factors) + ") matrix (factors=" + std::to_string(factors) +
                              "), got shape " + std::string(py::str(array.attr("shape"))));
    return array.shape(0);
}

void check_ids(const std::int32_t* ids, std::int64_t n, std::int64_t bound, const char* what) {
    std::uint32_t most = 0;  // the largest id as an unsigned number (a negative id becomes a large one)
    for (std::int64_t r = 0; r < n; ++r) most = std::max(most, std::uint32_t(ids[r]));
    if (n == 0 || most < std::uint64_t(bound)) return;
    for (std::int64_t r = 0; r < n; ++r)
        if (ids[r] < 0 || ids[r] >= bound)
            throw py::index_error(std::string(what) + "[" + std::to_string(r) + "] = " + std::to_string(ids[r]) +
                                  " is outside [0, " + std::to_string(bound) + ")");
}

void check_offsets(const std::int64_t* offsets, std::int64_t n, std::int64_t end, const char* what) {
    if (offsets[0] != 0 || offsets[n] != end)
        throw py::value_error(std::string(what) + " must start at 0 and end at " + std::to_string(end));
    for (std::int64_t r = 0; r < n; ++r)
        if (offsets[r + 1] < offsets[r])
            throw py::value_error(std::string(what) + " decreases at entry " + std::to_string(r));
}

void check_grid(const RatingGrid& grid, std::int64_t rows, std::int64_t cols, const char* what) {
    const std::int64_t n_blocks = std::int64_t(grid.blocks) * grid.blocks;  // rating_grid checked the length
    const std::int64_t n_records = grid.offsets[n_blocks];
    check_offsets(grid.offsets, n_blocks, n_records, (std::string(what) + " 'offsets'").c_str());
    check_records(grid.records, n_records, rows, cols, what);
}

void check_biases(const py::dict& arrays, std::int64_t n_users, std::int64_t n_items) {
    check_size(arrays, "user_bias", n_users);
    check_size(arrays, "item_bias", n_items);
}

}  // namespace socialrec::bind
