// CUDA: the sampled ranking pass of BPR (cpp/include/socialrec/models/bpr.hpp) and SBPR (sbpr.hpp).
// A plain C++ entry point taking raw device pointers, sizes and a stream (nvcc never sees pybind11); the
// schedule and the loss convention are those of cuda/sgd.cuh; the steps (RankingStep, below) are written once
// over a team and a row layout (hd_team.hpp) for the kernel and its host replay.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "hd_team.hpp"
#include "sgd.hpp"
#include "steps.hpp"

namespace socialrec::cuda {

// BPR (social_* null) and SBPR: n_samples sampled observations (bpr.hpp, sbpr.hpp, sampling.hpp).
struct RankingPassArgs {
    const std::int64_t* indptr = nullptr;   // n_users + 1: each user's consumed items, sorted
    const std::int32_t* indices = nullptr;
    const std::int32_t* pool_users = nullptr;
    const std::int32_t* pool_items = nullptr;
    std::int64_t n_pool = 0;
    std::int32_t n_items = 0;
    const std::int64_t* social_indptr = nullptr;  // SBPR: social items SP_u (sorted) and counts s_uk
    const std::int32_t* social_items = nullptr;
    const std::int32_t* social_counts = nullptr;
    std::int64_t n_samples = 0;
    void* user_factors = nullptr;
    void* item_factors = nullptr;
    float* item_bias = nullptr;
    std::int32_t factors = 0;
    Storage storage = Storage::float32;
    float learning_rate = 0, regularization = 0, bias_regularization = 0;
    float social_weight = 1;  // SBPR's alpha (sbpr.hpp; 1 = the paper)
    double* loss = nullptr;
};
void ranking_pass(const RankingPassArgs& args, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream);

// The BPR and SBPR steps on a drawn sample (steps.hpp draw_sample; social < 0: BPR's triple), returning the
// sample's terms evaluated before the step. Rank 0 alone reads the biases (broadcast to the team, so that every
// member steps with the same coefficients although other warps write them) and writes them.
template <class T>
struct RankingStep {
    using Storage = T;  // the factors' storage type
    T* P;
    T* Q;
    float* bias;
    float gamma, lambda, lambda_b;
    float social_weight;  // SBPR's alpha (sbpr.hpp)

    // Slice c of the sample's rows p_u, q_i, q_j (load, and store back).
    SOCIALREC_HD_TEMPLATE
    template <class Slices>
    SOCIALREC_HD void load_triple(const Slices& rows, const step::RankingSample& s, int c, typename Slices::Slice& p,
                                  typename Slices::Slice& qi, typename Slices::Slice& qj) const {
        rows.load(P, s.user, c, p);
        rows.load(Q, s.item, c, qi);
        rows.load(Q, s.negative, c, qj);
    }
    SOCIALREC_HD_TEMPLATE
    template <class Slices>
    SOCIALREC_HD void store_triple(const Slices& rows, const step::RankingSample& s, int c,
                                   const typename Slices::Slice& p, const typename Slices::Slice& qi,
                                   const typename Slices::Slice& qj) const {
        rows.store(P, s.user, c, p);
        rows.store(Q, s.item, c, qi);
        rows.store(Q, s.negative, c, qj);
    }

    // BPR (bpr.hpp bpr_pair_step; Rendle et al. 2009, Alg. 1): x = p_u . (q_i - q_j) + (b_i - b_j), e = g(-x),
    //   p_u += gamma (e (q_i - q_j) - lambda p_u),  q_i += gamma (e p_u - lambda q_i),
    //   q_j += gamma (-e p_u - lambda q_j),  b_i += gamma (e - lambda_b b_i),  b_j += gamma (-e - lambda_b b_j);
    // term -ln g(x) + lambda/2 (|p_u|^2 + |q_i|^2 + |q_j|^2) + lambda_b/2 (b_i^2 + b_j^2) (steps.hpp bpr_*).
    SOCIALREC_HD_TEMPLATE
    template <class Team, class Slices>
    SOCIALREC_HD double bpr(const Team& team, const Slices& rows, const step::RankingSample& s) const {
        // Rank 0 reads the biases, which other warps may be writing, and broadcasts them: every member then
        // steps with the same e (issue 25, item 4).
        const float b_i = team.broadcast(team.rank() == 0 ? bias[s.item] : 0.0f);
        const float b_j = team.broadcast(team.rank() == 0 ? bias[s.negative] : 0.0f);
        typename Slices::Slice p, qi, qj;
        float dot = 0.0f, norms = 0.0f;
        for (int c = 0; c < rows.count(); ++c) {
            load_triple(rows, s, c, p, qi, qj);
            SOCIALREC_UNROLL
            for (int f = 0; f < p.size(); ++f) {
                dot = fmaf(p[f], qi[f] - qj[f], dot);
                norms += p[f] * p[f] + qi[f] * qi[f] + qj[f] * qj[f];
            }
        }
        team.sum2(dot, norms);
        float x;
        const float e = step::bpr_coef(dot, b_i, b_j, &x);
        for (int c = 0; c < rows.count(); ++c) {
            if (!Slices::kResident) load_triple(rows, s, c, p, qi, qj);
            SOCIALREC_UNROLL
            for (int f = 0; f < p.size(); ++f) step::bpr_element(p[f], qi[f], qj[f], e, gamma, lambda);
            store_triple(rows, s, c, p, qi, qj);
        }
        if (team.rank() == 0) {
            bias[s.item] = step::bias_element(b_i, e, gamma, lambda_b);
            bias[s.negative] = step::bias_element(b_j, -e, gamma, lambda_b);
        }
        return step::bpr_term(x, norms, lambda, b_i, b_j, lambda_b);
    }

    // SBPR (sbpr.hpp sbpr_step; Zhao, McAuley, King 2014, eq. 9-10) on (u, i, k, j) with s_uk: the three
    // pairwise terms' coefficients from steps.hpp sbpr_coef, the element update sbpr_element, the biases with
    // e1 + e3 (b_i), e2 - e1 (b_k, decay alpha lambda_b) and -(e2 + e3) (b_j); term sbpr_term.
    SOCIALREC_HD_TEMPLATE
    template <class Team, class Slices>
    SOCIALREC_HD double sbpr(const Team& team, const Slices& rows, const step::RankingSample& s) const {
        const float b_i = team.broadcast(team.rank() == 0 ? bias[s.item] : 0.0f);  // as bpr(): rank 0 reads
        const float b_k = team.broadcast(team.rank() == 0 ? bias[s.social] : 0.0f);
        const float b_j = team.broadcast(team.rank() == 0 ? bias[s.negative] : 0.0f);
        typename Slices::Slice p, qi, qk, qj;
        float x_ik = 0.0f, x_kj = 0.0f, norms = 0.0f, norm_k = 0.0f;
        for (int c = 0; c < rows.count(); ++c) {
            load_triple(rows, s, c, p, qi, qj);
            rows.load(Q, s.social, c, qk);
            SOCIALREC_UNROLL
            for (int f = 0; f < p.size(); ++f) {
                x_ik = fmaf(p[f], qi[f] - qk[f], x_ik);
                x_kj = fmaf(p[f], qk[f] - qj[f], x_kj);
                norms += p[f] * p[f] + qi[f] * qi[f] + qj[f] * qj[f];
                norm_k += qk[f] * qk[f];
            }
        }
        team.sum4(x_ik, x_kj, norms, norm_k);
        const step::SBPRCoef coef = step::sbpr_coef(x_ik, x_kj, b_i, b_k, b_j, s.count, social_weight);
        for (int c = 0; c < rows.count(); ++c) {
            if (!Slices::kResident) {
                load_triple(rows, s, c, p, qi, qj);
                rows.load(Q, s.social, c, qk);
            }
            SOCIALREC_UNROLL
            for (int f = 0; f < p.size(); ++f) step::sbpr_element(p[f], qi[f], qk[f], qj[f], coef, gamma, lambda);
            store_triple(rows, s, c, p, qi, qj);
            rows.store(Q, s.social, c, qk);
        }
        if (team.rank() == 0) {
            bias[s.item] = step::bias_element(b_i, coef.e1 + coef.e3, gamma, lambda_b);
            bias[s.social] = step::bias_element(b_k, coef.e2 - coef.e1, gamma, coef.alpha * lambda_b);
            bias[s.negative] = step::bias_element(b_j, -(coef.e2 + coef.e3), gamma, lambda_b);
        }
        return step::sbpr_term(coef, norms, norm_k, lambda, b_i, b_k, b_j, lambda_b);
    }

    SOCIALREC_HD_TEMPLATE
    template <class Team, class Slices>
    SOCIALREC_HD double operator()(const Team& team, const Slices& rows, const step::RankingSample& s) const {
        return s.social < 0 ? bpr(team, rows, s) : sbpr(team, rows, s);
    }
};

// The key of an epoch's sample streams: stream_seed(seed, epoch, kSamplePass, 0) (rng.hpp).
std::uint64_t sample_key(std::uint64_t seed, std::int64_t epoch);

}  // namespace socialrec::cuda
