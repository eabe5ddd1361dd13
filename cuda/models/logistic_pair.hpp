// CUDA: the logistic pair pass (cpp/include/socialrec/models/logistic_pair.hpp): SoRec's rating and link passes,
// SocialMF's rating pass, TrustMF's rating and trust passes.
// A plain C++ entry point taking raw device pointers, sizes and a stream (nvcc never sees pybind11); the
// schedule and the loss convention are those of cuda/sgd.cuh, the per-update math is cuda/steps.hpp.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "sgd.hpp"

namespace socialrec::cuda {

// One logistic pair term's matrices and weights (cpp/include/socialrec/models/logistic_pair.hpp).
struct LogisticSide {
    void* A = nullptr;  // rows indexed by the record's a (Storage)
    void* B = nullptr;  // rows indexed by the record's b
    float data_weight = 1, penalty_weight = 1, offset = 0;
};

struct LogisticPassArgs {
    const std::int32_t* a = nullptr;  // n records (structure of arrays), already shuffled
    const std::int32_t* b = nullptr;
    const float* values = nullptr;    // the targets c
    std::int64_t n = 0;
    LogisticSide sides[2];
    std::int32_t n_sides = 1;  // 1, or 2: both steps on each record, in order (TrustMF)
    std::int32_t factors = 0;
    Storage storage = Storage::float32;
    float learning_rate = 0, regularization = 0;
    std::uint64_t pass = 0;  // pass id of the chunk order (types.hpp PassId)
    double* loss = nullptr;  // one double: set to the pass's summed terms
};
void logistic_pair_pass(const LogisticPassArgs& args, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream);

}  // namespace socialrec::cuda
