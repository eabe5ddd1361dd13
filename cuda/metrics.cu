// CUDA ranking metrics (cuda/metrics.hpp): one warp per top-k list; the lanes share the distinct counts
// (binary searches of the sorted test and exclusion rows) and read the list 32 positions at a time, with the
// hit/miss prefix counts from ballots. The math is cuda/metrics_row.hpp, shared with the host check.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "common.cuh"
#include "hd_team.cuh"
#include "metrics.hpp"
#include "metrics_row.hpp"

namespace socialrec::cuda {
namespace {

constexpr int kListsPerBlock = 8;

__host__ __device__ inline hd::SortedIds row_ids(const std::int64_t* indptr, const std::int32_t* indices,
                                                 std::int64_t u) {
    if (indptr == nullptr) return {};
    return {indices + indptr[u], indptr[u + 1] - indptr[u]};
}

__host__ __device__ inline void metrics_of(const RankingMetricsArgs& a, std::int64_t r, hd::SortedIds& test,
                                           hd::SortedIds& excluded) {
    const std::int64_t u = a.users[r];
    test = row_ids(a.test_indptr, a.test_indices, u);
    excluded = row_ids(a.exclude_indptr, a.exclude_indices, u);
}

__global__ void __launch_bounds__(kListsPerBlock * 32) metrics_kernel(RankingMetricsArgs a) {
    const hd::WarpTeam team{int(threadIdx.x) % detail::kWarp};
    const std::int64_t stride = std::int64_t(gridDim.x) * kListsPerBlock;
    for (std::int64_t r = std::int64_t(blockIdx.x) * kListsPerBlock + threadIdx.x / detail::kWarp; r < a.rows;
         r += stride) {
        hd::SortedIds test, excluded;
        metrics_of(a, r, test, excluded);
        hd::user_ranking_metrics(team, a.top_ids + r * a.k, a.k, test, excluded, a.n_items,
                                 a.out + r * hd::kMetricCount);
    }
}

void check_args(const RankingMetricsArgs& a) {
    if (a.k <= 0) throw std::invalid_argument("ranking_metrics: k must be positive");
    if (a.rows < 0 || a.n_items < 0) throw std::invalid_argument("ranking_metrics: negative sizes");
    if (a.rows > 0 && (!a.top_ids || !a.users || !a.test_indptr || !a.out))
        throw std::invalid_argument("ranking_metrics: null pointer");
    if (a.exclude_indptr != nullptr && a.exclude_indices == nullptr)
        throw std::invalid_argument("ranking_metrics: exclude_indptr without exclude_indices");
}

}  // namespace

void ranking_metrics(const RankingMetricsArgs& a, cudaStream_t stream) {
    check_args(a);
    if (a.rows == 0) return;
    const std::int64_t blocks = std::min<std::int64_t>((a.rows + kListsPerBlock - 1) / kListsPerBlock, 0x7fffffff);
    metrics_kernel<<<unsigned(blocks), kListsPerBlock * 32, 0, stream>>>(a);
    check(cudaGetLastError(), "ranking metrics kernel launch");
}

void host_metrics_ranking(const RankingMetricsArgs& a) {
    check_args(a);
    const hd::SerialTeam team;
    for (std::int64_t r = 0; r < a.rows; ++r) {
        hd::SortedIds test, excluded;
        metrics_of(a, r, test, excluded);
        hd::user_ranking_metrics(team, a.top_ids + r * a.k, a.k, test, excluded, a.n_items,
                                 a.out + r * hd::kMetricCount);
    }
}

}  // namespace socialrec::cuda
