// User-user similarity over co-rated items, one value per trust edge (Ma, Zhou, Liu, Lyu, King, "Recommender
// systems with social regularization", WSDM 2011, Section 4, similarity functions):
//
//   VSS(u, f) = sum_{i in I(u) & I(f)} r_ui r_fi / ( sqrt(sum_i r_ui^2) sqrt(sum_i r_fi^2) )     
//   PCC(u, f) = sum_i (r_ui - m_u)(r_fi - m_f) / ( sqrt(sum_i (r_ui - m_u)^2) sqrt(sum_i (r_fi - m_f)^2) )
//
// with every sum over the co-rated items only and m_u the mean of all of u's ratings (the paper's r-bar).
// PCC is mapped to [0, 1] by (1 + PCC) / 2, as the paper does. A pair without co-rated items, or with a zero
// denominator (PCC of constant raters), has similarity 0: its edge then carries no social term.
// Mirrored by socialrec/reference/soreg.py (edge_similarity); sums run in ascending item order, in double.
#pragma once
#include <cmath>
#include <cstdint>

#include "socialrec/parallel.hpp"

namespace socialrec {

enum class SimilarityKind : int { kVSS = 0, kPCC = 1 };

// CSR ratings (rows sorted by column), edges (src[e], dst[e]); writes out[e]. Parallel over edges.
inline void edge_similarity(const std::int64_t* indptr, const std::int32_t* indices, const float* values,
                            const std::int32_t* src, const std::int32_t* dst, std::int64_t n_edges,
                            SimilarityKind kind, double* out, int threads) {
    auto row_mean = [&](std::int32_t u) {
        const std::int64_t n = indptr[u + 1] - indptr[u];
        double s = 0.0;
        for (std::int64_t k = indptr[u]; k < indptr[u + 1]; ++k) s += double(values[k]);
        return n > 0 ? s / double(n) : 0.0;
    };
#pragma omp parallel for num_threads(resolve_threads(threads)) schedule(dynamic, 256)
    for (std::int64_t e = 0; e < n_edges; ++e) {
        const std::int32_t u = src[e], f = dst[e];
        const double mu = kind == SimilarityKind::kPCC ? row_mean(u) : 0.0;
        const double mf = kind == SimilarityKind::kPCC ? row_mean(f) : 0.0;
        double num = 0.0, su = 0.0, sf = 0.0;
        // Merge the two sorted item lists: only co-rated items enter the sums.
        std::int64_t a = indptr[u], b = indptr[f];
        const std::int64_t a_end = indptr[u + 1], b_end = indptr[f + 1];
        while (a < a_end && b < b_end) {
            if (indices[a] < indices[b]) {
                ++a;
            } else if (indices[b] < indices[a]) {
                ++b;
            } else {
                const double x = double(values[a]) - mu, y = double(values[b]) - mf;
                num += x * y;
                su += x * x;
                sf += y * y;
                ++a;
                ++b;
            }
        }
        const double den = std::sqrt(su) * std::sqrt(sf);
        if (den > 0.0) {
            const double s = num / den;
            out[e] = kind == SimilarityKind::kPCC ? (1.0 + s) / 2.0 : s;
        } else {
            out[e] = 0.0;
        }
    }
}

}  // namespace socialrec
