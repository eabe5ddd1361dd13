// CUDA: the BiasedMF / PMF rating pass (cpp/include/socialrec/models/biased_mf.hpp); SoReg's rating pass is
// this PMF pass on r - mu. A plain C++ entry point taking raw device pointers, sizes and a stream, and the
// step, written once over a team and a row layout (hd_team.hpp) for the kernel and its host replay.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "hd_team.hpp"
#include "sgd.hpp"
#include "steps.hpp"

namespace socialrec::cuda {

// BiasedMF / PMF, the same objective and step as cpp/include/socialrec/models/biased_mf.hpp.
struct BiasedMFDeviceArgs {
    const std::int32_t* users = nullptr;  // n records (structure of arrays), already shuffled
    const std::int32_t* items = nullptr;
    const float* values = nullptr;
    std::int64_t n = 0;
    void* user_factors = nullptr;  // n_users x factors, row-major, Storage
    void* item_factors = nullptr;  // n_items x factors
    float* user_bias = nullptr;    // n_users (unused when !biased)
    float* item_bias = nullptr;    // n_items (unused when !biased)
    std::int32_t factors = 0;
    Storage storage = Storage::float32;
    bool biased = true;
    float global_bias = 0, learning_rate = 0, regularization = 0, bias_regularization = 0;
    double* loss = nullptr;  // one double: set to the epoch's summed objective terms
};

// One epoch; asynchronous on `stream` (the loss is valid once the stream reaches this point).
// Throws std::invalid_argument for bad sizes and CudaError for launch failures.
void biased_mf_pass(const BiasedMFDeviceArgs& args, std::uint64_t seed, std::int64_t epoch,
                         cudaStream_t stream);

// One update of rating (u, i, r) (biased_mf.hpp BiasedMFStep; Koren, Bell, Volinsky 2009, eq. 5):
//   e = r - (mu + b_u + b_i + p_u . q_i)   (r - p_u . q_i without biases),
//   p_u += gamma (e q_i - lambda p_u),  q_i += gamma (e p_u - lambda q_i),  b += gamma (e - lambda_b b);
// returns the term 1/2 e^2 + lambda/2 (|p_u|^2 + |q_i|^2) [+ lambda_b/2 (b_u^2 + b_i^2)] evaluated before the
// step (valid on rank 0, which alone reads and writes the biases: a warp that meets the same user twice in
// a row sees its own write). T: the factors' storage (float, or __half on the device).
template <class T>
struct BiasedMFStep {
    using Storage = T;  // the factors' storage type
    T* P;
    T* Q;
    float* bu;  // unused when !biased
    float* bi;
    bool biased;
    float mu, gamma, lambda, lambda_b;

    SOCIALREC_HD_TEMPLATE
    template <class Team, class Slices>
    SOCIALREC_HD double operator()(const Team& team, const Slices& rows, int u, int i, float r) const {
        float b_u = 0.0f, b_i = 0.0f;
        if (biased && team.rank() == 0) {  // issued before the row loads' results are needed
            b_u = bu[u];
            b_i = bi[i];
        }
        typename Slices::Slice p, q;
        float dot = 0.0f, norms = 0.0f;
        for (int s = 0; s < rows.count(); ++s) {
            rows.load(P, u, s, p);
            rows.load(Q, i, s, q);
            SOCIALREC_UNROLL
            for (int j = 0; j < p.size(); ++j) {
                dot = fmaf(p[j], q[j], dot);
                norms = fmaf(p[j], p[j], fmaf(q[j], q[j], norms));
            }
        }
        team.sum2(dot, norms);
        const float e = step::mf_error(r, dot, mu, team.broadcast(b_u + b_i), biased);
        for (int s = 0; s < rows.count(); ++s) {
            if (!Slices::kResident) {
                rows.load(P, u, s, p);
                rows.load(Q, i, s, q);
            }
            SOCIALREC_UNROLL
            for (int j = 0; j < p.size(); ++j) step::pair_element(p[j], q[j], e, gamma, lambda, lambda);
            rows.store(P, u, s, p);
            rows.store(Q, i, s, q);
        }
        if (biased && team.rank() == 0) {
            bu[u] = step::bias_element(b_u, e, gamma, lambda_b);
            bi[i] = step::bias_element(b_i, e, gamma, lambda_b);
        }
        return step::mf_term(e, norms, lambda, biased, b_u, b_i, lambda_b);
    }
};

}  // namespace socialrec::cuda
