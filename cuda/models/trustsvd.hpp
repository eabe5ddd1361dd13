// CUDA: TrustSVD's link pass (cpp/include/socialrec/models/trustsvd.hpp TrustLinkStep); its rating pass is
// svdpp.cu's with the trust pointers.
// A plain C++ entry point taking raw device pointers, sizes and a stream (nvcc never sees pybind11); the
// schedule and the loss convention are those of cuda/sgd.cuh, the per-update math is cuda/steps.hpp.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "sgd.hpp"

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

}  // namespace socialrec::cuda
