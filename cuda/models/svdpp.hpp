// CUDA: SVD++'s user-grouped rating pass (cpp/include/socialrec/models/svdpp.hpp UserGroupStep), with the trust
// pointers TrustSVD's rating pass.
// A plain C++ entry point taking raw device pointers, sizes and a stream (nvcc never sees pybind11); the
// schedule and the loss convention are those of cuda/sgd.cuh; the step (SVDppStep, below) is written once over
// a team and a row layout (hd_team.hpp) for the kernel and its host replay.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "hd_team.hpp"
#include "sgd.hpp"
#include "steps.hpp"

namespace socialrec::cuda {

// SVD++'s user-grouped rating pass (svdpp.hpp UserGroupStep without the trust part): one warp per user, which
// keeps p_u, z_u and the y-gradient g in registers for the whole group (factors <= 256), steps each of the
// user's ratings in order, then takes the proximal step on every y_j of the group. Hogwild over users.
struct SVDppPassArgs : GroupedPassArgs {  // users' ratings; user_factors p
    void* item_factors = nullptr;      // q
    void* implicit_factors = nullptr;  // y
    float* user_bias = nullptr;
    float* item_bias = nullptr;
    float global_bias = 0, learning_rate = 0, regularization = 0, bias_regularization = 0;
    // TrustSVD's trust part (all null for SVD++): w, the trust CSR, |U_i|^-1/2 and |T+_v|^-1/2 (float32).
    void* trustee_factors = nullptr;
    const std::int64_t* trust_offsets = nullptr;  // n_users + 1
    const std::int32_t* trustees = nullptr;
    const float* item_weight = nullptr;
    const float* trustee_weight = nullptr;
};

void svdpp_pass(const SVDppPassArgs& args, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream);

// The user-grouped step of user u (svdpp.hpp UserGroupStep; Koren 2008, eq. 15, with the y step delayed to the
// end of the group as a proximal step). With W (TrustSVD, trustsvd.hpp; Guo, Zhang, Yorke-Smith 2015, eq. 5
// and 7): z also holds |T_u|^-1/2 sum_v w_v, the penalties are weighted by |I_u|^-1/2, |U_i|^-1/2 and
// |T+_v|^-1/2, and the trustees' w take a proximal step with the same gradient. For u with n ratings:
//   z = n^-1/2 sum_j y_j [+ |T_u|^-1/2 sum_v w_v], g = 0; for each rating (u, i, r), in order:
//     e = r - (mu + b_u + b_i + (p . q + z . q)),  g += e q,  p += gamma (e q - lambda_p p),
//     q += gamma (e (p_old + z) - lambda_q q),  b += gamma (e - lambda_b b);
//   then y_j = (y_j + gamma n^-1/2 g) / (1 + gamma n lambda_y) for each j in I_u
//   [and w_v = (w_v + gamma |T_u|^-1/2 g) / (1 + gamma n lambda_w) for each v in T_u].
// p_u, z, g and b_u stay with the team for the whole group (registers on the device: factors <= 256).
// Adds the group's terms (steps.hpp svdpp_term, group_penalty_term) to `loss` (the same on every member).
template <class T>
struct SVDppStep {
    using Storage = T;  // the factors' storage type
    const std::int64_t* offsets;  // the ratings grouped by user: items/values[offsets[u] .. offsets[u + 1])
    const std::int32_t* items;
    const float* values;
    T* P;
    T* Q;
    T* Y;
    float* bu;
    float* bi;
    T* W;  // TrustSVD's part; all null for SVD++
    const std::int64_t* trust_offsets;
    const std::int32_t* trustees;
    const float* item_weight;     // |U_i|^-1/2
    const float* trustee_weight;  // |T+_v|^-1/2
    float mu, gamma, lambda, lambda_b;

    // Replaces each element x[j] of row `r` of `matrix` by update(x[j], j); returns the row's old squared norm.
    SOCIALREC_HD_TEMPLATE
    template <class Team, class Slices, class Update>
    SOCIALREC_HD float update_row(const Team& team, const Slices& rows, T* matrix, std::int64_t r,
                                  Update&& update) const {
        typename Slices::Slice x;
        rows.load(matrix, r, 0, x);
        float norm = 0.0f;
        SOCIALREC_UNROLL
        for (int j = 0; j < x.size(); ++j) {
            norm = fmaf(x[j], x[j], norm);
            x[j] = update(x[j], j);
        }
        rows.store(matrix, r, 0, x);
        return team.sum(norm);
    }

    SOCIALREC_HD_TEMPLATE
    template <class Team, class Slices>
    SOCIALREC_HD void group(const Team& team, const Slices& rows, int u, double& loss) const {
        const bool trust_aware = item_weight != nullptr;  // TrustSVD (uniform over the grid)
        const std::int64_t m = offsets[std::int64_t(u) + 1] - offsets[u];
        if (m == 0) return;
        const float s = step::inverse_sqrt_count(m);
        typename Slices::Slice p, z, g, x;
        rows.load(P, u, 0, p);
        rows.temp(0, z);
        rows.temp(1, g);
        SOCIALREC_UNROLL
        for (int f = 0; f < z.size(); ++f) z[f] = g[f] = 0.0f;
        team.template for_each_member<false>(offsets, items, values, u, [&](const int j, float) {
            rows.load(Y, j, 0, x);  // z = n^-1/2 sum_j y_j
            SOCIALREC_UNROLL
            for (int f = 0; f < z.size(); ++f) z[f] += x[f];
        });
        SOCIALREC_UNROLL
        for (int f = 0; f < z.size(); ++f) z[f] *= s;
        std::int64_t t_begin = 0, t_end = 0;
        float s_trust = 0.0f;
        if (trust_aware) {  // z += |T_u|^-1/2 sum_v w_v
            t_begin = trust_offsets[u];
            t_end = trust_offsets[std::int64_t(u) + 1];
            if (t_end > t_begin) {
                s_trust = step::inverse_sqrt_count(t_end - t_begin);
                typename Slices::Slice sum;
                rows.temp(2, sum);
                SOCIALREC_UNROLL
                for (int f = 0; f < sum.size(); ++f) sum[f] = 0.0f;
                for (std::int64_t e = t_begin; e < t_end; ++e) {
                    rows.load(W, trustees[e], 0, x);
                    SOCIALREC_UNROLL
                    for (int f = 0; f < sum.size(); ++f) sum[f] += x[f];
                }
                SOCIALREC_UNROLL
                for (int f = 0; f < z.size(); ++f) z[f] = fmaf(s_trust, sum[f], z[f]);
            }
        }
        const float lambda_p = trust_aware ? lambda * s : lambda;
        const float lambda_bu = trust_aware ? lambda_b * s : lambda_b;
        // b_u and p_u stay with the team for the group (it alone steps u). Rank 0 reads the biases and broadcasts
        // them, as biased_mf.hpp: b_i is written by other warps meanwhile, and members reading it apart could
        // step with different errors and let their copies of b_u drift (issue 25, item 4).
        float b_u = team.broadcast(team.rank() == 0 ? bu[u] : 0.0f);
        team.for_each_member(offsets, items, values, u, [&](const int i, const float rating) {
            const float c_i = trust_aware ? item_weight[i] : 1.0f;
            const float lambda_q = lambda * c_i, lambda_bi = lambda_b * c_i;
            const float b_i = team.broadcast(team.rank() == 0 ? bi[i] : 0.0f);
            rows.load(Q, i, 0, x);
            float dot_pq = 0.0f, dot_zq = 0.0f, norm_p = 0.0f, norm_q = 0.0f;
            SOCIALREC_UNROLL
            for (int f = 0; f < x.size(); ++f) {
                dot_pq = fmaf(p[f], x[f], dot_pq);
                dot_zq = fmaf(z[f], x[f], dot_zq);
                norm_p = fmaf(p[f], p[f], norm_p);
                norm_q = fmaf(x[f], x[f], norm_q);
            }
            team.sum2(dot_pq, dot_zq);
            team.sum2(norm_p, norm_q);
            const float e = step::svdpp_error(rating, mu, b_u, b_i, dot_pq, dot_zq);
            SOCIALREC_UNROLL
            for (int f = 0; f < x.size(); ++f) step::svdpp_element(p[f], x[f], g[f], z[f], e, gamma, lambda_p, lambda_q);
            rows.store(Q, i, 0, x);
            loss += step::svdpp_term(e, lambda_p, norm_p, lambda_q, norm_q, lambda_bu, b_u, lambda_bi, b_i);
            if (team.rank() == 0) bi[i] = step::bias_element(b_i, e, gamma, lambda_bi);
            b_u = step::bias_element(b_u, e, gamma, lambda_bu);
        });
        rows.store(P, u, 0, p);
        if (team.rank() == 0) bu[u] = b_u;
        team.template for_each_member<false>(offsets, items, values, u, [&](const int i, float) {  // the y step
            const float lambda_y = trust_aware ? lambda * item_weight[i] : lambda;
            const float shrink = step::proximal_shrink(gamma, m, lambda_y);
            const float norm_y = update_row(team, rows, Y, i, [&](float y, int f) {
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
                const float norm_w = update_row(team, rows, W, v, [&](float w, int f) {
                    return step::trust_w_element(w, g[f], gamma_s, shrink);
                });
                loss += step::group_penalty_term(m, lambda_w, norm_w);
            }
        }
    }
};

}  // namespace socialrec::cuda
