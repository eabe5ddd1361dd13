// Device teams for the shared row math (see cuda/hd_team.hpp): one warp, or one thread block.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "common.cuh"
#include "hd_team.hpp"

namespace socialrec::cuda::hd {

template <class T>
__device__ __forceinline__ T warp_allreduce(T v) {
    // Butterfly: every lane adds the same two operands at each level (in either order, which IEEE addition
    // does not distinguish), so every lane ends with bit-identical totals and branches on them agree.
#pragma unroll
    for (int offset = detail::kWarp / 2; offset > 0; offset >>= 1) v += __shfl_xor_sync(detail::kFullMask, v, offset);
    return v;
}

// One warp; the warp's lanes must all be present (no member exits early).
struct WarpTeam {
    int lane;
    __device__ int rank() const { return lane; }
    __device__ int size() const { return detail::kWarp; }
    template <class T>
    __device__ T sum(T v) const { return warp_allreduce(v); }
    template <class T>
    __device__ void sum4(T& a, T& b, T& c, T& d) const {  // four independent chains, interleaved
#pragma unroll
        for (int offset = detail::kWarp / 2; offset > 0; offset >>= 1) {
            a += __shfl_xor_sync(detail::kFullMask, a, offset);
            b += __shfl_xor_sync(detail::kFullMask, b, offset);
            c += __shfl_xor_sync(detail::kFullMask, c, offset);
            d += __shfl_xor_sync(detail::kFullMask, d, offset);
        }
    }
    template <class T>
    __device__ void sum2(T& a, T& b) const {  // two independent chains, interleaved
#pragma unroll
        for (int offset = detail::kWarp / 2; offset > 0; offset >>= 1) {
            a += __shfl_xor_sync(detail::kFullMask, a, offset);
            b += __shfl_xor_sync(detail::kFullMask, b, offset);
        }
    }
    template <class T>
    __device__ T broadcast(T v) const { return __shfl_sync(detail::kFullMask, v, 0); }
    __device__ std::uint32_t ballot(bool p) const { return __ballot_sync(detail::kFullMask, p); }
    __device__ void sync() const { __syncwarp(); }

    // visit(item, value) for each entry e in offsets[u] .. offsets[u + 1], in order, by every lane: the entries
    // are read 32 at a time (one coalesced load per lane) and handed out with shuffles; with WithValues =
    // false the values are not read and visit gets 0. (SerialTeam::for_each_member is the plain loop.)
    template <bool WithValues = true, class Visit>
    __device__ __forceinline__ void for_each_member(const std::int64_t* offsets, const std::int32_t* items,
                                                    const float* values, int u, Visit&& visit) const {
        const std::int64_t begin = offsets[u], end = offsets[std::int64_t(u) + 1];
        for (std::int64_t base = begin; base < end; base += detail::kWarp) {
            const bool mine = base + lane < end;
            const int item = mine ? items[base + lane] : 0;
            const float value = WithValues && mine ? values[base + lane] : 0.0f;
            const int c = int(min(std::int64_t(detail::kWarp), end - base));
            for (int r = 0; r < c; ++r)
                visit(__shfl_sync(detail::kFullMask, item, r), __shfl_sync(detail::kFullMask, value, r));
        }
    }
};

// The whole block (blockDim.x a multiple of 32, at most 1024). `scratch` is __shared__, 4 x 32 doubles.
// sum() ends with every thread adding the warps' partials in warp order: identical totals everywhere.
struct BlockTeam {
    double* scratch;
    __device__ int rank() const { return int(threadIdx.x); }
    __device__ int size() const { return int(blockDim.x); }
    template <class T>
    __device__ T sum(T v) const {
        T a = v, b = 0, c = 0, d = 0;
        sum4(a, b, c, d);
        return a;
    }
    template <class T>
    __device__ void sum4(T& a, T& b, T& c, T& d) const {
        WarpTeam{int(threadIdx.x) % detail::kWarp}.sum4(a, b, c, d);
        const int warp = int(threadIdx.x) / detail::kWarp, warps = int(blockDim.x) / detail::kWarp;
        T* s = reinterpret_cast<T*>(scratch);
        if (threadIdx.x % detail::kWarp == 0) {
            s[warp] = a;
            s[32 + warp] = b;
            s[64 + warp] = c;
            s[96 + warp] = d;
        }
        __syncthreads();
        a = b = c = d = T(0);
        for (int w = 0; w < warps; ++w) {
            a += s[w];
            b += s[32 + w];
            c += s[64 + w];
            d += s[96 + w];
        }
        __syncthreads();
    }
    __device__ void sync() const { __syncthreads(); }
};

}  // namespace socialrec::cuda::hd
