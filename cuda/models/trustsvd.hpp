// CUDA: TrustSVD's link pass (cpp/include/socialrec/models/trustsvd.hpp TrustLinkStep); its rating pass is
// svdpp.cu's with the trust pointers.
// A plain C++ entry point taking raw device pointers, sizes and a stream (nvcc never sees pybind11); the
// schedule and the loss convention are those of cuda/sgd.cuh; the step (TrustLinkStep, below) is written once over a
// team and a row layout (hd_team.hpp) for the kernel and its host replay.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "hd_team.hpp"
#include "sgd.hpp"
#include "steps.hpp"

namespace socialrec::cuda {

// TrustSVD's link pass (trustsvd.hpp TrustLinkStep), grouped by truster: one warp per truster u keeps p_u in
// registers and steps each edge u -> v (in the order given) on p_u and w_v.
// The groups are the trusters' edges: users = the trusters, items = each one's trustees v (in the order given),
// values = t_uv; user_factors = p.
struct TrustLinkPassArgs : GroupedPassArgs {
    const float* trustee_weight = nullptr;  // |T+_v|^-1/2
    void* trustee_factors = nullptr;        // w
    float learning_rate = 0, regularization = 0, social_regularization = 0;  // gamma, lambda, lambda_t
};
void trust_link_pass(const TrustLinkPassArgs& args, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream);

// TrustSVD's link step for truster u (trustsvd.hpp TrustLinkStep; Guo, Zhang, Yorke-Smith 2015, eq. 7): for
// each edge u -> v with value t, in order, e = t - w_v . p_u and
//   p_u += gamma (lambda_t e w_v - lambda_p p_u),  w_v += gamma (lambda_t e p_u - lambda_w w_v),
// lambda_p = lambda_t |T_u|^-1/2, lambda_w = lambda |T+_v|^-1/2 (steps.hpp pair_element); adds the terms
// lambda_t/2 e^2 + lambda_p/2 |p_u|^2 + lambda_w/2 |w_v|^2 (trust_link_term) to `loss`. p_u stays with the
// team across u's edges.
template <class T>
struct TrustLinkStep {
    using Storage = T;  // the factors' storage type
    const std::int64_t* offsets;  // the trusters' edges: trustees/values[offsets[u] .. offsets[u + 1])
    const std::int32_t* trustees;
    const float* values;          // t_uv
    const float* trustee_weight;  // |T+_v|^-1/2
    T* P;
    T* W;
    float gamma, lambda, lambda_t;

    SOCIALREC_HD_TEMPLATE
    template <class Team, class Slices>
    SOCIALREC_HD void group(const Team& team, const Slices& rows, int u, double& loss) const {
        const std::int64_t degree = offsets[std::int64_t(u) + 1] - offsets[u];
        const float lambda_p = lambda_t * step::inverse_sqrt_count(degree);  // inf unused when degree = 0
        typename Slices::Slice p, w;
        rows.load(P, u, 0, p);
        team.for_each_member(offsets, trustees, values, u, [&](const int v, const float target) {
            const float lambda_w = lambda * trustee_weight[v];
            rows.load(W, v, 0, w);
            float dot = 0.0f, norm_p = 0.0f, norm_w = 0.0f;
            SOCIALREC_UNROLL
            for (int f = 0; f < p.size(); ++f) {
                dot = fmaf(p[f], w[f], dot);
                norm_p = fmaf(p[f], p[f], norm_p);
                norm_w = fmaf(w[f], w[f], norm_w);
            }
            team.sum2(dot, norm_p);
            norm_w = team.sum(norm_w);
            const float e = target - dot;
            SOCIALREC_UNROLL
            for (int f = 0; f < p.size(); ++f) step::pair_element(p[f], w[f], lambda_t * e, gamma, lambda_p, lambda_w);
            rows.store(W, v, 0, w);
            loss += step::trust_link_term(lambda_t, e, lambda_p, norm_p, lambda_w, norm_w);
        });
        rows.store(P, u, 0, p);
    }
};

}  // namespace socialrec::cuda
