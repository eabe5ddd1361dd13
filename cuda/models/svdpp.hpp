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

}  // namespace socialrec::cuda
