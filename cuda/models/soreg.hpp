// CUDA: SoReg SR2's edge pass (cpp/include/socialrec/models/soreg.hpp); SR1 is social_mf.cu's mean-pull pass
// and the rating pass is biased_mf.cu's PMF pass.
// A plain C++ entry point taking raw device pointers, sizes and a stream (nvcc never sees pybind11); the
// schedule and the loss convention are those of cuda/sgd.cuh, the per-update math is cuda/steps.hpp.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "sgd.hpp"

namespace socialrec::cuda {

// SoReg SR2: records (u, f, Sim), one step on U per record (soreg.hpp SoRegEdgeStep).
struct EdgePassArgs {
    const std::int32_t* a = nullptr;
    const std::int32_t* b = nullptr;
    const float* values = nullptr;  // Sim(u, f)
    std::int64_t n = 0;
    void* user_factors = nullptr;
    std::int32_t factors = 0;
    Storage storage = Storage::float32;
    float learning_rate = 0, social_regularization = 0;  // gamma, beta
    std::uint64_t pass = 0;
    double* loss = nullptr;
};
void soreg_edge_pass(const EdgePassArgs& args, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream);

}  // namespace socialrec::cuda
