// CUDA: RSTE's user-grouped pass (cpp/include/socialrec/models/rste.hpp RSTEUserStep).
// A plain C++ entry point taking raw device pointers, sizes and a stream (nvcc never sees pybind11); the
// schedule and the loss convention are those of cuda/sgd.cuh, the per-update math is cuda/steps.hpp.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "sgd.hpp"

namespace socialrec::cuda {

// RSTE's user-grouped pass (rste.hpp RSTEUserStep): one warp per user with ratings; U_u, the neighbours' sum
// N_u and the out-neighbours' gradient stay in registers for the group (factors <= kSVDppMaxFactors).
struct RSTEPassArgs {
    const std::int32_t* users = nullptr;  // n users with at least one rating, already shuffled
    std::int64_t n = 0;
    const std::int64_t* offsets = nullptr;  // n_users + 1: u's ratings at items/values[offsets[u] .. [u + 1])
    const std::int32_t* items = nullptr;
    const float* values = nullptr;          // r~ in [0, 1]
    const std::int64_t* trust_offsets = nullptr;  // n_users + 1: the row-normalised trust matrix S
    const std::int32_t* trustees = nullptr;
    const float* trust_weights = nullptr;
    void* user_factors = nullptr;
    void* item_factors = nullptr;
    std::int32_t factors = 0;
    Storage storage = Storage::float32;
    float global_bias = 0, alpha = 0, learning_rate = 0, regularization = 0;
    std::uint64_t pass = 0;
    double* loss = nullptr;
};
void rste_pass(const RSTEPassArgs& args, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream);

}  // namespace socialrec::cuda
