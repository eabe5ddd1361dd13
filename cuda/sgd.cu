// The host side of the CUDA SGD driver (sgd.hpp): the per-epoch chunk order and the once-per-fit shuffle keys.
#include <cuda_runtime.h>

#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>

#include "common.cuh"
#include "sgd.hpp"
#include "steps.hpp"
#include "socialrec/rng.hpp"
#include "socialrec/types.hpp"

namespace socialrec::cuda {
namespace {

using detail::kWarp;

__global__ void shuffle_keys_kernel(std::uint64_t* keys, std::int64_t n, std::uint64_t state) {
    for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += std::int64_t(gridDim.x) * blockDim.x)
        keys[i] = step::mix64(state + std::uint64_t(i + 1) * kGoldenGamma);  // output i + 1 of SplitMix64(state)
}

thread_local Executor current_executor = Executor::device;

}  // namespace

Executor pass_executor() { return current_executor; }

ExecutorScope::ExecutorScope(Executor e) : previous_(current_executor) { current_executor = e; }

ExecutorScope::~ExecutorScope() { current_executor = previous_; }

ChunkOrder epoch_chunk_order(std::int64_t n_records, std::uint64_t seed, std::int64_t epoch, std::uint64_t pass) {
    if (n_records < 0) throw std::invalid_argument("epoch_chunk_order: negative record count");
    ChunkOrder order;
    order.chunks = std::uint64_t((n_records + kWarp - 1) / kWarp);
    if (order.chunks >= (std::uint64_t(1) << 32))
        throw std::invalid_argument("the CUDA passes support fewer than 2^37 records");
    order.round_key = stream_seed(seed, std::uint64_t(epoch), pass, 2);
    if (order.chunks <= 1) return order;
    // The same stream family as the CPU passes (rng.hpp): pass id `pass` (kRatingPass, kLinkPass, ...), block 0.
    SplitMix64 gen(stream_seed(seed, std::uint64_t(epoch), pass, 0));
    order.b = gen.below(order.chunks);
    order.a = 1 + gen.below(order.chunks - 1);
    while (std::gcd(order.a, order.chunks) != 1) order.a = order.a % (order.chunks - 1) + 1;
    return order;
}

void shuffle_keys(std::uint64_t* keys, std::int64_t n, std::uint64_t seed, cudaStream_t stream) {
    if (n < 0) throw std::invalid_argument("shuffle_keys: negative length");
    if (n == 0) return;
    if (keys == nullptr) throw std::invalid_argument("shuffle_keys: null key buffer");
    const std::uint64_t state = stream_seed(seed, 0, kRatingPass, 1);  // differs from every epoch's stream
    const int blocks = int(std::min<std::int64_t>((n + 255) / 256, 4096));
    shuffle_keys_kernel<<<blocks, 256, 0, stream>>>(keys, n, state);
    check(cudaGetLastError(), "shuffle_keys kernel launch");
}

}  // namespace socialrec::cuda
