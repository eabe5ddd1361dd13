// The blocked ALS / SocialALS of socialrec.distributed: one block of rows solved on a worker, and the partial
// Gramians of one block of the fixed side. Both run the single-machine code of socialrec/als.hpp on a subset
// (no formula of their own), so a blocked fit gives the bits of ALS / SocialALS's epoch:
//   - als_gramian_partials: the partial Gramians of the chunks (gramian_chunks) that a block of rows covers;
//     the driver adds every chunk's partial in chunk order, as gramian() does;
//   - als_block_solve: als_solve_rows on the block's rows, against the fixed rows the block needs (its
//     in-links, in ascending id order, so each row visits its entries in the single-machine order), with
//     SocialALS's GraphLaplacianTerm reading the neighbours' rows from before the half-step (Jacobi).
#pragma once
#include <cstdint>

#include "socialrec/als.hpp"
#include "socialrec/models/social_als.hpp"
#include "socialrec/types.hpp"

namespace socialrec {

template <class T>
struct ALSBlockArgs {
    CsrRows rows;                  // the block's rows; columns index fixed_factors
    T* block_factors;              // rows.rows x factors, solved in place
    const T* fixed_factors;        // the other side's rows the block needs (in-links), ascending ids
    const T* gramian;              // factors x factors: the whole other side's Gramian
    std::int32_t factors;
    ALSSolver solver;
    bool want_loss;                // return the block's rows' terms of the objective
    double social_regularization;  // beta; 0 (plain ALS, or SocialALS with beta = 0): no graph term
    CsrRows similarity;            // rows.rows rows: S_uf; columns index neighbours (only when beta != 0)
    const T* neighbours;           // the neighbours' rows from before the half-step, ascending ids
};

template <class T>
struct ALSGramianArgs {
    const T* block_factors;  // rows [first, first + rows) of a side of `total` rows, factors columns
    std::int64_t rows, first, total;
    T* partials;             // one factors x factors partial per chunk of the block, in chunk order
    std::int32_t factors;
};

}  // namespace socialrec

SOCIALREC_KERNELS_BEGIN

template <class T>
double als_block_solve(const ALSBlockArgs<T>& a, const PassSettings& settings) {
    return dispatch_dim(a.factors, [&](auto dim) {
        if (a.social_regularization == 0.0)
            return als_solve_rows(a.rows, a.block_factors, a.fixed_factors, a.gramian, dim, a.solver, NoRowTerm{},
                                  a.want_loss, settings);
        GraphLaplacianTerm<T> term{a.similarity, a.neighbours, T(a.social_regularization)};
        return als_solve_rows(a.rows, a.block_factors, a.fixed_factors, a.gramian, dim, a.solver, term, a.want_loss,
                              settings);
    });
}

// The block's rows must start and end on chunk boundaries (checked by the binding). Returns the chunk count.
template <class T>
double als_gramian_partials(const ALSGramianArgs<T>& a, const PassSettings&) {
    return dispatch_dim(a.factors, [&](auto dim) {
        const std::int64_t kk = std::int64_t(a.factors) * a.factors;
        std::int64_t written = 0;
        for (std::int64_t c = 0; c < gramian_chunks(a.total); ++c) {
            const std::int64_t begin = gramian_chunk_begin(a.total, c), end = gramian_chunk_begin(a.total, c + 1);
            if (begin < a.first || end > a.first + a.rows) continue;
            T* P = a.partials + written * kk;
            for (std::int64_t e = 0; e < kk; ++e) P[e] = T(0);
            gramian_chunk(a.block_factors, begin - a.first, end - a.first, dim, P);
            ++written;
        }
        return double(written);
    });
}

SOCIALREC_KERNELS_END
