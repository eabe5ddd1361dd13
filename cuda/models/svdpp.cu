// CUDA: SVD++'s user-grouped rating pass (cpp/include/socialrec/models/svdpp.hpp UserGroupStep), with the trust
// pointers TrustSVD's rating pass.
// See models/svdpp.hpp for the entry point, sgd.cuh for the schedule, steps.hpp for the per-update math.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>

#include "models/svdpp.hpp"
#include "sgd.cuh"
#include "steps.hpp"
#include "socialrec/rng.hpp"
#include "socialrec/types.hpp"

namespace socialrec::cuda {
namespace {

using namespace detail;

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
    // a user costs 3 |I_u| + 2 rows
    launch_sliced(
        k, order.chunks, 2, "svdpp kernel launch", stream,
        [](auto v) { return svdpp_kernel<T, decltype(v)::value>; }, a.users, a.n, h, order, a.loss);
}

}  // namespace

void svdpp_pass(const SVDppPassArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    check_grouped_factors(a.factors, "svdpp_pass: the CUDA SVD++ pass");
    if (a.n > 0 && (!a.users || !a.offsets || !a.items || !a.values || !a.user_factors || !a.item_factors ||
                    !a.implicit_factors || !a.user_bias || !a.item_bias))
        throw std::invalid_argument("svdpp_pass: null rating, factor or bias pointer");
    const bool any_trust = a.trustee_factors || a.trust_offsets || a.trustees || a.item_weight || a.trustee_weight;
    const bool all_trust = a.trustee_factors && a.trust_offsets && a.trustees && a.item_weight && a.trustee_weight;
    if (any_trust && !all_trust)
        throw std::invalid_argument("svdpp_pass: TrustSVD needs all of trustee_factors, trust_offsets, trustees, "
                                    "item_weight and trustee_weight");
    run_ordered_pass(a, "svdpp_pass", seed, epoch, stream, [&](auto tag, const Order& order) {
        svdpp_launch<typename decltype(tag)::type>(a, order, stream);
    });
}

}  // namespace socialrec::cuda
