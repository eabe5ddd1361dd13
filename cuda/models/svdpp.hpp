// CUDA: SVD++'s user-grouped rating pass (cpp/include/socialrec/models/svdpp.hpp UserGroupStep), with the trust
// pointers TrustSVD's rating pass.
// A plain C++ entry point taking raw device pointers, sizes and a stream (nvcc never sees pybind11); the
// schedule and the loss convention are those of cuda/sgd.cuh, the per-update math is cuda/steps.hpp.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "sgd.hpp"

namespace socialrec::cuda {

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

void svdpp_pass(const SVDppPassArgs& args, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream);

}  // namespace socialrec::cuda
