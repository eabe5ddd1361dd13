// Device helpers of the SGD kernels (cuda/models/*.cu): a lane's slice of a factor row in registers, the
// epoch's chunk order, and the block reduction of the epoch loss.
#pragma once
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "common.cuh"
#include "hd_team.hpp"

namespace socialrec::cuda::detail {

constexpr int kBlock = 256;

// A lane's KPL consecutive elements of a factor row, read or written as one vector access when the row
// length is a multiple of 32 * KPL and the row is aligned (HOPPER.md: 16-byte accesses coalesced across the
// warp).
template <class T, int KPL>
struct alignas(sizeof(T) * KPL) Slice {
    T v[KPL];
};

// Elements lane*KPL .. lane*KPL + KPL - 1 of `row`, of which `n` exist (0 beyond); `full`: vector access.
template <class T, int KPL>
__device__ __forceinline__ void load_slice(const T* row, int lane, int n, bool full, float (&x)[KPL]) {
    if (full) {
        const Slice<T, KPL> s = reinterpret_cast<const Slice<T, KPL>*>(row)[lane];
#pragma unroll
        for (int j = 0; j < KPL; ++j) x[j] = to_float(s.v[j]);
    } else {
#pragma unroll
        for (int j = 0; j < KPL; ++j) {
            const int f = lane * KPL + j;
            x[j] = f < n ? to_float(row[f]) : 0.0f;
        }
    }
}

template <class T, int KPL>
__device__ __forceinline__ void store_slice(T* row, int lane, int n, bool full, const float (&x)[KPL]) {
    if (full) {
        Slice<T, KPL> s;
#pragma unroll
        for (int j = 0; j < KPL; ++j) s.v[j] = from_float<T>(x[j]);
        reinterpret_cast<Slice<T, KPL>*>(row)[lane] = s;
    } else {
#pragma unroll
        for (int j = 0; j < KPL; ++j) {
            const int f = lane * KPL + j;
            if (f < n) row[f] = from_float<T>(x[j]);
        }
    }
}

// A lane's slice of a factor row in registers (the device's Slice of the step templates, hd_team.hpp).
template <int V>
struct RegSlice {
    float v[V];
    __device__ static constexpr int size() { return V; }
    __device__ float& operator[](int m) { return v[m]; }
};

// The device row layout of the step templates (cuda/models/*.hpp; the host's is hd_team.hpp SerialSlices):
// rows of k elements of T (float or __half) in slices of 32 V, lane `lane` holding elements
// lane*V .. lane*V + V - 1 of each. RESIDENT: the row fits one slice (k <= 32 V), which a step keeps in
// registers from its reduction to its update; otherwise the step reads the slices twice (reduce, then update).
// temp() has nothing to do: a step's own vectors are RegSlices, in registers.
template <int V, bool RESIDENT>
struct WarpSlices {
    static constexpr bool kResident = RESIDENT;
    using Slice = RegSlice<V>;
    int k;
    bool full;  // vector accesses (k a multiple of 32 V, rows aligned)
    int lane;
    __device__ int count() const { return RESIDENT ? 1 : (k + kWarp * V - 1) / (kWarp * V); }
    template <class T>
    __device__ __forceinline__ void load(const T* matrix, std::int64_t row, int s, Slice& x) const {
        const int base = s * kWarp * V;
        load_slice<T, V>(matrix + row * k + base, lane, k - base, full, x.v);
    }
    template <class T>
    __device__ __forceinline__ void store(T* matrix, std::int64_t row, int s, const Slice& x) const {
        const int base = s * kWarp * V;
        store_slice<T, V>(matrix + row * k + base, lane, k - base, full, x.v);
    }
    __device__ void temp(int, Slice&) const {}
};

// Elements per lane of a row of k factors: the smallest of 1, 2, 4, 8 that covers the row; 0 (stream the
// row in slices of 256) beyond 256.
inline int elements_per_lane(int k) { return k <= 32 ? 1 : k <= 64 ? 2 : k <= 128 ? 4 : k <= 256 ? 8 : 0; }

// True when rows of k elements of T at `ptr` can be read as Slice<T, kpl> vectors (k a multiple of 32 kpl).
template <class T>
bool vector_rows(const void* ptr, int k, int kpl) {
    if (kpl <= 0 || k % (kWarp * kpl) != 0) return false;
    return reinterpret_cast<std::uintptr_t>(ptr) % (sizeof(T) * kpl) == 0;
}

// The epoch's chunk order as seen by the device (sgd.hpp ChunkOrder); a < 2^32 and t < 2^32 keep a*t exact.
struct Order {
    std::uint64_t chunks, a, b;
    __host__ __device__ __forceinline__ std::uint64_t chunk(std::uint64_t t) const { return (a * t + b) % chunks; }
};

// Adds the block's loss to *out: every lane of a warp holds its warp's sum; lane 0 of each warp contributes.
__device__ __forceinline__ void add_block_loss(double loss, double* out) {
    __shared__ double warp_loss[kBlock / kWarp];
    const int lane = threadIdx.x % kWarp;
    if (lane == 0) warp_loss[threadIdx.x / kWarp] = loss;
    __syncthreads();
    if (threadIdx.x == 0) {
        double total = 0.0;
        for (int w = 0; w < kBlock / kWarp; ++w) total += warp_loss[w];
        atomicAdd(out, total);
    }
}

}  // namespace socialrec::cuda::detail
