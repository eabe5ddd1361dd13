// Ranking metrics @k of top-k lists against held-out items, one row of six values per evaluated user. The
// executable specification is socialrec.reference.ranking.ranking_metrics; the definitions (PEERS.md LastFM
// protocol for NDCG, precision and recall) are spelled out in socialrec.metrics.ranking's docstring.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "socialrec/parallel.hpp"
#include "socialrec/topk_args.hpp"

namespace socialrec {

enum RankingMetric : int { kPrecision = 0, kRecall, kNdcg, kAveragePrecision, kHitRate, kAuc, kRankingMetrics };

struct RankingArgs {
    const std::int64_t* top_ids = nullptr;  // rows x k, best first, -1 pads
    std::int64_t rows = 0, k = 0;
    const std::int64_t* users = nullptr;    // rows: the user of each list
    IdLists test;                           // held-out items per user (the relevant set T_u)
    IdLists exclude;                        // items left out of the ranking per user (S_u); indptr may be null
    std::int64_t n_items = 0;
    double* out = nullptr;                  // rows x kRankingMetrics
    int threads = 1;
};

namespace metrics_detail {

// One user's ids as a sorted range: the CSR row itself when sorted, else a sorted copy in `buffer`.
inline Exclusion sorted_row(const IdLists& lists, std::int64_t u, std::vector<std::int32_t>& buffer) {
    Exclusion e = exclusion_of(lists, u);
    if (std::is_sorted(e.begin, e.end)) return e;
    buffer.assign(e.begin, e.end);
    std::sort(buffer.begin(), buffer.end());
    return {buffer.data(), buffer.data() + buffer.size()};
}

// Number of distinct values of a sorted range inside [0, bound).
inline std::int64_t distinct_in_range(const std::int32_t* first, const std::int32_t* last, std::int64_t bound) {
    std::int64_t count = 0;
    for (const std::int32_t* p = first; p != last; ++p)
        if (*p >= 0 && *p < bound && (p == first || *p != p[-1])) ++count;
    return count;
}

// Number of distinct values of sorted `a` that also appear in sorted `b`.
inline std::int64_t distinct_common(const Exclusion& a, const Exclusion& b) {
    std::int64_t count = 0;
    for (const std::int32_t* p = a.begin; p != a.end; ++p)
        if ((p == a.begin || *p != p[-1]) && b.contains(*p)) ++count;
    return count;
}

}  // namespace metrics_detail

// Fills out[r * 6 + metric] for every list r. AUC is NaN where it is undefined (no positive or no negative
// candidate); the caller averages it over the users where it is defined.
// A failed allocation of a thread's buffers raises std::bad_alloc after the region.
inline void ranking_metrics(const RankingArgs& a) {
    using namespace metrics_detail;
    ParallelErrors errors;
#if defined(_OPENMP)
#pragma omp parallel num_threads(resolve_threads(a.threads))
#endif
    {
        std::vector<std::int32_t> test_buffer, exclude_buffer;
#if defined(_OPENMP)
#pragma omp for schedule(dynamic, 64)
#endif
        for (std::int64_t r = 0; r < a.rows; ++r) errors.run([&] {
            const std::int64_t u = a.users[r];
            const Exclusion relevant = sorted_row(a.test, u, test_buffer);
            const Exclusion excluded = sorted_row(a.exclude, u, exclude_buffer);
            const std::int64_t n_relevant = distinct_in_range(relevant.begin, relevant.end, a.n_items);  // |T_u|
            const std::int64_t n_candidates = a.n_items - distinct_in_range(excluded.begin, excluded.end, a.n_items);
            const std::int64_t n_positive = n_relevant - distinct_common(relevant, excluded);  // |T_u \ S_u|
            const std::int64_t n_negative = n_candidates - n_positive;
            const std::int64_t* list = a.top_ids + r * a.k;

            std::int64_t hits = 0, misses = 0;
            double dcg = 0.0, precision_sum = 0.0, auc_pairs = 0.0;
            for (std::int64_t j = 0; j < a.k && list[j] >= 0; ++j) {
                if (relevant.contains(list[j])) {
                    ++hits;
                    dcg += 1.0 / std::log2(double(j) + 2.0);
                    precision_sum += double(hits) / double(j + 1);  // P@(j+1) at each hit (average precision)
                    auc_pairs += double(n_negative - misses);       // negatives ranked below this positive
                } else {
                    ++misses;
                }
            }
            // Positives outside the list tie with the negatives outside it: each such pair counts 1/2.
            auc_pairs += 0.5 * double(n_positive - hits) * double(n_negative - misses);
            const std::int64_t ideal = std::min(a.k, n_relevant);
            double idcg = 0.0;
            for (std::int64_t j = 0; j < ideal; ++j) idcg += 1.0 / std::log2(double(j) + 2.0);

            double* o = a.out + r * kRankingMetrics;
            o[kPrecision] = double(hits) / double(a.k);
            o[kRecall] = n_relevant > 0 ? double(hits) / double(n_relevant) : 0.0;
            o[kNdcg] = idcg > 0.0 ? dcg / idcg : 0.0;
            o[kAveragePrecision] = ideal > 0 ? precision_sum / double(ideal) : 0.0;
            o[kHitRate] = hits > 0 ? 1.0 : 0.0;
            o[kAuc] = (n_positive > 0 && n_negative > 0) ? auc_pairs / (double(n_positive) * double(n_negative))
                                                         : std::numeric_limits<double>::quiet_NaN();
        });
    }
    errors.rethrow();
}

}  // namespace socialrec
