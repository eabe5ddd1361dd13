// socialrec._core.als_block_solve, als_gramian_partials and gramian_chunk_bounds: the blocked ALS / SocialALS
// of socialrec.distributed (socialrec/models/als_blocks.hpp). Every array the kernels index is checked here.
#include <string>
#include <vector>

#include "bind_args.hpp"
#include "bind_csr.hpp"

namespace socialrec::bind {
namespace {

// Rows of a factors-wide matrix held in arrays[key] (its size must be a multiple of factors).
std::int64_t factor_rows(const py::dict& arrays, const char* key, std::int32_t factors) {
    const std::int64_t size = size_of(arrays, key);
    if (size % factors != 0)
        throw py::value_error(std::string("'") + key + "' has " + std::to_string(size) +
                              " entries, not a multiple of factors = " + std::to_string(factors));
    return size / factors;
}

}  // namespace

template <class T>
void read_args(const Dicts& d, ALSBlockArgs<T>& a) {
    SOCIALREC_READ((factors)(solver)(block_factors)(fixed_factors)(gramian)(want_loss)(social_regularization));
    if (a.factors <= 0) throw py::value_error("factors must be positive");
    const std::int64_t n_fixed = factor_rows(d.arrays, "fixed_factors", a.factors);
    a.rows = csr_rows(d.arrays, "rows", n_fixed);
    check_size(d.arrays, "block_factors", a.rows.rows * a.factors);
    check_size(d.arrays, "gramian", std::int64_t(a.factors) * a.factors);
    if (a.social_regularization != 0.0) {
        SOCIALREC_READ((neighbours));
        a.similarity = csr_rows(d.arrays, "similarity", factor_rows(d.arrays, "neighbours", a.factors));
        if (a.similarity.rows != a.rows.rows)
            throw py::value_error("'similarity_indptr' must have one entry more than the block has rows");
    }
}

template <class T>
void read_args(const Dicts& d, ALSGramianArgs<T>& a) {
    SOCIALREC_READ((factors)(block_factors)(first)(total)(partials));
    if (a.factors <= 0) throw py::value_error("factors must be positive");
    a.rows = factor_rows(d.arrays, "block_factors", a.factors);
    if (a.first < 0 || a.first + a.rows > a.total) throw py::value_error("the block's rows lie outside [0, total)");
    // the block must start and end on chunk boundaries: count the chunks it covers
    std::int64_t chunks = 0;
    bool starts = false, ends = false;
    for (std::int64_t c = 0; c <= gramian_chunks(a.total); ++c) {
        const std::int64_t bound = gramian_chunk_begin(a.total, c);
        starts = starts || bound == a.first;
        ends = ends || bound == a.first + a.rows;
        if (c < gramian_chunks(a.total) && bound >= a.first && gramian_chunk_begin(a.total, c + 1) <= a.first + a.rows)
            ++chunks;
    }
    if (!starts || !ends)
        throw py::value_error("the block [" + std::to_string(a.first) + ", " + std::to_string(a.first + a.rows) +
                              ") does not start and end on Gramian chunk boundaries (gramian_chunk_bounds)");
    check_size(d.arrays, "partials", chunks * a.factors * a.factors);
}

namespace {
const Registrar als_blocks_registrar{[](py::module_& m) {
    def_epoch<ALSBlockArgs>(m, "als_block_solve", &KernelTable::als_block_solve_f32, &KernelTable::als_block_solve_f64,
                            "Solves one block of ALS / SocialALS rows in place against the fixed rows it needs and the "
                            "whole fixed side's Gramian; returns the rows' terms of the objective (want_loss) or 0.",
                            "block_factors");
    def_epoch<ALSGramianArgs>(m, "als_gramian_partials", &KernelTable::als_gramian_partials_f32,
                              &KernelTable::als_gramian_partials_f64,
                              "Writes the partial Gramians of the chunks a block of rows covers (in chunk order); "
                              "returns their count.",
                              "block_factors");
    m.def(
        "gramian_chunk_bounds",
        [](std::int64_t n) {
            if (n < 0) throw py::value_error("n must be non-negative");
            std::vector<std::int64_t> bounds;
            for (std::int64_t c = 0; c <= gramian_chunks(n); ++c) bounds.push_back(gramian_chunk_begin(n, c));
            return py::array_t<std::int64_t>(py::ssize_t(bounds.size()), bounds.data());
        },
        py::arg("n"), "The first row of each chunk of the ALS Gramian of n rows, and n (chunks + 1 entries).");
}};
}  // namespace

}  // namespace socialrec::bind
