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
struct RSTEPassArgs : GroupedPassArgs {  // users' ratings; user_factors U
    const std::int64_t* trust_offsets = nullptr;  // n_users + 1: the row-normalised trust matrix S
    const std::int32_t* trustees = nullptr;
    const float* trust_weights = nullptr;
    void* item_factors = nullptr;  // V
    float global_bias = 0, alpha = 0, learning_rate = 0, regularization = 0;
};
void rste_pass(const RSTEPassArgs& args, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream);

}  // namespace socialrec::cuda
