// CUDA: the mean-pull user pass (cpp/include/socialrec/models/social_mf.hpp): SocialMF's user pass and SoReg SR1.
// A plain C++ entry point taking raw device pointers, sizes and a stream (nvcc never sees pybind11); the
// schedule and the loss convention are those of cuda/sgd.cuh, the per-update math is cuda/steps.hpp.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "sgd.hpp"

namespace socialrec::cuda {

// SocialMF's user pass (weights T_uv, lambda_T) and SoReg SR1 (weights Sim / sum Sim, beta): each listed user
// u is pulled towards the weighted mean of its neighbours offsets[u] .. offsets[u + 1] (steps.hpp mean_pull).
struct MeanPullArgs {
    const std::int32_t* users = nullptr;  // n users with at least one neighbour, already shuffled
    std::int64_t n = 0;
    const std::int64_t* offsets = nullptr;     // n_users + 1
    const std::int32_t* neighbours = nullptr;
    const float* weights = nullptr;            // summing to 1 over each user's neighbours
    void* user_factors = nullptr;
    std::int32_t factors = 0;
    Storage storage = Storage::float32;
    float learning_rate = 0, weight = 0;  // gamma, lambda_T (SocialMF) or beta (SoReg)
    std::uint64_t pass = 0;
    double* loss = nullptr;
};
void mean_pull_pass(const MeanPullArgs& args, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream);

}  // namespace socialrec::cuda
