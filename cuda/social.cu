// CUDA SGD passes of SoRec, SocialMF, TrustMF, SoReg, SVD++, TrustSVD, RSTE, BPR and SBPR: see social.hpp for
// the schedules and steps.hpp for the per-update math (shared with the host replay the device-free tests check).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "common.cuh"
#include "rows.cuh"
#include "social.hpp"
#include "steps.hpp"
#include "socialrec/rng.hpp"
#include "socialrec/types.hpp"

namespace socialrec::cuda {
namespace {

using detail::kBlock;
using detail::kFullMask;
using detail::kWarp;
using detail::load_slice;
using detail::Order;
using detail::store_slice;

__device__ __forceinline__ int lane_id() { return threadIdx.x % kWarp; }
__device__ __forceinline__ std::uint64_t warp_id() { return (std::uint64_t(blockIdx.x) * kBlock + threadIdx.x) / kWarp; }
__device__ __forceinline__ std::uint64_t warp_count() { return std::uint64_t(gridDim.x) * kBlock / kWarp; }

Order order_of(std::int64_t n, std::uint64_t seed, std::int64_t epoch, std::uint64_t pass) {
    const ChunkOrder c = epoch_chunk_order(n, seed, epoch, pass);
    return Order{c.chunks, c.a, c.b};
}

// Visits the ids of one epoch's chunk order, a warp per id: warps take chunks of 32 consecutive entries of
// `ids` in the order's sequence, then every lane calls visit(id) for each of the chunk's ids in turn.
template <class Visit>
__device__ __forceinline__ void for_each_in_order(const std::int32_t* __restrict__ ids, std::int64_t n,
                                                  const Order& order, Visit&& visit) {
    const int lane = lane_id();
    for (std::uint64_t t = warp_id(); t < order.chunks; t += warp_count()) {
        const std::int64_t first = std::int64_t(order.chunk(t)) * kWarp;
        const std::int64_t idx = first + lane;
        const int mine = idx < n ? ids[idx] : 0;
        const int count = int(min(std::int64_t(kWarp), n - first));
        for (int j = 0; j < count; ++j) visit(__shfl_sync(kFullMask, mine, j));
    }
}

// Rows are handled in slices of 32 V elements (V per lane). RESIDENT: the row fits one slice (k <= 32 V) and
// a step that needs a reduction before its update keeps the slice in registers; otherwise it reads the
// slices twice (reduce, then update).
struct RowShape {
    int k;
    bool full;  // vector accesses (k a multiple of 32 V, rows aligned)
};

// ---------------------------------------------------------------------------------------------------------
// The logistic pair pass
// ---------------------------------------------------------------------------------------------------------
template <class T>
struct Side {
    T* A;
    T* B;
    float data_weight, penalty_weight, offset;
};

template <class T>
struct LogisticHyper {
    Side<T> sides[2];
    int n_sides;
    RowShape row;
    float gamma, lambda;
};

template <class T, int V, bool RESIDENT>
__device__ __forceinline__ double logistic_update(const Side<T>& s, int a, int b, float c, const RowShape& row,
                                                  float gamma, float lambda, int lane) {
    T* a_row = s.A + std::int64_t(a) * row.k;
    T* b_row = s.B + std::int64_t(b) * row.k;
    float x[V], y[V];
    float dot = 0.0f, norms = 0.0f;
    for (int base = 0; base < row.k; base += kWarp * V) {
        load_slice<T, V>(a_row + base, lane, row.k - base, row.full, x);
        load_slice<T, V>(b_row + base, lane, row.k - base, row.full, y);
#pragma unroll
        for (int j = 0; j < V; ++j) {
            dot = fmaf(x[j], y[j], dot);
            norms = fmaf(x[j], x[j], fmaf(y[j], y[j], norms));
        }
        if (RESIDENT) break;
    }
    detail::warp_sum2(dot, norms);
    const step::LogisticCoef coef = step::logistic_coef(c, dot, s.offset, s.data_weight);
    const float lambda_w = s.penalty_weight * lambda;
    for (int base = 0; base < row.k; base += kWarp * V) {
        if (!RESIDENT) {
            load_slice<T, V>(a_row + base, lane, row.k - base, row.full, x);
            load_slice<T, V>(b_row + base, lane, row.k - base, row.full, y);
        }
#pragma unroll
        for (int j = 0; j < V; ++j) step::pair_element(x[j], y[j], coef.d, gamma, lambda_w, lambda_w);
        store_slice<T, V>(a_row + base, lane, row.k - base, row.full, x);
        store_slice<T, V>(b_row + base, lane, row.k - base, row.full, y);
        if (RESIDENT) break;
    }
    return step::logistic_term(coef.e, norms, s.data_weight, s.penalty_weight, lambda);
}

// Persistent grid over the epoch's chunks of 32 records (as sgd.cu's BiasedMF kernel): the lanes read a
// chunk's records at once (coalesced) and hand them out one by one with shuffles.
template <class T, int V, bool RESIDENT>
__global__ void __launch_bounds__(kBlock)
    logistic_pair_kernel(const std::int32_t* __restrict__ as, const std::int32_t* __restrict__ bs,
                         const float* __restrict__ values, std::int64_t n, LogisticHyper<T> h, Order order,
                         double* loss_out) {
    const int lane = lane_id();
    double loss = 0.0;
    for (std::uint64_t t = warp_id(); t < order.chunks; t += warp_count()) {
        const std::int64_t first = std::int64_t(order.chunk(t)) * kWarp;
        const std::int64_t idx = first + lane;
        int a = 0, b = 0;
        float c = 0.0f;
        if (idx < n) {
            a = as[idx];
            b = bs[idx];
            c = values[idx];
        }
        const int count = int(min(std::int64_t(kWarp), n - first));
        for (int j = 0; j < count; ++j) {
            const int aj = __shfl_sync(kFullMask, a, j), bj = __shfl_sync(kFullMask, b, j);
            const float cj = __shfl_sync(kFullMask, c, j);
            loss += logistic_update<T, V, RESIDENT>(h.sides[0], aj, bj, cj, h.row, h.gamma, h.lambda, lane);
            if (h.n_sides > 1)
                loss += logistic_update<T, V, RESIDENT>(h.sides[1], aj, bj, cj, h.row, h.gamma, h.lambda, lane);
        }
    }
    detail::add_block_loss(loss, loss_out);
}

// ---------------------------------------------------------------------------------------------------------
// SoReg SR2 edge pass (element-wise step: one read and one write of each slice)
// ---------------------------------------------------------------------------------------------------------
template <class T>
struct EdgeHyper {
    T* U;
    RowShape row;
    float gamma, beta;
};

template <class T, int V>
__global__ void __launch_bounds__(kBlock)
    soreg_edge_kernel(const std::int32_t* __restrict__ as, const std::int32_t* __restrict__ bs,
                      const float* __restrict__ values, std::int64_t n, EdgeHyper<T> h, Order order,
                      double* loss_out) {
    const int lane = lane_id();
    const int k = h.row.k;
    double loss = 0.0;
    for (std::uint64_t t = warp_id(); t < order.chunks; t += warp_count()) {
        const std::int64_t first = std::int64_t(order.chunk(t)) * kWarp;
        const std::int64_t idx = first + lane;
        int a = 0, b = 0;
        float c = 0.0f;
        if (idx < n) {
            a = as[idx];
            b = bs[idx];
            c = values[idx];
        }
        const int count = int(min(std::int64_t(kWarp), n - first));
        for (int j = 0; j < count; ++j) {
            const int u = __shfl_sync(kFullMask, a, j), f = __shfl_sync(kFullMask, b, j);
            const float w = h.beta * __shfl_sync(kFullMask, c, j);
            const float step_size = h.gamma * w;
            T* u_row = h.U + std::int64_t(u) * k;
            T* f_row = h.U + std::int64_t(f) * k;
            float squared = 0.0f;
            for (int base = 0; base < k; base += kWarp * V) {
                float x[V], y[V];
                load_slice<T, V>(u_row + base, lane, k - base, h.row.full, x);
                load_slice<T, V>(f_row + base, lane, k - base, h.row.full, y);
#pragma unroll
                for (int e = 0; e < V; ++e) {
                    const float d = step::difference_element(x[e], y[e], step_size);  // 0 beyond k
                    squared = fmaf(d, d, squared);
                }
                store_slice<T, V>(u_row + base, lane, k - base, h.row.full, x);
                store_slice<T, V>(f_row + base, lane, k - base, h.row.full, y);
            }
            loss += step::difference_term(w, detail::warp_sum(squared));
        }
    }
    detail::add_block_loss(loss, loss_out);
}

// ---------------------------------------------------------------------------------------------------------
// Mean-pull user pass (SocialMF user term, SoReg SR1): one warp per user, slice by slice (steps.hpp)
// ---------------------------------------------------------------------------------------------------------
template <class T>
struct MeanPullHyper {
    T* U;
    const std::int64_t* offsets;
    const std::int32_t* neighbours;
    const float* weights;
    RowShape row;
    float gamma, weight;
};

template <class T, int V>
__global__ void __launch_bounds__(kBlock)
    mean_pull_kernel(const std::int32_t* __restrict__ users, std::int64_t n, MeanPullHyper<T> h, Order order,
                     double* loss_out) {
    const int lane = lane_id();
    const int k = h.row.k;
    const float step_size = h.gamma * h.weight;
    double loss = 0.0;
    for_each_in_order(users, n, order, [&](const int u) {
        const std::int64_t begin = h.offsets[u], end = h.offsets[std::int64_t(u) + 1];
        T* own_row = h.U + std::int64_t(u) * k;
        float squared = 0.0f;
        for (int base = 0; base < k; base += kWarp * V) {
            float own[V], d[V], y[V];
            load_slice<T, V>(own_row + base, lane, k - base, h.row.full, own);
#pragma unroll
            for (int e = 0; e < V; ++e) d[e] = own[e];
            for (std::int64_t e = begin; e < end; ++e) {  // D = U_u - sum_v w_v U_v (this slice)
                const float w = h.weights[e];
                load_slice<T, V>(h.U + std::int64_t(h.neighbours[e]) * k + base, lane, k - base, h.row.full, y);
#pragma unroll
                for (int f = 0; f < V; ++f) d[f] = step::mean_pull_accumulate(d[f], w, y[f]);
            }
#pragma unroll
            for (int f = 0; f < V; ++f) {
                squared = fmaf(d[f], d[f], squared);
                own[f] = step::mean_pull_own(own[f], d[f], step_size);
            }
            store_slice<T, V>(own_row + base, lane, k - base, h.row.full, own);
            for (std::int64_t e = begin; e < end; ++e) {
                const float w = h.weights[e];
                T* v_row = h.U + std::int64_t(h.neighbours[e]) * k + base;
                load_slice<T, V>(v_row, lane, k - base, h.row.full, y);
#pragma unroll
                for (int f = 0; f < V; ++f) y[f] = step::mean_pull_neighbour(y[f], d[f], step_size, w);
                store_slice<T, V>(v_row, lane, k - base, h.row.full, y);
            }
        }
        loss += step::mean_pull_term(h.weight, detail::warp_sum(squared));
    });
    detail::add_block_loss(loss, loss_out);
}

// ---------------------------------------------------------------------------------------------------------
// SVD++ user-grouped pass: one warp per user (steps.hpp svdpp_*); the user's members are read 32 at a time
// (one coalesced load per lane) and handed out with shuffles
// ---------------------------------------------------------------------------------------------------------
template <class T>
struct SVDppHyper {
    const std::int64_t* offsets;
    const std::int32_t* items;
    const float* values;
    T* P;
    T* Q;
    T* Y;
    float* bu;
    float* bi;
    // TrustSVD (null for SVD++)
    T* W;
    const std::int64_t* trust_offsets;
    const std::int32_t* trustees;
    const float* item_weight;
    const float* trustee_weight;
    RowShape row;
    float mu, gamma, lambda, lambda_b;
};

template <class T, int V>
__global__ void __launch_bounds__(kBlock)
    svdpp_kernel(const std::int32_t* __restrict__ users, std::int64_t n, SVDppHyper<T> h, Order order,
                 double* loss_out) {
    const int lane = lane_id();
    const int k = h.row.k;
    const bool trust_aware = h.item_weight != nullptr;  // TrustSVD (uniform over the grid)
    double loss = 0.0;
    for_each_in_order(users, n, order, [&](const int u) {
        const std::int64_t begin = h.offsets[u], end = h.offsets[std::int64_t(u) + 1];
        const std::int64_t m = end - begin;
        const float s = step::inverse_sqrt_count(m);
        T* p_row = h.P + std::int64_t(u) * k;
        float p[V], z[V], g[V], x[V];
        load_slice<T, V>(p_row, lane, k, h.row.full, p);
#pragma unroll
        for (int f = 0; f < V; ++f) z[f] = g[f] = 0.0f;
        for (std::int64_t base = begin; base < end; base += kWarp) {  // z = n^-1/2 sum_j y_j
            const int item = base + lane < end ? h.items[base + lane] : 0;
            const int c = int(min(std::int64_t(kWarp), end - base));
            for (int r = 0; r < c; ++r) {
                load_slice<T, V>(h.Y + std::int64_t(__shfl_sync(kFullMask, item, r)) * k, lane, k, h.row.full, x);
#pragma unroll
                for (int f = 0; f < V; ++f) z[f] += x[f];
            }
        }
#pragma unroll
        for (int f = 0; f < V; ++f) z[f] *= s;
        std::int64_t t_begin = 0, t_end = 0;
        float s_trust = 0.0f;
        if (trust_aware) {  // z += |T_u|^-1/2 sum_v w_v
            t_begin = h.trust_offsets[u];
            t_end = h.trust_offsets[std::int64_t(u) + 1];
            if (t_end > t_begin) {
                s_trust = step::inverse_sqrt_count(t_end - t_begin);
                float sum[V];
#pragma unroll
                for (int f = 0; f < V; ++f) sum[f] = 0.0f;
                for (std::int64_t e = t_begin; e < t_end; ++e) {
                    load_slice<T, V>(h.W + std::int64_t(h.trustees[e]) * k, lane, k, h.row.full, x);
#pragma unroll
                    for (int f = 0; f < V; ++f) sum[f] += x[f];
                }
#pragma unroll
                for (int f = 0; f < V; ++f) z[f] = fmaf(s_trust, sum[f], z[f]);
            }
        }
        const float lambda_p = trust_aware ? h.lambda * s : h.lambda;
        const float lambda_bu = trust_aware ? h.lambda_b * s : h.lambda_b;
        float b_u = h.bu[u];  // every lane: the warp alone steps u, so b_u and p_u stay in registers
        for (std::int64_t base = begin; base < end; base += kWarp) {
            const int item = base + lane < end ? h.items[base + lane] : 0;
            const float value = base + lane < end ? h.values[base + lane] : 0.0f;
            const int c = int(min(std::int64_t(kWarp), end - base));
            for (int r = 0; r < c; ++r) {
                const int i = __shfl_sync(kFullMask, item, r);
                const float rating = __shfl_sync(kFullMask, value, r);
                const float c_i = trust_aware ? h.item_weight[i] : 1.0f;
                const float lambda_q = h.lambda * c_i, lambda_bi = h.lambda_b * c_i;
                T* q_row = h.Q + std::int64_t(i) * k;
                const float b_i = h.bi[i];
                load_slice<T, V>(q_row, lane, k, h.row.full, x);
                float dot_pq = 0.0f, dot_zq = 0.0f, norm_p = 0.0f, norm_q = 0.0f;
#pragma unroll
                for (int f = 0; f < V; ++f) {
                    dot_pq = fmaf(p[f], x[f], dot_pq);
                    dot_zq = fmaf(z[f], x[f], dot_zq);
                    norm_p = fmaf(p[f], p[f], norm_p);
                    norm_q = fmaf(x[f], x[f], norm_q);
                }
                detail::warp_sum2(dot_pq, dot_zq);
                detail::warp_sum2(norm_p, norm_q);
                const float e = step::svdpp_error(rating, h.mu, b_u, b_i, dot_pq, dot_zq);
#pragma unroll
                for (int f = 0; f < V; ++f)
                    step::svdpp_element(p[f], x[f], g[f], z[f], e, h.gamma, lambda_p, lambda_q);
                store_slice<T, V>(q_row, lane, k, h.row.full, x);
                loss += step::svdpp_term(e, lambda_p, norm_p, lambda_q, norm_q, lambda_bu, b_u, lambda_bi, b_i);
                if (lane == 0) h.bi[i] = step::bias_element(b_i, e, h.gamma, lambda_bi);
                b_u = step::bias_element(b_u, e, h.gamma, lambda_bu);
            }
        }
        store_slice<T, V>(p_row, lane, k, h.row.full, p);
        if (lane == 0) h.bu[u] = b_u;
        for (std::int64_t base = begin; base < end; base += kWarp) {  // the group's y step
            const int item = base + lane < end ? h.items[base + lane] : 0;
            const int c = int(min(std::int64_t(kWarp), end - base));
            for (int r = 0; r < c; ++r) {
                const int i = __shfl_sync(kFullMask, item, r);
                const float lambda_y = trust_aware ? h.lambda * h.item_weight[i] : h.lambda;
                const float shrink = step::proximal_shrink(h.gamma, m, lambda_y);
                T* y_row = h.Y + std::int64_t(i) * k;
                load_slice<T, V>(y_row, lane, k, h.row.full, x);
                float norm_y = 0.0f;
#pragma unroll
                for (int f = 0; f < V; ++f) {
                    norm_y = fmaf(x[f], x[f], norm_y);
                    x[f] = step::proximal_element(x[f], g[f], h.gamma, s, shrink);
                }
                store_slice<T, V>(y_row, lane, k, h.row.full, x);
                loss += step::group_penalty_term(m, lambda_y, detail::warp_sum(norm_y));
            }
        }
        if (trust_aware && t_end > t_begin) {  // the trustees' w step with the same gradient
            const float gamma_s = h.gamma * s_trust;
            for (std::int64_t e = t_begin; e < t_end; ++e) {
                const int v = h.trustees[e];
                const float lambda_w = h.lambda * h.trustee_weight[v];
                const float shrink = step::proximal_shrink(h.gamma, m, lambda_w);
                T* w_row = h.W + std::int64_t(v) * k;
                load_slice<T, V>(w_row, lane, k, h.row.full, x);
                float norm_w = 0.0f;
#pragma unroll
                for (int f = 0; f < V; ++f) {
                    norm_w = fmaf(x[f], x[f], norm_w);
                    x[f] = step::trust_w_element(x[f], g[f], gamma_s, shrink);
                }
                store_slice<T, V>(w_row, lane, k, h.row.full, x);
                loss += step::group_penalty_term(m, lambda_w, detail::warp_sum(norm_w));
            }
        }
    });
    detail::add_block_loss(loss, loss_out);
}

// TrustSVD's link pass: one warp per truster, p_u in registers across its edges.
template <class T>
struct TrustLinkHyper {
    const std::int64_t* offsets;
    const std::int32_t* trustees;
    const float* values;
    const float* trustee_weight;
    T* P;
    T* W;
    RowShape row;
    float gamma, lambda, lambda_t;
};

template <class T, int V>
__global__ void __launch_bounds__(kBlock)
    trust_link_kernel(const std::int32_t* __restrict__ trusters, std::int64_t n, TrustLinkHyper<T> h, Order order,
                      double* loss_out) {
    const int lane = lane_id();
    const int k = h.row.k;
    double loss = 0.0;
    for_each_in_order(trusters, n, order, [&](const int u) {
        const std::int64_t begin = h.offsets[u], end = h.offsets[std::int64_t(u) + 1];
        const float lambda_p = h.lambda_t * step::inverse_sqrt_count(end - begin);
        T* p_row = h.P + std::int64_t(u) * k;
        float p[V], w[V];
        load_slice<T, V>(p_row, lane, k, h.row.full, p);
        for (std::int64_t base = begin; base < end; base += kWarp) {
            const int trustee = base + lane < end ? h.trustees[base + lane] : 0;
            const float value = base + lane < end ? h.values[base + lane] : 0.0f;
            const int c = int(min(std::int64_t(kWarp), end - base));
            for (int r = 0; r < c; ++r) {
                const int v = __shfl_sync(kFullMask, trustee, r);
                const float target = __shfl_sync(kFullMask, value, r);
                const float lambda_w = h.lambda * h.trustee_weight[v];
                T* w_row = h.W + std::int64_t(v) * k;
                load_slice<T, V>(w_row, lane, k, h.row.full, w);
                float dot = 0.0f, norm_p = 0.0f, norm_w = 0.0f;
#pragma unroll
                for (int f = 0; f < V; ++f) {
                    dot = fmaf(p[f], w[f], dot);
                    norm_p = fmaf(p[f], p[f], norm_p);
                    norm_w = fmaf(w[f], w[f], norm_w);
                }
                detail::warp_sum2(dot, norm_p);
                norm_w = detail::warp_sum(norm_w);
                const float e = target - dot;
#pragma unroll
                for (int f = 0; f < V; ++f)
                    step::pair_element(p[f], w[f], h.lambda_t * e, h.gamma, lambda_p, lambda_w);
                store_slice<T, V>(w_row, lane, k, h.row.full, w);
                loss += step::trust_link_term(h.lambda_t, e, lambda_p, norm_p, lambda_w, norm_w);
            }
        }
        store_slice<T, V>(p_row, lane, k, h.row.full, p);
    });
    detail::add_block_loss(loss, loss_out);
}

// ---------------------------------------------------------------------------------------------------------
// RSTE user-grouped pass (steps.hpp rste_*)
// ---------------------------------------------------------------------------------------------------------
template <class T>
struct RSTEHyper {
    const std::int64_t* offsets;
    const std::int32_t* items;
    const float* values;
    const std::int64_t* trust_offsets;
    const std::int32_t* trustees;
    const float* weights;
    T* U;
    T* V;
    RowShape row;
    float offset, alpha, gamma, lambda;
};

template <class T, int Vw>
__global__ void __launch_bounds__(kBlock)
    rste_kernel(const std::int32_t* __restrict__ users, std::int64_t n, RSTEHyper<T> h, Order order,
                double* loss_out) {
    const int lane = lane_id();
    const int k = h.row.k;
    double loss = 0.0;
    for_each_in_order(users, n, order, [&](const int u) {
        const std::int64_t t0 = h.trust_offsets[u], t1 = h.trust_offsets[std::int64_t(u) + 1];
        const float own = t1 > t0 ? h.alpha : 1.0f, rest = 1.0f - h.alpha;
        float nb[Vw], grad[Vw], x[Vw], y[Vw];
#pragma unroll
        for (int f = 0; f < Vw; ++f) nb[f] = grad[f] = 0.0f;
        for (std::int64_t e = t0; e < t1; ++e) {  // N_u = sum_v S_uv U_v
            const float w = h.weights[e];
            load_slice<T, Vw>(h.U + std::int64_t(h.trustees[e]) * k, lane, k, h.row.full, y);
#pragma unroll
            for (int f = 0; f < Vw; ++f) nb[f] = fmaf(w, y[f], nb[f]);
        }
        T* u_row = h.U + std::int64_t(u) * k;
        load_slice<T, Vw>(u_row, lane, k, h.row.full, x);
        const std::int64_t begin = h.offsets[u], end = h.offsets[std::int64_t(u) + 1];
        for (std::int64_t base = begin; base < end; base += kWarp) {
            const int item = base + lane < end ? h.items[base + lane] : 0;
            const float value = base + lane < end ? h.values[base + lane] : 0.0f;
            const int c = int(min(std::int64_t(kWarp), end - base));
            for (int r = 0; r < c; ++r) {
                const int i = __shfl_sync(kFullMask, item, r);
                const float target = __shfl_sync(kFullMask, value, r);
                T* v_row = h.V + std::int64_t(i) * k;
                load_slice<T, Vw>(v_row, lane, k, h.row.full, y);
                float z[Vw];
                float dot = 0.0f, norms = 0.0f;
#pragma unroll
                for (int f = 0; f < Vw; ++f) {
                    z[f] = step::rste_blend(own, x[f], rest, nb[f]);
                    dot = fmaf(z[f], y[f], dot);
                    norms = fmaf(x[f], x[f], fmaf(y[f], y[f], norms));
                }
                detail::warp_sum2(dot, norms);
                const step::LogisticCoef coef = step::logistic_coef(target, dot, h.offset, 1.0f);
#pragma unroll
                for (int f = 0; f < Vw; ++f)
                    step::rste_element(x[f], y[f], grad[f], z[f], coef.d, own, h.gamma, h.lambda);
                store_slice<T, Vw>(v_row, lane, k, h.row.full, y);
                loss += step::logistic_term(coef.e, norms, 1.0f, 1.0f, h.lambda);
            }
        }
        store_slice<T, Vw>(u_row, lane, k, h.row.full, x);
        for (std::int64_t e = t0; e < t1; ++e) {  // the delayed out-neighbour step
            const float step_size = h.gamma * rest * h.weights[e];
            T* v_row = h.U + std::int64_t(h.trustees[e]) * k;
            load_slice<T, Vw>(v_row, lane, k, h.row.full, y);
#pragma unroll
            for (int f = 0; f < Vw; ++f) y[f] = step::rste_neighbour(y[f], grad[f], step_size);
            store_slice<T, Vw>(v_row, lane, k, h.row.full, y);
        }
    });
    detail::add_block_loss(loss, loss_out);
}

// ---------------------------------------------------------------------------------------------------------
// BPR / SBPR sampled pass
// ---------------------------------------------------------------------------------------------------------
template <class T>
struct RankingHyper {
    step::SamplerData data;
    std::int64_t n_samples;
    std::uint64_t key;
    T* P;
    T* Q;
    float* bias;
    RowShape row;
    float gamma, lambda, lambda_b;
    float social_weight;  // SBPR's alpha (sbpr.hpp)
};

template <class T, int V, bool RESIDENT>
__device__ __forceinline__ double bpr_update(const RankingHyper<T>& h, const step::RankingSample& s, int lane) {
    const int k = h.row.k;
    T* p_row = h.P + std::int64_t(s.user) * k;
    T* i_row = h.Q + std::int64_t(s.item) * k;
    T* j_row = h.Q + std::int64_t(s.negative) * k;
    const float b_i = h.bias[s.item], b_j = h.bias[s.negative];  // every lane (one broadcast load)
    float p[V], qi[V], qj[V];
    float dot = 0.0f, norms = 0.0f;
    for (int base = 0; base < k; base += kWarp * V) {
        load_slice<T, V>(p_row + base, lane, k - base, h.row.full, p);
        load_slice<T, V>(i_row + base, lane, k - base, h.row.full, qi);
        load_slice<T, V>(j_row + base, lane, k - base, h.row.full, qj);
#pragma unroll
        for (int f = 0; f < V; ++f) {
            dot = fmaf(p[f], qi[f] - qj[f], dot);
            norms += p[f] * p[f] + qi[f] * qi[f] + qj[f] * qj[f];
        }
        if (RESIDENT) break;
    }
    detail::warp_sum2(dot, norms);
    float x;
    const float e = step::bpr_coef(dot, b_i, b_j, &x);
    for (int base = 0; base < k; base += kWarp * V) {
        if (!RESIDENT) {
            load_slice<T, V>(p_row + base, lane, k - base, h.row.full, p);
            load_slice<T, V>(i_row + base, lane, k - base, h.row.full, qi);
            load_slice<T, V>(j_row + base, lane, k - base, h.row.full, qj);
        }
#pragma unroll
        for (int f = 0; f < V; ++f) step::bpr_element(p[f], qi[f], qj[f], e, h.gamma, h.lambda);
        store_slice<T, V>(p_row + base, lane, k - base, h.row.full, p);
        store_slice<T, V>(i_row + base, lane, k - base, h.row.full, qi);
        store_slice<T, V>(j_row + base, lane, k - base, h.row.full, qj);
        if (RESIDENT) break;
    }
    if (lane == 0) {
        h.bias[s.item] = step::bias_element(b_i, e, h.gamma, h.lambda_b);
        h.bias[s.negative] = step::bias_element(b_j, -e, h.gamma, h.lambda_b);
    }
    return step::bpr_term(x, norms, h.lambda, b_i, b_j, h.lambda_b);
}

template <class T, int V, bool RESIDENT>
__device__ __forceinline__ double sbpr_update(const RankingHyper<T>& h, const step::RankingSample& s, int lane) {
    const int k = h.row.k;
    T* p_row = h.P + std::int64_t(s.user) * k;
    T* i_row = h.Q + std::int64_t(s.item) * k;
    T* k_row = h.Q + std::int64_t(s.social) * k;
    T* j_row = h.Q + std::int64_t(s.negative) * k;
    const float b_i = h.bias[s.item], b_k = h.bias[s.social], b_j = h.bias[s.negative];
    float p[V], qi[V], qk[V], qj[V];
    float x_ik = 0.0f, x_kj = 0.0f, norms = 0.0f, norm_k = 0.0f;
    for (int base = 0; base < k; base += kWarp * V) {
        load_slice<T, V>(p_row + base, lane, k - base, h.row.full, p);
        load_slice<T, V>(i_row + base, lane, k - base, h.row.full, qi);
        load_slice<T, V>(k_row + base, lane, k - base, h.row.full, qk);
        load_slice<T, V>(j_row + base, lane, k - base, h.row.full, qj);
#pragma unroll
        for (int f = 0; f < V; ++f) {
            x_ik = fmaf(p[f], qi[f] - qk[f], x_ik);
            x_kj = fmaf(p[f], qk[f] - qj[f], x_kj);
            norms += p[f] * p[f] + qi[f] * qi[f] + qj[f] * qj[f];
            norm_k += qk[f] * qk[f];
        }
        if (RESIDENT) break;
    }
    detail::warp_sum2(x_ik, x_kj);
    detail::warp_sum2(norms, norm_k);
    const step::SBPRCoef coef = step::sbpr_coef(x_ik, x_kj, b_i, b_k, b_j, s.count, h.social_weight);
    for (int base = 0; base < k; base += kWarp * V) {
        if (!RESIDENT) {
            load_slice<T, V>(p_row + base, lane, k - base, h.row.full, p);
            load_slice<T, V>(i_row + base, lane, k - base, h.row.full, qi);
            load_slice<T, V>(k_row + base, lane, k - base, h.row.full, qk);
            load_slice<T, V>(j_row + base, lane, k - base, h.row.full, qj);
        }
#pragma unroll
        for (int f = 0; f < V; ++f) step::sbpr_element(p[f], qi[f], qk[f], qj[f], coef, h.gamma, h.lambda);
        store_slice<T, V>(p_row + base, lane, k - base, h.row.full, p);
        store_slice<T, V>(i_row + base, lane, k - base, h.row.full, qi);
        store_slice<T, V>(k_row + base, lane, k - base, h.row.full, qk);
        store_slice<T, V>(j_row + base, lane, k - base, h.row.full, qj);
        if (RESIDENT) break;
    }
    if (lane == 0) {
        h.bias[s.item] = step::bias_element(b_i, coef.e1 + coef.e3, h.gamma, h.lambda_b);
        h.bias[s.social] = step::bias_element(b_k, coef.e2 - coef.e1, h.gamma, coef.alpha * h.lambda_b);
        h.bias[s.negative] = step::bias_element(b_j, -(coef.e2 + coef.e3), h.gamma, h.lambda_b);
    }
    return step::sbpr_term(coef, norms, norm_k, h.lambda, b_i, b_k, b_j, h.lambda_b);
}

// Every lane draws the same sample (same stream, broadcast loads), so the warp never diverges.
template <class T, int V, bool RESIDENT>
__global__ void __launch_bounds__(kBlock) ranking_kernel(RankingHyper<T> h, double* loss_out) {
    const int lane = lane_id();
    double loss = 0.0;
    for (std::uint64_t s = warp_id(); s < std::uint64_t(h.n_samples); s += warp_count()) {
        step::CounterStream gen = step::sample_stream(h.key, s);
        const step::RankingSample sample = step::draw_sample(h.data, gen);
        if (sample.social < 0)
            loss += bpr_update<T, V, RESIDENT>(h, sample, lane);
        else
            loss += sbpr_update<T, V, RESIDENT>(h, sample, lane);
    }
    detail::add_block_loss(loss, loss_out);
}

// ---------------------------------------------------------------------------------------------------------
// Launches
// ---------------------------------------------------------------------------------------------------------
// Blocks of a persistent grid over `chunks` units, about `per_warp` units per warp, at most the resident count.
template <class Kernel>
int grid_for(Kernel kernel, std::uint64_t units, std::uint64_t per_warp) {
    const std::uint64_t per_block = per_warp * (kBlock / kWarp);
    return detail::resident_blocks(kernel, kBlock, std::int64_t((units + per_block - 1) / per_block));
}

// Calls fn.template operator()<V, RESIDENT>() for the row layout of k factors.
template <class Fn>
void by_layout(int k, Fn&& fn) {
    switch (detail::elements_per_lane(k)) {
        case 1: return fn.template operator()<1, true>();
        case 2: return fn.template operator()<2, true>();
        case 4: return fn.template operator()<4, true>();
        case 8: return fn.template operator()<8, true>();
        default: return fn.template operator()<8, false>();
    }
}

inline int slice_width(int k) {
    const int kpl = detail::elements_per_lane(k);
    return kpl > 0 ? kpl : 8;
}

// Calls fn(std::integral_constant<int, V>{}) with V = slice_width(k): the kernel instance to launch.
template <class Fn>
void with_slice_width(int k, Fn&& fn) {
    switch (slice_width(k)) {
        case 1: return fn(std::integral_constant<int, 1>{});
        case 2: return fn(std::integral_constant<int, 2>{});
        case 4: return fn(std::integral_constant<int, 4>{});
        default: return fn(std::integral_constant<int, 8>{});
    }
}

template <class T>
bool all_vector_rows(int k, std::initializer_list<const void*> ptrs) {
    for (const void* p : ptrs)
        if (!detail::vector_rows<T>(p, k, slice_width(k))) return false;
    return true;
}

void begin_pass(double* loss, const char* name, std::int32_t factors, std::int64_t n, cudaStream_t stream) {
    if (n < 0) throw std::invalid_argument(std::string(name) + ": negative number of records");
    if (factors <= 0) throw std::invalid_argument(std::string(name) + ": factors must be positive");
    if (loss == nullptr) throw std::invalid_argument(std::string(name) + ": null loss buffer");
    check(cudaMemsetAsync(loss, 0, sizeof(double), stream), "cudaMemsetAsync(loss)");
}

template <class T>
struct StorageTag {
    using type = T;
};

// The common tail of an ordered pass's entry point: zero the loss, then, unless there is nothing to do,
// launch(StorageTag<T>{}, order) with T the factors' storage type and the epoch's chunk order.
template <class Args, class Launch>
void run_ordered_pass(const Args& a, const char* name, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream,
                      Launch launch) {
    begin_pass(a.loss, name, a.factors, a.n, stream);
    if (a.n == 0) return;
    const Order order = order_of(a.n, seed, epoch, a.pass);
    if (a.storage == Storage::float16)
        launch(StorageTag<__half>{}, order);
    else
        launch(StorageTag<float>{}, order);
}

template <class T>
struct LogisticLaunch {
    const LogisticPassArgs& a;
    const LogisticHyper<T>& h;
    const Order& order;
    cudaStream_t stream;
    template <int V, bool RESIDENT>
    void operator()() const {
        auto kernel = logistic_pair_kernel<T, V, RESIDENT>;
        const int blocks = grid_for(kernel, order.chunks, 8);
        kernel<<<blocks, kBlock, 0, stream>>>(a.a, a.b, a.values, a.n, h, order, a.loss);
        check(cudaGetLastError(), "logistic_pair kernel launch");
    }
};

template <class T>
struct RankingLaunch {
    const RankingPassArgs& a;
    const RankingHyper<T>& h;
    cudaStream_t stream;
    template <int V, bool RESIDENT>
    void operator()() const {
        auto kernel = ranking_kernel<T, V, RESIDENT>;
        const int blocks = grid_for(kernel, std::uint64_t(a.n_samples), 256);  // as sgd.cu: >= 256 updates a warp
        kernel<<<blocks, kBlock, 0, stream>>>(h, a.loss);
        check(cudaGetLastError(), "ranking kernel launch");
    }
};

template <class T>
void logistic_launch(const LogisticPassArgs& a, const Order& order, cudaStream_t stream) {
    LogisticHyper<T> h{};
    const int k = a.factors;
    h.n_sides = a.n_sides;
    for (int s = 0; s < a.n_sides; ++s)
        h.sides[s] = Side<T>{static_cast<T*>(a.sides[s].A), static_cast<T*>(a.sides[s].B), a.sides[s].data_weight,
                             a.sides[s].penalty_weight, a.sides[s].offset};
    h.row = RowShape{k, all_vector_rows<T>(k, {a.sides[0].A, a.sides[0].B}) &&
                            (a.n_sides < 2 || all_vector_rows<T>(k, {a.sides[1].A, a.sides[1].B}))};
    h.gamma = a.learning_rate;
    h.lambda = a.regularization;
    by_layout(k, LogisticLaunch<T>{a, h, order, stream});
}

template <class T>
void edge_launch(const EdgePassArgs& a, const Order& order, cudaStream_t stream) {
    const int k = a.factors;
    const EdgeHyper<T> h{static_cast<T*>(a.user_factors), RowShape{k, all_vector_rows<T>(k, {a.user_factors})},
                         a.learning_rate, a.social_regularization};
    const auto go = [&](auto kernel) {
        const int blocks = grid_for(kernel, order.chunks, 8);
        kernel<<<blocks, kBlock, 0, stream>>>(a.a, a.b, a.values, a.n, h, order, a.loss);
        check(cudaGetLastError(), "soreg_edge kernel launch");
    };
    with_slice_width(k, [&](auto v) { go(soreg_edge_kernel<T, decltype(v)::value>); });
}

template <class T>
void mean_pull_launch(const MeanPullArgs& a, const Order& order, cudaStream_t stream) {
    const int k = a.factors;
    const MeanPullHyper<T> h{static_cast<T*>(a.user_factors), a.offsets, a.neighbours, a.weights,
                             RowShape{k, all_vector_rows<T>(k, {a.user_factors})}, a.learning_rate, a.weight};
    const auto go = [&](auto kernel) {
        const int blocks = grid_for(kernel, order.chunks, 2);  // a user costs (1 + degree) rows: fewer per warp
        kernel<<<blocks, kBlock, 0, stream>>>(a.users, a.n, h, order, a.loss);
        check(cudaGetLastError(), "mean_pull kernel launch");
    };
    with_slice_width(k, [&](auto v) { go(mean_pull_kernel<T, decltype(v)::value>); });
}

template <class T>
void svdpp_launch(const SVDppPassArgs& a, const Order& order, cudaStream_t stream) {
    const int k = a.factors;
    const bool vec = all_vector_rows<T>(k, {a.user_factors, a.item_factors, a.implicit_factors}) &&
                     (a.trustee_factors == nullptr || all_vector_rows<T>(k, {a.trustee_factors}));
    const SVDppHyper<T> h{a.offsets, a.items, a.values, static_cast<T*>(a.user_factors),
                          static_cast<T*>(a.item_factors), static_cast<T*>(a.implicit_factors), a.user_bias,
                          a.item_bias, static_cast<T*>(a.trustee_factors), a.trust_offsets, a.trustees,
                          a.item_weight, a.trustee_weight, RowShape{k, vec}, a.global_bias, a.learning_rate,
                          a.regularization, a.bias_regularization};
    const auto go = [&](auto kernel) {
        const int blocks = grid_for(kernel, order.chunks, 2);  // a user costs 3 |I_u| + 2 rows
        kernel<<<blocks, kBlock, 0, stream>>>(a.users, a.n, h, order, a.loss);
        check(cudaGetLastError(), "svdpp kernel launch");
    };
    with_slice_width(k, [&](auto v) { go(svdpp_kernel<T, decltype(v)::value>); });
}

template <class T>
void trust_link_launch(const TrustLinkPassArgs& a, const Order& order, cudaStream_t stream) {
    const int k = a.factors;
    const TrustLinkHyper<T> h{a.offsets, a.trustees, a.values, a.trustee_weight, static_cast<T*>(a.user_factors),
                              static_cast<T*>(a.trustee_factors),
                              RowShape{k, all_vector_rows<T>(k, {a.user_factors, a.trustee_factors})},
                              a.learning_rate, a.regularization, a.social_regularization};
    const auto go = [&](auto kernel) {
        const int blocks = grid_for(kernel, order.chunks, 2);
        kernel<<<blocks, kBlock, 0, stream>>>(a.trusters, a.n, h, order, a.loss);
        check(cudaGetLastError(), "trust_link kernel launch");
    };
    with_slice_width(k, [&](auto v) { go(trust_link_kernel<T, decltype(v)::value>); });
}

template <class T>
void rste_launch(const RSTEPassArgs& a, const Order& order, cudaStream_t stream) {
    const int k = a.factors;
    const RSTEHyper<T> h{a.offsets, a.items, a.values, a.trust_offsets, a.trustees, a.trust_weights,
                         static_cast<T*>(a.user_factors), static_cast<T*>(a.item_factors),
                         RowShape{k, all_vector_rows<T>(k, {a.user_factors, a.item_factors})}, a.global_bias,
                         a.alpha, a.learning_rate, a.regularization};
    const auto go = [&](auto kernel) {
        const int blocks = grid_for(kernel, order.chunks, 2);
        kernel<<<blocks, kBlock, 0, stream>>>(a.users, a.n, h, order, a.loss);
        check(cudaGetLastError(), "rste kernel launch");
    };
    with_slice_width(k, [&](auto v) { go(rste_kernel<T, decltype(v)::value>); });
}

template <class T>
void ranking_launch(const RankingPassArgs& a, std::uint64_t key, cudaStream_t stream) {
    RankingHyper<T> h{};
    h.data = step::SamplerData{a.indptr, a.indices, a.pool_users, a.pool_items, a.n_pool, a.n_items,
                               a.social_indptr, a.social_items, a.social_counts};
    h.n_samples = a.n_samples;
    h.key = key;
    h.P = static_cast<T*>(a.user_factors);
    h.Q = static_cast<T*>(a.item_factors);
    h.bias = a.item_bias;
    h.row = RowShape{a.factors, all_vector_rows<T>(a.factors, {a.user_factors, a.item_factors})};
    h.social_weight = a.social_weight;
    h.gamma = a.learning_rate;
    h.lambda = a.regularization;
    h.lambda_b = a.bias_regularization;
    by_layout(a.factors, RankingLaunch<T>{a, h, stream});
}

}  // namespace

void logistic_pair_epoch(const LogisticPassArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    if (a.n_sides < 1 || a.n_sides > 2) throw std::invalid_argument("logistic_pair_epoch: n_sides must be 1 or 2");
    if (a.n > 0) {
        if (!a.a || !a.b || !a.values) throw std::invalid_argument("logistic_pair_epoch: null record pointer");
        for (int s = 0; s < a.n_sides; ++s)
            if (!a.sides[s].A || !a.sides[s].B) throw std::invalid_argument("logistic_pair_epoch: null factor pointer");
    }
    run_ordered_pass(a, "logistic_pair_epoch", seed, epoch, stream, [&](auto tag, const Order& order) {
        logistic_launch<typename decltype(tag)::type>(a, order, stream);
    });
}

void soreg_edge_epoch(const EdgePassArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    if (a.n > 0 && (!a.a || !a.b || !a.values || !a.user_factors))
        throw std::invalid_argument("soreg_edge_epoch: null record or factor pointer");
    run_ordered_pass(a, "soreg_edge_epoch", seed, epoch, stream, [&](auto tag, const Order& order) {
        edge_launch<typename decltype(tag)::type>(a, order, stream);
    });
}

void mean_pull_epoch(const MeanPullArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    if (a.n > 0 && (!a.users || !a.offsets || !a.neighbours || !a.weights || !a.user_factors))
        throw std::invalid_argument("mean_pull_epoch: null user, neighbour or factor pointer");
    run_ordered_pass(a, "mean_pull_epoch", seed, epoch, stream, [&](auto tag, const Order& order) {
        mean_pull_launch<typename decltype(tag)::type>(a, order, stream);
    });
}

void svdpp_epoch(const SVDppPassArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    if (a.factors > kSVDppMaxFactors)
        throw std::invalid_argument("svdpp_epoch: the CUDA SVD++ pass supports at most 256 factors");
    if (a.n > 0 && (!a.users || !a.offsets || !a.items || !a.values || !a.user_factors || !a.item_factors ||
                    !a.implicit_factors || !a.user_bias || !a.item_bias))
        throw std::invalid_argument("svdpp_epoch: null rating, factor or bias pointer");
    const bool any_trust = a.trustee_factors || a.trust_offsets || a.trustees || a.item_weight || a.trustee_weight;
    const bool all_trust = a.trustee_factors && a.trust_offsets && a.trustees && a.item_weight && a.trustee_weight;
    if (any_trust && !all_trust)
        throw std::invalid_argument("svdpp_epoch: TrustSVD needs all of trustee_factors, trust_offsets, trustees, "
                                    "item_weight and trustee_weight");
    run_ordered_pass(a, "svdpp_epoch", seed, epoch, stream, [&](auto tag, const Order& order) {
        svdpp_launch<typename decltype(tag)::type>(a, order, stream);
    });
}

void trust_link_epoch(const TrustLinkPassArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    if (a.factors > kSVDppMaxFactors)
        throw std::invalid_argument("trust_link_epoch: the CUDA TrustSVD passes support at most 256 factors");
    if (a.n > 0 && (!a.trusters || !a.offsets || !a.trustees || !a.values || !a.trustee_weight ||
                    !a.user_factors || !a.trustee_factors))
        throw std::invalid_argument("trust_link_epoch: null edge, weight or factor pointer");
    run_ordered_pass(a, "trust_link_epoch", seed, epoch, stream, [&](auto tag, const Order& order) {
        trust_link_launch<typename decltype(tag)::type>(a, order, stream);
    });
}

void rste_epoch(const RSTEPassArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    if (a.factors > kSVDppMaxFactors)
        throw std::invalid_argument("rste_epoch: the CUDA RSTE pass supports at most 256 factors");
    if (a.n > 0 && (!a.users || !a.offsets || !a.items || !a.values || !a.trust_offsets || !a.trustees ||
                    !a.trust_weights || !a.user_factors || !a.item_factors))
        throw std::invalid_argument("rste_epoch: null rating, trust or factor pointer");
    run_ordered_pass(a, "rste_epoch", seed, epoch, stream, [&](auto tag, const Order& order) {
        rste_launch<typename decltype(tag)::type>(a, order, stream);
    });
}

void ranking_epoch(const RankingPassArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    if (a.n_samples > 0) {
        if (a.n_pool <= 0) throw std::invalid_argument("ranking_epoch: samples requested from an empty pool");
        if (a.n_items < 2) throw std::invalid_argument("ranking_epoch: needs at least 2 items");
        if (!a.indptr || !a.indices || !a.pool_users || !a.pool_items || !a.user_factors || !a.item_factors ||
            !a.item_bias)
            throw std::invalid_argument("ranking_epoch: null interaction or parameter pointer");
        if (a.social_indptr && (!a.social_items || !a.social_counts))
            throw std::invalid_argument("ranking_epoch: social_indptr without social_items / social_counts");
    }
    begin_pass(a.loss, "ranking_epoch", a.factors, a.n_samples, stream);
    if (a.n_samples == 0) return;
    const std::uint64_t key = sample_key(seed, epoch);
    if (a.storage == Storage::float16)
        ranking_launch<__half>(a, key, stream);
    else
        ranking_launch<float>(a, key, stream);
}

std::uint64_t sample_key(std::uint64_t seed, std::int64_t epoch) {
    return stream_seed(seed, std::uint64_t(epoch), kSamplePass, 0);
}

}  // namespace socialrec::cuda
