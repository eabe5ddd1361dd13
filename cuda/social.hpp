// CUDA SGD passes of the models beyond BiasedMF (SoRec, SocialMF, TrustMF, SoReg, SVD++, TrustSVD, RSTE, BPR, SBPR):
// plain C++ entry points taking raw device pointers, sizes and a stream, like sgd.hpp; cuda/module.cpp binds them.
// Each pass has the objective and the per-observation step of the CPU model's pass (the math is shared with
// a host replay through steps.hpp, which tests/test_cuda_steps.py compares with the CPU kernels).
//
// Schedules (all batch-Hogwild, one warp per update, loss terms taken before each step and summed in
// float64, factor rows stored in float32 or float16 and computed in float32):
//   logistic_pair_epoch  records (a, b, c) shuffled once per fit by the caller; chunks of 32 in the epoch's
//                        (a t + b) mod chunks order (sgd.hpp epoch_chunk_order with the pass id); one or two
//                        logistic pair steps per record (TrustMF steps its truster and trustee models).
//   soreg_edge_epoch     SoReg SR2: the same schedule over (u, f, Sim) edge records.
//   mean_pull_epoch      SocialMF's user pass and SoReg SR1: the same schedule over a user list; one warp per
//                        user, which reads its neighbours' rows and writes them back (Hogwild over users).
//   svdpp_epoch          SVD++ (and TrustSVD's rating pass): the same schedule over a user list; one warp
//                        per user and its ratings.
//   trust_link_epoch     TrustSVD's link pass: the same schedule over the trusters; one warp per truster.
//   rste_epoch           RSTE: the same schedule over the users with ratings; one warp per user.
//   ranking_epoch        BPR / SBPR: n_samples draws; warp w takes samples w, w + W, ...; sample s is drawn
//                        on the device from a counter-based stream (steps.hpp sample_stream).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "sgd.hpp"

namespace socialrec::cuda {

// One logistic pair term's matrices and weights (cpp/include/socialrec/models/logistic_pair.hpp).
struct LogisticSide {
    void* A = nullptr;  // rows indexed by the record's a (Storage)
    void* B = nullptr;  // rows indexed by the record's b
    float data_weight = 1, penalty_weight = 1, offset = 0;
};

struct LogisticPassArgs {
    const std::int32_t* a = nullptr;  // n records (structure of arrays), already shuffled
    const std::int32_t* b = nullptr;
    const float* values = nullptr;    // the targets c
    std::int64_t n = 0;
    LogisticSide sides[2];
    std::int32_t n_sides = 1;  // 1, or 2: both steps on each record, in order (TrustMF)
    std::int32_t factors = 0;
    Storage storage = Storage::float32;
    float learning_rate = 0, regularization = 0;
    std::uint64_t pass = 0;  // pass id of the chunk order (types.hpp PassId)
    double* loss = nullptr;  // one double: set to the pass's summed terms
};
void logistic_pair_epoch(const LogisticPassArgs& args, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream);

// SoReg SR2: records (u, f, Sim), one step on U per record (soreg.hpp SoRegEdgeStep).
struct EdgePassArgs {
    const std::int32_t* a = nullptr;
    const std::int32_t* b = nullptr;
    const float* values = nullptr;  // Sim(u, f)
    std::int64_t n = 0;
    void* user_factors = nullptr;
    std::int32_t factors = 0;
    Storage storage = Storage::float32;
    float learning_rate = 0, social_regularization = 0;  // gamma, beta
    std::uint64_t pass = 0;
    double* loss = nullptr;
};
void soreg_edge_epoch(const EdgePassArgs& args, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream);

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
void mean_pull_epoch(const MeanPullArgs& args, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream);

// SVD++'s user-grouped rating pass (svdpp.hpp UserGroupStep without the trust part): one warp per user, which
// keeps p_u, z_u and the y-gradient g in registers for the whole group (factors <= 256), steps each of the
// user's ratings in order, then takes the proximal step on every y_j of the group. Hogwild over users.
struct SVDppPassArgs {
    const std::int32_t* users = nullptr;  // n users with at least one rating, already shuffled
    std::int64_t n = 0;
    const std::int64_t* offsets = nullptr;  // n_users + 1: u's ratings at items/values[offsets[u] .. [u + 1])
    const std::int32_t* items = nullptr;
    const float* values = nullptr;
    void* user_factors = nullptr;      // p
    void* item_factors = nullptr;      // q
    void* implicit_factors = nullptr;  // y
    float* user_bias = nullptr;
    float* item_bias = nullptr;
    std::int32_t factors = 0;  // at most kSVDppMaxFactors
    Storage storage = Storage::float32;
    float global_bias = 0, learning_rate = 0, regularization = 0, bias_regularization = 0;
    std::uint64_t pass = 0;
    double* loss = nullptr;
    // TrustSVD's trust part (all null for SVD++): w, the trust CSR, |U_i|^-1/2 and |T+_v|^-1/2 (float32).
    void* trustee_factors = nullptr;
    const std::int64_t* trust_offsets = nullptr;  // n_users + 1
    const std::int32_t* trustees = nullptr;
    const float* item_weight = nullptr;
    const float* trustee_weight = nullptr;
};
constexpr std::int32_t kSVDppMaxFactors = 256;
void svdpp_epoch(const SVDppPassArgs& args, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream);

// TrustSVD's link pass (trustsvd.hpp TrustLinkStep), grouped by truster: one warp per truster u keeps p_u in
// registers and steps each edge u -> v (in the order given) on p_u and w_v.
struct TrustLinkPassArgs {
    const std::int32_t* trusters = nullptr;  // n users with at least one trustee, already shuffled
    std::int64_t n = 0;
    const std::int64_t* offsets = nullptr;   // n_users + 1: u's edges at trustees/values[offsets[u] .. [u + 1])
    const std::int32_t* trustees = nullptr;
    const float* values = nullptr;           // t_uv
    const float* trustee_weight = nullptr;   // |T+_v|^-1/2
    void* user_factors = nullptr;            // p
    void* trustee_factors = nullptr;         // w
    std::int32_t factors = 0;                // at most kSVDppMaxFactors
    Storage storage = Storage::float32;
    float learning_rate = 0, regularization = 0, social_regularization = 0;  // gamma, lambda, lambda_t
    std::uint64_t pass = 0;
    double* loss = nullptr;
};
void trust_link_epoch(const TrustLinkPassArgs& args, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream);

// RSTE's user-grouped pass (rste.hpp RSTEUserStep): one warp per user with ratings; U_u, the neighbours' sum
// N_u and the out-neighbours' gradient stay in registers for the group (factors <= kSVDppMaxFactors).
struct RSTEPassArgs {
    const std::int32_t* users = nullptr;  // n users with at least one rating, already shuffled
    std::int64_t n = 0;
    const std::int64_t* offsets = nullptr;  // n_users + 1: u's ratings at items/values[offsets[u] .. [u + 1])
    const std::int32_t* items = nullptr;
    const float* values = nullptr;          // r~ in [0, 1]
    const std::int64_t* trust_offsets = nullptr;  // n_users + 1: the row-normalised trust matrix S
    const std::int32_t* trustees = nullptr;
    const float* trust_weights = nullptr;
    void* user_factors = nullptr;
    void* item_factors = nullptr;
    std::int32_t factors = 0;
    Storage storage = Storage::float32;
    float global_bias = 0, alpha = 0, learning_rate = 0, regularization = 0;
    std::uint64_t pass = 0;
    double* loss = nullptr;
};
void rste_epoch(const RSTEPassArgs& args, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream);

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
void ranking_epoch(const RankingPassArgs& args, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream);

// The key of an epoch's sample streams: stream_seed(seed, epoch, kSamplePass, 0) (rng.hpp).
std::uint64_t sample_key(std::uint64_t seed, std::int64_t epoch);

}  // namespace socialrec::cuda
