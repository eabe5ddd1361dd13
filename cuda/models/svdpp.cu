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
// SVD++ user-grouped pass: one warp per user (steps.hpp svdpp_*); group<V>(u, loss) steps user u's ratings
// (per_user_kernel, sgd.cuh), whose members for_each_member reads 32 at a time and hands out with shuffles
// ---------------------------------------------------------------------------------------------------------
template <class T>
struct SVDppHyper {
    Groups ratings;
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

    // Replaces each element x[f] of the row at `ptr` by update(x[f], f); returns the row's old squared norm.
    template <int V, class Update>
    __device__ __forceinline__ float update_row(T* ptr, Update&& update) const {
        float x[V], norm = 0.0f;
        load_slice<T, V>(ptr, lane_id(), row.k, row.full, x);
#pragma unroll
        for (int f = 0; f < V; ++f) {
            norm = fmaf(x[f], x[f], norm);
            x[f] = update(x[f], f);
        }
        store_slice<T, V>(ptr, lane_id(), row.k, row.full, x);
        return detail::warp_sum(norm);
    }

    template <int V>
    __device__ __forceinline__ void group(const int u, double& loss) const {
        const int lane = lane_id();
        const int k = row.k;
        const bool trust_aware = item_weight != nullptr;  // TrustSVD (uniform over the grid)
        const std::int64_t m = ratings.offsets[std::int64_t(u) + 1] - ratings.offsets[u];
        const float s = step::inverse_sqrt_count(m);
        T* p_row = P + std::int64_t(u) * k;
        float p[V], z[V], g[V], x[V];
        load_slice<T, V>(p_row, lane, k, row.full, p);
#pragma unroll
        for (int f = 0; f < V; ++f) z[f] = g[f] = 0.0f;
        for_each_member<false>(ratings, u, [&](const int j, float) {  // z = n^-1/2 sum_j y_j
            load_slice<T, V>(Y + std::int64_t(j) * k, lane, k, row.full, x);
#pragma unroll
            for (int f = 0; f < V; ++f) z[f] += x[f];
        });
#pragma unroll
        for (int f = 0; f < V; ++f) z[f] *= s;
        std::int64_t t_begin = 0, t_end = 0;
        float s_trust = 0.0f;
        if (trust_aware) {  // z += |T_u|^-1/2 sum_v w_v
            t_begin = trust_offsets[u];
            t_end = trust_offsets[std::int64_t(u) + 1];
            if (t_end > t_begin) {
                s_trust = step::inverse_sqrt_count(t_end - t_begin);
                float sum[V];
#pragma unroll
                for (int f = 0; f < V; ++f) sum[f] = 0.0f;
                for (std::int64_t e = t_begin; e < t_end; ++e) {
                    load_slice<T, V>(W + std::int64_t(trustees[e]) * k, lane, k, row.full, x);
#pragma unroll
                    for (int f = 0; f < V; ++f) sum[f] += x[f];
                }
#pragma unroll
                for (int f = 0; f < V; ++f) z[f] = fmaf(s_trust, sum[f], z[f]);
            }
        }
        const float lambda_p = trust_aware ? lambda * s : lambda;
        const float lambda_bu = trust_aware ? lambda_b * s : lambda_b;
        float b_u = bu[u];  // every lane: the warp alone steps u, so b_u and p_u stay in registers
        for_each_member(ratings, u, [&](const int i, const float rating) {
            const float c_i = trust_aware ? item_weight[i] : 1.0f;
            const float lambda_q = lambda * c_i, lambda_bi = lambda_b * c_i;
            T* q_row = Q + std::int64_t(i) * k;
            const float b_i = bi[i];
            load_slice<T, V>(q_row, lane, k, row.full, x);
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
            const float e = step::svdpp_error(rating, mu, b_u, b_i, dot_pq, dot_zq);
#pragma unroll
            for (int f = 0; f < V; ++f) step::svdpp_element(p[f], x[f], g[f], z[f], e, gamma, lambda_p, lambda_q);
            store_slice<T, V>(q_row, lane, k, row.full, x);
            loss += step::svdpp_term(e, lambda_p, norm_p, lambda_q, norm_q, lambda_bu, b_u, lambda_bi, b_i);
            if (lane == 0) bi[i] = step::bias_element(b_i, e, gamma, lambda_bi);
            b_u = step::bias_element(b_u, e, gamma, lambda_bu);
        });
        store_slice<T, V>(p_row, lane, k, row.full, p);
        if (lane == 0) bu[u] = b_u;
        for_each_member<false>(ratings, u, [&](const int i, float) {  // the group's y step
            const float lambda_y = trust_aware ? lambda * item_weight[i] : lambda;
            const float shrink = step::proximal_shrink(gamma, m, lambda_y);
            const float norm_y = update_row<V>(Y + std::int64_t(i) * k, [&](float y, int f) {
                return step::proximal_element(y, g[f], gamma, s, shrink);
            });
            loss += step::group_penalty_term(m, lambda_y, norm_y);
        });
        if (trust_aware && t_end > t_begin) {  // the trustees' w step with the same gradient
            const float gamma_s = gamma * s_trust;
            for (std::int64_t e = t_begin; e < t_end; ++e) {
                const int v = trustees[e];
                const float lambda_w = lambda * trustee_weight[v];
                const float shrink = step::proximal_shrink(gamma, m, lambda_w);
                const float norm_w = update_row<V>(W + std::int64_t(v) * k, [&](float w, int f) {
                    return step::trust_w_element(w, g[f], gamma_s, shrink);
                });
                loss += step::group_penalty_term(m, lambda_w, norm_w);
            }
        }
    }
};

template <class T>
void svdpp_launch(const SVDppPassArgs& a, const Order& order, cudaStream_t stream) {
    const int k = a.factors;
    const bool vec = all_vector_rows<T>(k, {a.user_factors, a.item_factors, a.implicit_factors}) &&
                     (a.trustee_factors == nullptr || all_vector_rows<T>(k, {a.trustee_factors}));
    const SVDppHyper<T> h{Groups{a.offsets, a.items, a.values}, static_cast<T*>(a.user_factors),
                          static_cast<T*>(a.item_factors), static_cast<T*>(a.implicit_factors), a.user_bias,
                          a.item_bias, static_cast<T*>(a.trustee_factors), a.trust_offsets, a.trustees,
                          a.item_weight, a.trustee_weight, RowShape{k, vec}, a.global_bias, a.learning_rate,
                          a.regularization, a.bias_regularization};
    launch_per_user(a, h, order, "svdpp kernel launch", stream);  // a user costs 3 |I_u| + 2 rows
}

}  // namespace

void svdpp_pass(const SVDppPassArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    check_grouped_pass(a, "svdpp_pass: the CUDA SVD++ pass");
    if (a.n > 0 && (!a.item_factors || !a.implicit_factors || !a.user_bias || !a.item_bias))
        throw std::invalid_argument("svdpp_pass: null item factor or bias pointer");
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
