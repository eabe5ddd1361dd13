// CUDA: the mean-pull user pass (cpp/include/socialrec/models/social_mf.hpp): SocialMF's user pass and SoReg SR1.
// A plain C++ entry point taking raw device pointers, sizes and a stream (nvcc never sees pybind11); the
// schedule and the loss convention are those of cuda/sgd.cuh; the step (MeanPullStep, below) is written once
// over a team and a row layout (hd_team.hpp) for the kernel and its host replay.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "hd_team.hpp"
#include "sgd.hpp"
#include "steps.hpp"

namespace socialrec::cuda {

// SocialMF's user pass (weights T_uv, lambda_T) and SoReg SR1 (weights Sim / sum Sim, beta): each listed user
// u is pulled towards the weighted mean of its neighbours offsets[u] .. offsets[u + 1] (steps.hpp mean_pull).
struct MeanPullArgs {
    const std::int32_t* users = nullptr;  // n users with at least one neighbour, already shuffled
    std::int64_t n = 0;
    const std::int64_t* offsets = nullptr;     // n_users + 1
    const std::int32_t* neighbours = nullptr;
    const float* weights = nullptr;            // summing to 1 over each user's neighbours
    void* user_factors = nullptr;
    std::int32_t factors = 0;
    Storage storage = Storage::float32;
    float learning_rate = 0, weight = 0;  // gamma, lambda_T (SocialMF) or beta (SoReg)
    std::uint64_t pass = 0;
    double* loss = nullptr;
};
void mean_pull_pass(const MeanPullArgs& args, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream);

// The mean-pull step of user u (social_mf.hpp SocialMFUserStep, Jamali & Ester 2010 eq. 9; soreg.hpp
// SoRegUserStep, Ma et al. 2011 eq. 11), neighbours v with weights w_v summing to 1:
//   D = U_u - sum_v w_v U_v;  U_u -= gamma lambda D;  U_v += gamma lambda w_v D;  adds lambda/2 |D|^2
// to `loss`.
// Column f of D depends on column f of the rows only, so the step finishes one slice of columns (D's slice,
// then U_u's and every U_v's) before the next: the result is that of the CPU's whole-row order. U_u and the U_v
// are written as increments (atomic on the device), so that the users pulling U_u in other warps keep their
// steps (issue 25, item 5).
template <class T>
struct MeanPullStep {
    using Storage = T;  // the factors' storage type
    T* U;
    const std::int64_t* offsets;  // n_users + 1
    const std::int32_t* neighbours;
    const float* weights;
    float gamma, weight;  // gamma, lambda_T (SocialMF) or beta (SoReg)

    SOCIALREC_HD_TEMPLATE
    template <class Team, class Slices>
    SOCIALREC_HD void group(const Team& team, const Slices& rows, int u, double& loss) const {
        const float step_size = gamma * weight;
        const std::int64_t begin = offsets[u], end = offsets[std::int64_t(u) + 1];
        typename Slices::Slice own, own0, d, y;
        rows.temp(0, d);
        rows.temp(1, own0);
        float squared = 0.0f;
        for (int s = 0; s < rows.count(); ++s) {
            rows.load(U, u, s, own);
            SOCIALREC_UNROLL
            for (int j = 0; j < d.size(); ++j) d[j] = own0[j] = own[j];
            for (std::int64_t e = begin; e < end; ++e) {  // D = U_u - sum_v w_v U_v (this slice)
                const float w = weights[e];
                rows.load(U, neighbours[e], s, y);
                SOCIALREC_UNROLL
                for (int j = 0; j < d.size(); ++j) d[j] = step::mean_pull_accumulate(d[j], w, y[j]);
            }
            SOCIALREC_UNROLL
            for (int j = 0; j < d.size(); ++j) {
                squared = fmaf(d[j], d[j], squared);
                own[j] = step::mean_pull_own(own[j], d[j], step_size);
            }
            rows.store_change(U, u, s, own, own0);  // increments: other warps pull U_u meanwhile (item 5)
            rows.temp(2, y);
            for (std::int64_t e = begin; e < end; ++e) {
                const float w = weights[e];
                SOCIALREC_UNROLL
                for (int j = 0; j < d.size(); ++j) y[j] = step::mean_pull_neighbour(0.0f, d[j], step_size, w);
                rows.add(U, neighbours[e], s, y);
            }
        }
        loss += step::mean_pull_term(weight, team.sum(squared));
    }
};

}  // namespace socialrec::cuda
