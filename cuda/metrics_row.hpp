// One user's ranking metrics @k, written once for the CUDA kernel (a warp per user, cuda/metrics.cu) and for
// its host-side check (SerialTeam, `host_metrics_ranking`). The definitions and NaN rules are
// cpp/include/socialrec/metrics.hpp's (ranking_metrics), value for value:
//   n_relevant = distinct test items in [0, n_items)           |T_u|
//   n_positive = n_relevant - distinct test items also excluded |T_u \ S_u|
//   n_negative = (n_items - distinct excluded items in range) - n_positive
//   the list is read up to its first negative id (padding); per hit at position j (0-based):
//     dcg += 1/log2(j + 2), precision_sum += hits_so_far/(j + 1), auc_pairs += n_negative - misses_before;
//   auc_pairs += (n_positive - hits)(n_negative - misses)/2; ideal = min(k, n_relevant);
//   precision = hits/k, recall = hits/n_relevant (0 if none), ndcg = dcg/idcg (0 if idcg = 0),
//   AP = precision_sum/ideal (0 if ideal = 0), hit = hits > 0, AUC = auc_pairs/(n_positive n_negative) or NaN
//   when either count is 0.
// The lists of test and excluded items must be sorted ascending (duplicates allowed). Counts are exact; the
// double sums (dcg, idcg, precision_sum) are added in another order than on the CPU (last-bit differences).
#pragma once
#include <cmath>
#include <cstdint>

#include "hd_team.hpp"

namespace socialrec::cuda::hd {

enum : int { kMetricPrecision = 0, kMetricRecall, kMetricNdcg, kMetricAp, kMetricHit, kMetricAuc, kMetricCount };

struct SortedIds {
    const std::int32_t* ids = nullptr;
    std::int64_t n = 0;
};

SOCIALREC_HD bool contains(const SortedIds& s, std::int64_t id) {
    std::int64_t lo = 0, hi = s.n;
    while (lo < hi) {
        const std::int64_t mid = lo + (hi - lo) / 2;
        if (std::int64_t(s.ids[mid]) < id) lo = mid + 1; else hi = mid;
    }
    return lo < s.n && std::int64_t(s.ids[lo]) == id;
}

SOCIALREC_HD double inverse_log2_position(std::int64_t j) { return 1.0 / log2(double(j) + 2.0); }

// Distinct values of sorted `s` inside [0, bound).
SOCIALREC_HD_TEMPLATE
template <class Team>
SOCIALREC_HD std::int64_t distinct_in_range(const Team& t, const SortedIds& s, std::int64_t bound) {
    long long count = 0;
    for (std::int64_t i = t.rank(); i < s.n; i += t.size()) {
        const std::int64_t v = s.ids[i];
        if (v >= 0 && v < bound && (i == 0 || s.ids[i] != s.ids[i - 1])) ++count;
    }
    return t.sum(count);
}

// Distinct values of sorted `a` that also appear in sorted `b`.
SOCIALREC_HD_TEMPLATE
template <class Team>
SOCIALREC_HD std::int64_t distinct_common(const Team& t, const SortedIds& a, const SortedIds& b) {
    long long count = 0;
    for (std::int64_t i = t.rank(); i < a.n; i += t.size())
        if ((i == 0 || a.ids[i] != a.ids[i - 1]) && contains(b, a.ids[i])) ++count;
    return t.sum(count);
}

// Fills out[0..6) (member 0 writes). `list`: k ids, best first, -1 padding. Team size <= 32 (ballots).
SOCIALREC_HD_TEMPLATE
template <class Team>
SOCIALREC_HD void user_ranking_metrics(const Team& t, const std::int64_t* list, std::int64_t k, const SortedIds& relevant,
                                       const SortedIds& excluded, std::int64_t n_items, double* out) {
    const std::int64_t n_relevant = distinct_in_range(t, relevant, n_items);
    const std::int64_t n_candidates = n_items - distinct_in_range(t, excluded, n_items);
    const std::int64_t n_positive = n_relevant - distinct_common(t, relevant, excluded);
    const std::int64_t n_negative = n_candidates - n_positive;
    const std::uint32_t below = lanes_below(t.rank());

    long long hits = 0, misses = 0;
    double dcg = 0.0, precision_sum = 0.0, auc_pairs = 0.0;
    for (std::int64_t base = 0; base < k; base += t.size()) {
        const std::int64_t j = base + t.rank();
        const std::int64_t id = j < k ? list[j] : -1;
        const std::uint32_t ended = t.ballot(id < 0);          // padding (or past k) at these members
        const bool active = id >= 0 && (ended & below) == 0u;  // before the list's first padding
        const bool hit = active && contains(relevant, id);
        const std::uint32_t hit_mask = t.ballot(hit), miss_mask = t.ballot(active && !hit);
        double d = 0.0, p = 0.0, a = 0.0, unused = 0.0;
        if (hit) {
            const long long hits_before = hits + popcount(hit_mask & below);
            const long long misses_before = misses + popcount(miss_mask & below);
            d = inverse_log2_position(j);
            p = double(hits_before + 1) / double(j + 1);
            a = double(n_negative - misses_before);
        }
        t.sum4(d, p, a, unused);
        dcg += d;
        precision_sum += p;
        auc_pairs += a;
        hits += popcount(hit_mask);
        misses += popcount(miss_mask);
        if (ended != 0u) break;  // the same on every member
    }
    auc_pairs += 0.5 * double(n_positive - hits) * double(n_negative - misses);
    const std::int64_t ideal = k < n_relevant ? k : n_relevant;
    double idcg = 0.0;
    for (std::int64_t j = t.rank(); j < ideal; j += t.size()) idcg += inverse_log2_position(j);
    idcg = t.sum(idcg);

    if (t.rank() == 0) {
        out[kMetricPrecision] = double(hits) / double(k);
        out[kMetricRecall] = n_relevant > 0 ? double(hits) / double(n_relevant) : 0.0;
        out[kMetricNdcg] = idcg > 0.0 ? dcg / idcg : 0.0;
        out[kMetricAp] = ideal > 0 ? precision_sum / double(ideal) : 0.0;
        out[kMetricHit] = hits > 0 ? 1.0 : 0.0;
        out[kMetricAuc] = (n_positive > 0 && n_negative > 0)
                              ? auc_pairs / (double(n_positive) * double(n_negative))
                              : double(NAN);
    }
}

}  // namespace socialrec::cuda::hd
