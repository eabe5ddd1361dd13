// CUDA top-N selection: one block per row of scores. The contract is python/socialrec/topn.py's: the
// excluded (seen) items drop out, the n best remaining come first, equal scores go to the lower item index,
// and rows with fewer than n eligible items are padded with id -1 and score -inf.
//
// Method: the n-th largest eligible score is found by a most-significant-digit radix select over the
// scores' order-preserving 32-bit keys (4 passes of 8 bits, histograms in shared memory); one more pass
// gathers every score above that threshold and, in index order, as many equal to it as are still needed
// (that is where ties go to the lower index); a bitonic sort of the <= n gathered (key, index) pairs in
// shared memory orders them.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "common.cuh"
#include "topk.hpp"

namespace socialrec::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / detail::kWarp;

__device__ __forceinline__ bool eligible(float s) { return !isnan(s) && s != -INFINITY; }

// Unsigned key ordered like the floats (flip all bits of negatives, the sign bit of positives); -0 == +0.
__device__ __forceinline__ std::uint32_t order_key(float s) {
    const std::uint32_t bits = s == 0.0f ? 0u : __float_as_uint(s);
    return (bits & 0x80000000u) ? ~bits : bits | 0x80000000u;
}

// Sort value of a gathered entry: larger score first, then lower column first; 0 is the padding sentinel
// (every eligible key is above order_key(-inf) > 0).
__device__ __forceinline__ unsigned long long pack(std::uint32_t key, std::int64_t col) {
    return (static_cast<unsigned long long>(key) << 32) | static_cast<std::uint32_t>(~std::uint32_t(col));
}

__device__ std::int64_t lower_bound(const std::int64_t* sorted, std::int64_t n, std::int64_t value) {
    std::int64_t lo = 0, hi = n;
    while (lo < hi) {
        const std::int64_t mid = (lo + hi) / 2;
        if (sorted[mid] < value) lo = mid + 1; else hi = mid;
    }
    return lo;
}

__global__ void __launch_bounds__(kThreads) topk_kernel(TopKArgs a, int sort_size) {
    extern __shared__ unsigned long long gathered[];  // sort_size entries
    __shared__ unsigned hist[256];
    __shared__ std::uint32_t s_prefix, s_mask, s_remaining, s_take_all, s_count_gt;
    __shared__ unsigned s_warp_counts[kWarps];
    __shared__ unsigned s_tie_taken;

    const std::int64_t r = blockIdx.x;
    float* s = a.scores + r * a.ld;
    const int tid = threadIdx.x;

    // 1. The seen-item filter: excluded columns become -inf (the caller's score buffer is scratch).
    if (a.excl_indptr != nullptr) {
        const std::int64_t u = a.row_ids != nullptr ? a.row_ids[r] : r;
        for (std::int64_t e = a.excl_indptr[u] + tid; e < a.excl_indptr[u + 1]; e += kThreads) {
            const std::int64_t item = a.excl_indices[e];
            std::int64_t col = item;
            if (a.candidates != nullptr) {
                col = lower_bound(a.candidates, a.cols, item);
                if (col >= a.cols || a.candidates[col] != item) col = -1;
            }
            if (col >= 0 && col < a.cols) s[col] = -INFINITY;
        }
    }
    if (tid == 0) {
        s_prefix = 0;
        s_mask = 0;
        s_remaining = std::uint32_t(a.n);
        s_take_all = 0;
    }
    __syncthreads();

    // 2. Radix select: after the passes, s_prefix is the key of the n-th largest eligible score and
    //    s_remaining the number of entries with exactly that key to take.
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int b = tid; b < 256; b += kThreads) hist[b] = 0;
        __syncthreads();
        const std::uint32_t prefix = s_prefix, mask = s_mask;
        for (std::int64_t c = tid; c < a.cols; c += kThreads) {
            const float v = s[c];
            const std::uint32_t key = order_key(v);
            if (eligible(v) && (key & mask) == prefix) atomicAdd(&hist[(key >> shift) & 255u], 1u);
        }
        __syncthreads();
        if (tid == 0) {
            if (shift == 24) {
                unsigned total = 0;
                for (int b = 0; b < 256; ++b) total += hist[b];
                if (total <= unsigned(a.n)) s_take_all = 1;
            }
            if (!s_take_all) {
                unsigned above = 0;
                int b = 255;
                for (; b > 0 && above + hist[b] < s_remaining; --b) above += hist[b];
                s_remaining -= above;
                s_prefix |= std::uint32_t(b) << shift;
                s_mask |= 0xffu << shift;
            }
        }
        __syncthreads();
        if (s_take_all) break;
    }

    // 3. Gather: keys above the threshold in any order (atomic slots), keys equal to it in index order.
    const bool take_all = s_take_all != 0;
    const std::uint32_t threshold = s_prefix, ties = s_remaining;
    const std::uint32_t n_above = take_all ? 0u : std::uint32_t(a.n) - ties;
    if (tid == 0) {
        s_count_gt = 0;
        s_tie_taken = 0;
    }
    __syncthreads();
    const int lane = tid % detail::kWarp, warp = tid / detail::kWarp;
    for (std::int64_t base = 0; base < a.cols; base += kThreads) {
        const std::int64_t c = base + tid;
        bool tie = false;
        if (c < a.cols) {
            const float v = s[c];
            if (eligible(v)) {
                const std::uint32_t key = order_key(v);
                if (take_all || key > threshold) gathered[atomicAdd(&s_count_gt, 1u)] = pack(key, c);
                else tie = key == threshold;
            }
        }
        if (take_all) continue;
        // Block-wide exclusive count of ties before this thread, in column order.
        const unsigned ballot = __ballot_sync(detail::kFullMask, tie);
        if (lane == 0) s_warp_counts[warp] = __popc(ballot);
        __syncthreads();
        unsigned before = s_tie_taken + __popc(ballot & ((1u << lane) - 1u)), tile_total = 0;
        for (int w = 0; w < kWarps; ++w) {
            if (w < warp) before += s_warp_counts[w];
            tile_total += s_warp_counts[w];
        }
        if (tie && before < ties) gathered[n_above + before] = pack(threshold, c);
        __syncthreads();
        if (tid == 0) s_tie_taken += tile_total;
        __syncthreads();
        if (s_tie_taken >= ties && s_count_gt >= n_above) break;  // block-uniform: read after the barrier
    }
    __syncthreads();
    const int found = take_all ? int(s_count_gt) : a.n;
    for (int j = found + tid; j < sort_size; j += kThreads) gathered[j] = 0ull;
    __syncthreads();

    // 4. Bitonic sort, descending by (key, -column).
    for (int k = 2; k <= sort_size; k <<= 1) {
        for (int j = k >> 1; j > 0; j >>= 1) {
            for (int i = tid; i < sort_size; i += kThreads) {
                const int partner = i ^ j;
                if (partner > i) {
                    const unsigned long long x = gathered[i], y = gathered[partner];
                    const bool descending = (i & k) == 0;
                    if (descending ? x < y : x > y) {
                        gathered[i] = y;
                        gathered[partner] = x;
                    }
                }
            }
            __syncthreads();
        }
    }

    // 5. Output: ids (candidate ids when the columns are a subset) and the scores as stored.
    for (int j = tid; j < a.n; j += kThreads) {
        std::int64_t id = -1;
        float score = -INFINITY;
        if (j < found) {
            const std::int64_t col = std::int64_t(~std::uint32_t(gathered[j] & 0xffffffffull));
            score = s[col];
            id = a.candidates != nullptr ? a.candidates[col] : col;
        }
        a.out_ids[r * a.n + j] = id;
        a.out_scores[r * a.n + j] = score;
    }
}

}  // namespace

void topk_select(const TopKArgs& a, cudaStream_t stream) {
    if (a.n <= 0) throw std::invalid_argument("topk_select: n must be positive");
    if (a.n > kTopKMaxN)
        throw std::invalid_argument("topk_select: n = " + std::to_string(a.n) + " exceeds the CUDA limit " +
                                    std::to_string(kTopKMaxN));
    if (a.rows < 0 || a.cols < 0 || a.ld < a.cols) throw std::invalid_argument("topk_select: bad score shape");
    if (a.cols >= (std::int64_t(1) << 32)) throw std::invalid_argument("topk_select: too many columns");
    if (a.rows == 0) return;
    if (a.rows > 0x7fffffff) throw std::invalid_argument("topk_select: too many rows in one call");
    if (!a.out_ids || !a.out_scores || (a.cols > 0 && !a.scores))
        throw std::invalid_argument("topk_select: null output or score pointer");
    if (a.excl_indptr != nullptr && a.excl_indices == nullptr)
        throw std::invalid_argument("topk_select: excl_indptr without excl_indices");
    int sort_size = 1;
    while (sort_size < a.n) sort_size <<= 1;
    const std::size_t shared = sizeof(unsigned long long) * std::size_t(sort_size);
    if (shared > 48 * 1024)
        check(cudaFuncSetAttribute(topk_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(shared)),
              "cudaFuncSetAttribute(topk)");
    topk_kernel<<<unsigned(a.rows), kThreads, shared, stream>>>(a, sort_size);
    check(cudaGetLastError(), "topk kernel launch");
}

}  // namespace socialrec::cuda
