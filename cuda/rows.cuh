// Device helpers of the SGD kernels (cuda/models/*.cu): a lane's slice of a factor row in registers, the
// epoch's chunk order, and the block reduction of the epoch loss.
#pragma once
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "common.cuh"
#include "hd_team.hpp"
#include "rounding.hpp"

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
//
// float16 rows are stored with stochastic rounding (rounding.hpp): element f of a row stepped at entry `entry` of
// the pass takes its bits from (key, entry, row, f), the host executor's SerialCopySlices likewise. add() and
// store_change() write increments with atomics, so that concurrent increments by other warps are kept (issue 25,
// item 5): atomicAdd for float, a compare-and-swap loop on the 16-bit word for half (sm_70 and newer).
template <int V, bool RESIDENT>
struct WarpSlices {
    static constexpr bool kResident = RESIDENT;
    using Slice = RegSlice<V>;
    int k;
    bool full;  // vector accesses (k a multiple of 32 V, rows aligned)
    int lane;
    std::uint64_t key = 0;    // the pass's rounding key (sgd.hpp ChunkOrder::round_key)
    std::uint64_t entry = 0;  // the entry being stepped (set by the kernel before each step)
    __device__ int count() const { return RESIDENT ? 1 : (k + kWarp * V - 1) / (kWarp * V); }
    template <class T>
    __device__ __forceinline__ void load(const T* matrix, std::int64_t row, int s, Slice& x) const {
        const int base = s * kWarp * V;
        load_slice<T, V>(matrix + row * k + base, lane, k - base, full, x.v);
    }
    __device__ __forceinline__ void store(float* matrix, std::int64_t row, int s, const Slice& x) const {
        const int base = s * kWarp * V;
        store_slice<float, V>(matrix + row * k + base, lane, k - base, full, x.v);
    }
    __device__ __forceinline__ void store(__half* matrix, std::int64_t row, int s, const Slice& x) const {
        const int base = s * kWarp * V;
        const std::uint64_t h = hd::row_hash(key, entry, row);
        float r[V];  // the stochastically rounded values, exactly representable in half: store_slice keeps them
#pragma unroll
        for (int j = 0; j < V; ++j)
            r[j] = __half2float(hd::stochastic_half(x.v[j], hd::element_bits(h, base + lane * V + j)));
        store_slice<__half, V>(matrix + row * k + base, lane, k - base, full, r);
    }
    // row += delta, element by element with atomics (the row's other writers keep their increments).
    template <class T>
    __device__ __forceinline__ void add(T* matrix, std::int64_t row, int s, const Slice& delta) const {
        const int base = s * kWarp * V;
        const std::uint64_t h = hd::row_hash(key, entry, row);
#pragma unroll
        for (int j = 0; j < V; ++j) {
            const int f = base + lane * V + j;
            if (f < k) atomic_add_element(matrix + row * k + f, delta.v[j], hd::element_bits(h, f));
        }
    }
    // Writes x, loaded as x0 and stepped since, as the increment x - x0 (add).
    template <class T>
    __device__ __forceinline__ void store_change(T* matrix, std::int64_t row, int s, const Slice& x,
                                                 const Slice& x0) const {
        Slice delta;
#pragma unroll
        for (int j = 0; j < V; ++j) delta.v[j] = x.v[j] - x0.v[j];
        add(matrix, row, s, delta);
    }
    __device__ void temp(int, Slice&) const {}

private:
    __device__ __forceinline__ static void atomic_add_element(float* p, float delta, std::uint32_t) {
        atomicAdd(p, delta);
    }
    __device__ __forceinline__ static void atomic_add_element(__half* p, float delta, std::uint32_t bits) {
        auto* word = reinterpret_cast<unsigned short*>(p);
        unsigned short seen = *word, assumed;
        do {
            assumed = seen;
            __half_raw old;
            old.x = assumed;
            const __half_raw now = hd::stochastic_half(__half2float(__half(old)) + delta, bits);
            seen = atomicCAS(word, assumed, now.x);
        } while (seen != assumed);
    }
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
// round_key: the pass's float16 rounding key (rounding.hpp).
struct Order {
    std::uint64_t chunks, a, b, round_key;
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
