// Packing of a CSR matrix (ratings, or trust edges with per-edge targets) into the rating grid of sgd.hpp
// (DESIGN §5): row r falls in row block r*B/n_rows, column c in column block c*B/n_cols (integer division),
// block (a, b) is stored at records[offsets[a*B + b] .. offsets[a*B + b + 1]), and inside a block the records
// keep their CSR order. A counting sort: two passes over the CSR arrays, no temporary beyond the B*B
// counters, so packing needs only the records themselves (12 bytes per entry) on top of the input.
// Mirrored by socialrec._engine.pack_grid (NumPy, stable argsort of the block key), which tests compare with.
#pragma once
#include <cstdint>
#include <vector>

#include "socialrec/types.hpp"

namespace socialrec {

struct CsrView {
    const std::int64_t* indptr;  // n_rows + 1, non-decreasing, from 0 to nnz
    const std::int32_t* indices; // nnz column ids in [0, n_cols)
    const float* values;         // nnz values
    std::int64_t n_rows;
    std::int64_t n_cols;
};

inline std::int64_t block_of(std::int64_t index, std::int64_t blocks, std::int64_t n) {
    return index * blocks / n;
}

// Fills records[0 .. nnz) and offsets[0 .. B*B] (B = blocks); the caller validated the CSR arrays.
inline void pack_grid_csr(const CsrView& m, std::int32_t blocks, RatingRecord* records, std::int64_t* offsets) {
    const std::int64_t B = blocks;
    std::vector<std::int64_t> next(B * B + 1, 0);
    for (std::int64_t r = 0; r < m.n_rows; ++r) {
        const std::int64_t row_block = block_of(r, B, m.n_rows) * B;
        for (std::int64_t j = m.indptr[r]; j < m.indptr[r + 1]; ++j)
            ++next[row_block + block_of(m.indices[j], B, m.n_cols) + 1];
    }
    for (std::int64_t id = 0; id < B * B; ++id) next[id + 1] += next[id];
    for (std::int64_t id = 0; id <= B * B; ++id) offsets[id] = next[id];
    for (std::int64_t r = 0; r < m.n_rows; ++r) {
        const std::int64_t row_block = block_of(r, B, m.n_rows) * B;
        for (std::int64_t j = m.indptr[r]; j < m.indptr[r + 1]; ++j) {
            const std::int32_t c = m.indices[j];
            records[next[row_block + block_of(c, B, m.n_cols)]++] = RatingRecord{std::int32_t(r), c, m.values[j]};
        }
    }
}

}  // namespace socialrec
