// CUDA ranking metrics @k (mirrors cpp/include/socialrec/metrics.hpp ranking_metrics): plain C++ entry
// points with raw pointers, sizes and a stream.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace socialrec::cuda {

struct RankingMetricsArgs {
    const std::int64_t* top_ids = nullptr;  // rows x k, best first, -1 padding
    std::int64_t rows = 0, k = 0;
    const std::int64_t* users = nullptr;    // rows: the CSR row (user) of each list
    // Held-out items per user (T_u) and items left out of the ranking (S_u; null indptr: none), CSR with
    // int64 offsets and int32 ids, each row sorted ascending (duplicates allowed).
    const std::int64_t* test_indptr = nullptr;
    const std::int32_t* test_indices = nullptr;
    const std::int64_t* exclude_indptr = nullptr;
    const std::int32_t* exclude_indices = nullptr;
    std::int64_t n_items = 0;
    double* out = nullptr;                  // rows x 6: precision, recall, ndcg, AP, hit, AUC (NaN: undefined)
};

// Asynchronous on `stream`: one warp per list. Throws std::invalid_argument / CudaError.
void ranking_metrics(const RankingMetricsArgs& args, cudaStream_t stream);

// The same per-user computation run serially on the host (same template, cuda/metrics_row.hpp), on host
// pointers: the device-free check against socialrec._core.ranking_metrics.
void host_metrics_ranking(const RankingMetricsArgs& args);

}  // namespace socialrec::cuda
