// CUDA: the BiasedMF / PMF rating pass (cpp/include/socialrec/models/biased_mf.hpp); SoReg's rating pass is
// this PMF pass on r - mu. A plain C++ entry point taking raw device pointers, sizes and a stream.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "sgd.hpp"

namespace socialrec::cuda {

// BiasedMF / PMF, the same objective and step as cpp/include/socialrec/models/biased_mf.hpp.
struct BiasedMFDeviceArgs {
    const std::int32_t* users = nullptr;  // n records (structure of arrays), already shuffled
    const std::int32_t* items = nullptr;
    const float* values = nullptr;
    std::int64_t n = 0;
    void* user_factors = nullptr;  // n_users x factors, row-major, Storage
    void* item_factors = nullptr;  // n_items x factors
    float* user_bias = nullptr;    // n_users (unused when !biased)
    float* item_bias = nullptr;    // n_items (unused when !biased)
    std::int32_t factors = 0;
    Storage storage = Storage::float32;
    bool biased = true;
    float global_bias = 0, learning_rate = 0, regularization = 0, bias_regularization = 0;
    double* loss = nullptr;  // one double: set to the epoch's summed objective terms
};

// One epoch; asynchronous on `stream` (the loss is valid once the stream reaches this point).
// Throws std::invalid_argument for bad sizes and CudaError for launch failures.
void biased_mf_pass(const BiasedMFDeviceArgs& args, std::uint64_t seed, std::int64_t epoch,
                         cudaStream_t stream);

}  // namespace socialrec::cuda
