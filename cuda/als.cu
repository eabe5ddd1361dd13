// CUDA ALS / SocialALS row solves (cuda/als.hpp). Every row of X is independent given the fixed side (and,
// for SocialALS, the snapshot of X taken before the half-step: a Jacobi sweep, as on the CPU), so the rows
// are spread over teams: one warp per row for k <= 64 (eight rows per block, the Gramian staged once per
// block in shared memory when it fits), one block per row above (G read through the cache). A team keeps
// its row's five CG vectors in shared memory; the math is cuda/als_row.hpp, shared with the host check.
// Storage float or __half (AlsHalfStepArgs::float16): the kernels are instantiated for both; rows are read
// into float and written back rounded once.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "als.hpp"
#include "als_row.hpp"
#include "common.cuh"
#include "hd_team.cuh"

namespace socialrec::cuda {
namespace {

constexpr int kWarpRowsPerBlock = 8;    // warp-per-row kernel: 256 threads
constexpr int kWarpTeamMaxFactors = 64;
constexpr std::size_t kDefaultShared = 48 * 1024;

// The row's system and graph row; `graph` is left null when there is no social term. T: the storage type.
template <class T>
__host__ __device__ inline hd::AlsRow<T> row_system(const AlsHalfStepArgs& a, const float* G, std::int64_t u) {
    hd::AlsRow<T> s;
    const std::int64_t first = a.indptr[u];
    s.G = G;
    s.Y = static_cast<const T*>(a.Y);
    s.idx = a.indices + first;
    s.val = a.values + first;
    s.n = a.indptr[u + 1] - first;
    s.alpha = a.alpha;
    s.shift = a.regularization;
    s.k = a.factors;
    return s;
}

__host__ __device__ inline hd::GraphRow graph_row(const AlsHalfStepArgs& a, std::int64_t u) {
    hd::GraphRow g;
    const std::int64_t first = a.graph_indptr[u];
    g.idx = a.graph_indices + first;
    g.val = a.graph_values + first;
    g.n = a.graph_indptr[u + 1] - first;
    return g;
}

__device__ inline hd::AlsVectors vectors_at(float* base, int k) {
    return {base, base + k, base + 2 * k, base + 3 * k, base + 4 * k};
}

// Warp per row. Dynamic shared memory: [G (k*k floats, when g_shared)] [8 teams x 5 x k floats].
template <class T>
__global__ void __launch_bounds__(kWarpRowsPerBlock * 32) als_warp_kernel(AlsHalfStepArgs a, bool g_shared) {
    extern __shared__ float shared[];
    const int k = a.factors;
    const float* G = a.G;
    float* team_memory = shared;
    if (g_shared) {
        const std::int64_t kk = std::int64_t(k) * k;
        for (std::int64_t e = threadIdx.x; e < kk; e += blockDim.x) shared[e] = a.G[e];
        __syncthreads();
        G = shared;
        team_memory = shared + kk;
    }
    const int warp = int(threadIdx.x) / detail::kWarp;
    const hd::WarpTeam team{int(threadIdx.x) % detail::kWarp};
    const hd::AlsVectors v = vectors_at(team_memory + std::size_t(warp) * 5 * k, k);
    const std::int64_t stride = std::int64_t(gridDim.x) * kWarpRowsPerBlock;
    const T* previous = static_cast<const T*>(a.previous);
    T* X = static_cast<T*>(a.X);
    for (std::int64_t u = std::int64_t(blockIdx.x) * kWarpRowsPerBlock + warp; u < a.rows; u += stride) {
        hd::GraphRow g;
        if (a.graph_indptr != nullptr) g = graph_row(a, u);
        const double loss = hd::als_update_row(team, row_system<T>(a, G, u), a.graph_indptr != nullptr, g, previous,
                                               a.beta, X + u * k, v, a.cg_steps);
        if (a.row_loss != nullptr && team.lane == 0) a.row_loss[u] = loss;
    }
}

// Block per row. Dynamic shared memory: 5 x k floats.
template <class T>
__global__ void __launch_bounds__(256) als_block_kernel(AlsHalfStepArgs a) {
    extern __shared__ float shared[];
    __shared__ double scratch[4 * 32];
    const int k = a.factors;
    const hd::BlockTeam team{scratch};
    const hd::AlsVectors v = vectors_at(shared, k);
    const T* previous = static_cast<const T*>(a.previous);
    T* X = static_cast<T*>(a.X);
    for (std::int64_t u = blockIdx.x; u < a.rows; u += gridDim.x) {
        hd::GraphRow g;
        if (a.graph_indptr != nullptr) g = graph_row(a, u);
        const double loss = hd::als_update_row(team, row_system<T>(a, a.G, u), a.graph_indptr != nullptr, g,
                                               previous, a.beta, X + u * k, v, a.cg_steps);
        if (a.row_loss != nullptr && threadIdx.x == 0) a.row_loss[u] = loss;
    }
}

void check_args(const AlsHalfStepArgs& a, const char* who) {
    const std::string w(who);
    if (a.factors <= 0) throw std::invalid_argument(w + ": factors must be positive");
    if (a.factors > kAlsMaxFactors)
        throw std::invalid_argument(w + ": factors = " + std::to_string(a.factors) + " exceeds the CUDA limit " +
                                    std::to_string(kAlsMaxFactors));
    if (a.cg_steps <= 0) throw std::invalid_argument(w + ": cg_steps must be positive");
    if (a.rows < 0 || a.n_fixed < 0) throw std::invalid_argument(w + ": negative sizes");
    if (a.rows > 0 && (!a.indptr || !a.X || !a.G || (a.n_fixed > 0 && !a.Y)))
        throw std::invalid_argument(w + ": null pointer");
    if (a.graph_indptr != nullptr && (!a.graph_indices || !a.graph_values || !a.previous))
        throw std::invalid_argument(w + ": graph_indptr without graph_indices, graph_values or previous");
}

template <class T>
void launch(const AlsHalfStepArgs& a, cudaStream_t stream) {
    const int k = a.factors;
    const std::size_t vectors = 5 * std::size_t(k) * sizeof(float);
    if (k <= kWarpTeamMaxFactors) {
        const std::size_t gram = std::size_t(k) * k * sizeof(float);
        const bool g_shared = gram + kWarpRowsPerBlock * vectors <= kDefaultShared;
        const std::size_t shared = (g_shared ? gram : 0) + kWarpRowsPerBlock * vectors;
        const std::int64_t blocks = std::min<std::int64_t>((a.rows + kWarpRowsPerBlock - 1) / kWarpRowsPerBlock,
                                                           0x7fffffff);
        als_warp_kernel<T><<<unsigned(blocks), kWarpRowsPerBlock * 32, shared, stream>>>(a, g_shared);
    } else {
        const int threads = std::min(256, (k + 31) / 32 * 32);
        if (vectors > kDefaultShared)
            check(cudaFuncSetAttribute(als_block_kernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       int(vectors)),
                  "cudaFuncSetAttribute(als)");
        const std::int64_t blocks = std::min<std::int64_t>(a.rows, 0x7fffffff);
        als_block_kernel<T><<<unsigned(blocks), threads, vectors, stream>>>(a);
    }
    check(cudaGetLastError(), "als kernel launch");
}

template <class T>
void host_rows(const AlsHalfStepArgs& a) {
    const int k = a.factors;
    std::vector<float> buffer(5 * std::size_t(k));
    float* base = buffer.data();
    const hd::AlsVectors v{base, base + k, base + 2 * k, base + 3 * k, base + 4 * k};
    const hd::SerialTeam team;
    const T* previous = static_cast<const T*>(a.previous);
    T* X = static_cast<T*>(a.X);
    for (std::int64_t u = 0; u < a.rows; ++u) {
        hd::GraphRow g;
        if (a.graph_indptr != nullptr) g = graph_row(a, u);
        const double loss = hd::als_update_row(team, row_system<T>(a, a.G, u), a.graph_indptr != nullptr, g,
                                               previous, a.beta, X + u * k, v, a.cg_steps);
        if (a.row_loss != nullptr) a.row_loss[u] = loss;
    }
}

}  // namespace

void als_half_step(const AlsHalfStepArgs& a, cudaStream_t stream) {
    check_args(a, "als_half_step");
    if (a.rows == 0) return;
    if (a.float16) {
        launch<__half>(a, stream);
    } else {
        launch<float>(a, stream);
    }
}

void host_als_half_step(const AlsHalfStepArgs& a) {
    check_args(a, "host_als_half_step");
    if (a.float16) {
        host_rows<__half>(a);
    } else {
        host_rows<float>(a);
    }
}

}  // namespace socialrec::cuda
