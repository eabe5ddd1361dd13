// Membership in a sorted list of indices (one CSR row): shared by the CPU samplers (sampling.hpp) and the
// CUDA ones (cuda/steps.hpp), so it compiles as host and device code under nvcc.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define SOCIALREC_HOST_DEVICE __host__ __device__
#else
#define SOCIALREC_HOST_DEVICE
#endif

namespace socialrec {

// Branch-free binary search: the outcome of each probe is random, so branches would mispredict.
inline SOCIALREC_HOST_DEVICE bool sorted_contains(const std::int32_t* first, std::int64_t size, std::int32_t item) {
    if (size <= 0) return false;
    const std::int32_t* base = first;
    std::int64_t n = size;
    while (n > 1) {
        const std::int64_t half = n / 2;
        base = (base[half] <= item) ? base + half : base;
        n -= half;
    }
    return *base == item;
}

}  // namespace socialrec
