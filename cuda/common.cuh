// Device helpers shared by the .cu files: warp size, storage conversions, launch geometry.
#pragma once
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "error.hpp"

namespace socialrec::cuda::detail {

constexpr int kWarp = 32;
constexpr unsigned kFullMask = 0xffffffffu;

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }

template <class T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ float from_float<float>(float x) { return x; }
template <>
__device__ __forceinline__ __half from_float<__half>(float x) { return __float2half_rn(x); }

// Blocks for a persistent grid: as many as are resident at once on the current device, at most `wanted`.
template <class Kernel>
int resident_blocks(Kernel kernel, int threads, std::int64_t wanted) {
    int device = 0, sms = 0, per_sm = 0;
    check(cudaGetDevice(&device), "cudaGetDevice");
    check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "cudaDeviceGetAttribute");
    check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, 0),
          "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
    const std::int64_t resident = std::int64_t(std::max(per_sm, 1)) * std::max(sms, 1);
    return int(std::max<std::int64_t>(1, std::min(resident, wanted)));
}

}  // namespace socialrec::cuda::detail
