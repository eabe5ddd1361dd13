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

// Fills records[0 .. nnz) and offsets[0 .. B*B] (B = blocks); the caller validated the CSR arrays. Row
// block a owns the rows [ceil(a*n_rows/B), ceil((a+1)*n_rows/B)) and the records of blocks (a, 0..B-1), so
// the row blocks are counted and scattered independently, `threads` at a time (the result does not depend on
// it). A table of the column blocks replaces the 64-bit division per entry.
inline void pack_grid_csr(const CsrView& m, std::int32_t blocks, RatingRecord* records, std::int64_t* offsets,
                          int threads = 1) {
    const std::int64_t B = blocks;
    std::vector<std::int32_t> col_block(static_cast<std::size_t>(m.n_cols));
    for (std::int64_t c = 0; c < m.n_cols; ++c) col_block[c] = std::int32_t(block_of(c, B, m.n_cols));
    auto first_row = [&](std::int64_t a) { return m.n_rows == 0 ? 0 : (a * m.n_rows + B - 1) / B; };
    std::vector<std::int64_t> next(B * B + 1, 0);
    // pass 1: the size of every block (next[id + 1]), one row block per iteration
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (std::int64_t a = 0; a < B; ++a) {
        std::int64_t* count = next.data() + a * B + 1;
        for (std::int64_t j = m.indptr[first_row(a)]; j < m.indptr[first_row(a + 1)]; ++j)
            ++count[col_block[m.indices[j]]];
    }
    for (std::int64_t id = 0; id < B * B; ++id) next[id + 1] += next[id];
    for (std::int64_t id = 0; id <= B * B; ++id) offsets[id] = next[id];
    // pass 2: each record to the next free slot of its block, in CSR order
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (std::int64_t a = 0; a < B; ++a) {
        std::int64_t* slot = next.data() + a * B;
        for (std::int64_t r = first_row(a); r < first_row(a + 1); ++r)
            for (std::int64_t j = m.indptr[r]; j < m.indptr[r + 1]; ++j) {
                const std::int32_t c = m.indices[j];
                records[slot[col_block[c]]++] = RatingRecord{std::int32_t(r), c, m.values[j]};
            }
    }
}

}  // namespace socialrec
