// CUDA: RSTE's user-grouped pass (cpp/include/socialrec/models/rste.hpp RSTEUserStep).
// A plain C++ entry point taking raw device pointers, sizes and a stream (nvcc never sees pybind11); the
// schedule and the loss convention are those of cuda/sgd.cuh; the step (RSTEStep, below) is written once over a
// team and a row layout (hd_team.hpp) for the kernel and its host replay.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "hd_team.hpp"
#include "sgd.hpp"
#include "steps.hpp"

namespace socialrec::cuda {

// RSTE's user-grouped pass (rste.hpp RSTEUserStep): one warp per user with ratings; U_u, the neighbours' sum
// N_u and the out-neighbours' gradient stay in registers for the group (factors <= kSVDppMaxFactors).
struct RSTEPassArgs : GroupedPassArgs {  // users' ratings; user_factors U
    const std::int64_t* trust_offsets = nullptr;  // n_users + 1: the row-normalised trust matrix S
    const std::int32_t* trustees = nullptr;
    const float* trust_weights = nullptr;
    void* item_factors = nullptr;  // V
    float* user_bias = nullptr;    // b_u, n_users, float32 (biased only; null: the unbiased model)
    float* item_bias = nullptr;    // b_i, n_items (set together with user_bias)
    float global_bias = 0, alpha = 0, learning_rate = 0, regularization = 0, bias_regularization = 0;
};
void rste_pass(const RSTEPassArgs& args, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream);

// RSTE's user-grouped step of user u (rste.hpp RSTEUserStep; Ma, King, Lyu 2009, eq. 6-8), a_u = alpha (1 without
// out-links):
//   N = sum_v S_uv U_v (fixed for the group), grad = 0; for each rating (u, i, r~), in order:
//     z = a_u U_u + (1 - alpha) N,  x = b + z . V_i,  e = r~ - g(x),  d = e g(x) (1 - g(x)),
//     U_u += gamma (d a_u V_i - lambda U_u),  V_i += gamma (d z - lambda V_i),  grad += d V_i (old);
//   then U_v += gamma (1 - alpha) S_uv grad for each out-neighbour v (the delayed neighbour step).
// Adds the terms 1/2 e^2 + lambda/2 (|U_u|^2 + |V_i|^2) (steps.hpp logistic_term) to `loss`. U_u, N and grad
// stay with the team for the group (registers on the device: factors <= 256). U_u's change over the group and
// the neighbours' steps are written as increments (atomic on the device), which keeps concurrent updates.
// Biased (bu set; rste.hpp's Biased): x = (b + b_u + b_i) + z . V_i (the user's own bias, not mixed with the
// trustees'), b_u += gamma (d - lambda_b b_u), b_i likewise, with the old biases, and the terms gain
// lambda_b/2 (b_u^2 + b_i^2); rank 0 alone reads and writes the biases, so its loss holds those terms.
template <class T>
struct RSTEStep {
    using Storage = T;  // the factors' storage type
    const std::int64_t* offsets;  // the ratings grouped by user
    const std::int32_t* items;
    const float* values;
    const std::int64_t* trust_offsets;  // S, row-normalised
    const std::int32_t* trustees;
    const float* weights;
    T* U;
    T* V;
    float* bu;  // null: no biases
    float* bi;
    float offset, alpha, gamma, lambda, lambda_b;

    SOCIALREC_HD_TEMPLATE
    template <class Team, class Slices>
    SOCIALREC_HD void group(const Team& team, const Slices& rows, int u, double& loss) const {
        const std::int64_t t0 = trust_offsets[u], t1 = trust_offsets[std::int64_t(u) + 1];
        const float own = t1 > t0 ? alpha : 1.0f, rest = 1.0f - alpha;
        typename Slices::Slice nb, grad, x, y;
        rows.temp(0, nb);
        rows.temp(1, grad);
        SOCIALREC_UNROLL
        for (int f = 0; f < nb.size(); ++f) nb[f] = grad[f] = 0.0f;
        for (std::int64_t e = t0; e < t1; ++e) {  // N_u = sum_v S_uv U_v
            const float w = weights[e];
            rows.load(U, trustees[e], 0, y);
            SOCIALREC_UNROLL
            for (int f = 0; f < nb.size(); ++f) nb[f] = fmaf(w, y[f], nb[f]);
        }
        rows.load(U, u, 0, x);
        typename Slices::Slice x0;  // U_u as loaded: the group's change is written as x - x0 (below)
        rows.temp(3, x0);
        SOCIALREC_UNROLL
        for (int f = 0; f < x0.size(); ++f) x0[f] = x[f];
        team.for_each_member(offsets, items, values, u, [&](const int i, const float target) {
            rows.load(V, i, 0, y);
            typename Slices::Slice z;
            rows.temp(2, z);
            float dot = 0.0f, norms = 0.0f;
            SOCIALREC_UNROLL
            for (int f = 0; f < z.size(); ++f) {
                z[f] = step::rste_blend(own, x[f], rest, nb[f]);
                dot = fmaf(z[f], y[f], dot);
                norms = fmaf(x[f], x[f], fmaf(y[f], y[f], norms));
            }
            team.sum2(dot, norms);
            float b_u = 0.0f, b_i = 0.0f, shift = offset;  // shift: x - z . V_i
            if (bu) {
                if (team.rank() == 0) {
                    b_u = bu[u];
                    b_i = bi[i];
                }
                shift = team.broadcast(offset + b_u + b_i);  // the CPU's order of the sum
            }
            const step::LogisticCoef coef = step::logistic_coef(target, dot, shift, 1.0f);
            if (bu && team.rank() == 0) {
                bu[u] = step::bias_element(b_u, coef.d, gamma, lambda_b);
                bi[i] = step::bias_element(b_i, coef.d, gamma, lambda_b);
                loss += step::logistic_bias_term(1.0f, lambda_b, b_u, b_i);
            }
            SOCIALREC_UNROLL
            for (int f = 0; f < z.size(); ++f) step::rste_element(x[f], y[f], grad[f], z[f], coef.d, own, gamma, lambda);
            rows.store(V, i, 0, y);
            loss += step::logistic_term(coef.e, norms, 1.0f, 1.0f, lambda);
        });
        // Other warps step U_u as their out-neighbour while this one holds it (the delayed step below): U_u is
        // written as the increment x - x0 and the neighbours' steps as increments, both atomic on the device,
        // so that no warp overwrites another's update (issue 25, item 5).
        rows.store_change(U, u, 0, x, x0);
        rows.temp(2, y);  // y holds a step now, not a row (on the host it was a view of the last V_i)
        for (std::int64_t e = t0; e < t1; ++e) {  // the delayed out-neighbour step
            const float step_size = gamma * rest * weights[e];
            SOCIALREC_UNROLL
            for (int f = 0; f < grad.size(); ++f) y[f] = step::rste_neighbour(0.0f, grad[f], step_size);
            rows.add(U, trustees[e], 0, y);
        }
    }
};

}  // namespace socialrec::cuda
