// CUDA SGD passes (mirrors cpp/include/socialrec/sgd.hpp): plain C++ entry points taking raw device
// pointers, sizes and a stream; no Python headers (nvcc never sees pybind11). cuda/module.cpp binds them.
//
// Rating pass, batch-Hogwild (Xie et al., "CuMF_SGD", HPDC 2017, sec. 4): the records are shuffled once
// per fit (shuffle_keys + a sort done by the caller); every epoch, warps take chunks of 32 consecutive
// records in an order that is a bijection of the chunk index drawn from (seed, epoch), and one warp
// performs one update at a time. Concurrent updates of one row by different warps are not locked (Hogwild,
// Recht et al. NIPS 2011), so results are not bit-reproducible; they reach the CPU model's RMSE (tests/gpu).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace socialrec::cuda {

// How factor rows are stored on the device. Compute is always float32.
enum class Storage : std::int32_t { float32 = 0, float16 = 1 };

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
void biased_mf_sgd_epoch(const BiasedMFDeviceArgs& args, std::uint64_t seed, std::int64_t epoch,
                         cudaStream_t stream);

// keys[i] = a 64-bit hash of (seed, i); sorting records by these keys gives the once-per-fit shuffle.
void shuffle_keys(std::uint64_t* keys, std::int64_t n, std::uint64_t seed, cudaStream_t stream);

// Chunk order of one epoch: chunk(t) = (a * t + b) mod chunks, a coprime to chunks (a bijection on
// [0, chunks)). Exposed for tests (module.cpp binds it).
struct ChunkOrder {
    std::uint64_t chunks = 0, a = 1, b = 0;
};
// `pass` is the CPU passes' pass id (socialrec/types.hpp PassId), so that the rating and the link pass of one
// epoch visit their chunks in unrelated orders.
ChunkOrder epoch_chunk_order(std::int64_t n_records, std::uint64_t seed, std::int64_t epoch,
                             std::uint64_t pass = 0);

}  // namespace socialrec::cuda
