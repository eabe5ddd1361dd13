// CUDA: the sampled ranking pass of BPR (cpp/include/socialrec/models/bpr.hpp) and SBPR (sbpr.hpp).
// A plain C++ entry point taking raw device pointers, sizes and a stream (nvcc never sees pybind11); the
// schedule and the loss convention are those of cuda/sgd.cuh, the per-update math is cuda/steps.hpp.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "sgd.hpp"

namespace socialrec::cuda {

// BPR (social_* null) and SBPR: n_samples sampled observations (bpr.hpp, sbpr.hpp, sampling.hpp).
struct RankingPassArgs {
    const std::int64_t* indptr = nullptr;   // n_users + 1: each user's consumed items, sorted
    const std::int32_t* indices = nullptr;
    const std::int32_t* pool_users = nullptr;
    const std::int32_t* pool_items = nullptr;
    std::int64_t n_pool = 0;
    std::int32_t n_items = 0;
    const std::int64_t* social_indptr = nullptr;  // SBPR: social items SP_u (sorted) and counts s_uk
    const std::int32_t* social_items = nullptr;
    const std::int32_t* social_counts = nullptr;
    std::int64_t n_samples = 0;
    void* user_factors = nullptr;
    void* item_factors = nullptr;
    float* item_bias = nullptr;
    std::int32_t factors = 0;
    Storage storage = Storage::float32;
    float learning_rate = 0, regularization = 0, bias_regularization = 0;
    float social_weight = 1;  // SBPR's alpha (sbpr.hpp; 1 = the paper)
    double* loss = nullptr;
};
void ranking_pass(const RankingPassArgs& args, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream);

// The key of an epoch's sample streams: stream_seed(seed, epoch, kSamplePass, 0) (rng.hpp).
std::uint64_t sample_key(std::uint64_t seed, std::int64_t epoch);

}  // namespace socialrec::cuda
