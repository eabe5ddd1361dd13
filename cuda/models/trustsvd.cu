// CUDA: TrustSVD's link pass (cpp/include/socialrec/models/trustsvd.hpp TrustLinkStep); its rating pass is
// svdpp.cu's with the trust pointers.
// See models/trustsvd.hpp for the entry point, sgd.cuh for the schedule, steps.hpp for the per-update math.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>

#include "models/trustsvd.hpp"
#include "sgd.cuh"
#include "steps.hpp"
#include "socialrec/rng.hpp"
#include "socialrec/types.hpp"

namespace socialrec::cuda {
namespace {

using namespace detail;

// TrustSVD's link pass: one warp per truster, p_u in registers across its edges; group<V>(u, loss) steps
// truster u's edges (per_user_kernel, sgd.cuh).
template <class T>
struct TrustLinkHyper {
    Groups edges;  // items = the trustees v, values = t_uv
    const float* trustee_weight;
    T* P;
    T* W;
    RowShape row;
    float gamma, lambda, lambda_t;

    template <int V>
    __device__ __forceinline__ void group(const int u, double& loss) const {
        const int lane = lane_id();
        const int k = row.k;
        const std::int64_t degree = edges.offsets[std::int64_t(u) + 1] - edges.offsets[u];
        const float lambda_p = lambda_t * step::inverse_sqrt_count(degree);
        T* p_row = P + std::int64_t(u) * k;
        float p[V], w[V];
        load_slice<T, V>(p_row, lane, k, row.full, p);
        for_each_member(edges, u, [&](const int v, const float target) {
            const float lambda_w = lambda * trustee_weight[v];
            T* w_row = W + std::int64_t(v) * k;
            load_slice<T, V>(w_row, lane, k, row.full, w);
            float dot = 0.0f, norm_p = 0.0f, norm_w = 0.0f;
#pragma unroll
            for (int f = 0; f < V; ++f) {
                dot = fmaf(p[f], w[f], dot);
                norm_p = fmaf(p[f], p[f], norm_p);
                norm_w = fmaf(w[f], w[f], norm_w);
            }
            detail::warp_sum2(dot, norm_p);
            norm_w = detail::warp_sum(norm_w);
            const float e = target - dot;
#pragma unroll
            for (int f = 0; f < V; ++f) step::pair_element(p[f], w[f], lambda_t * e, gamma, lambda_p, lambda_w);
            store_slice<T, V>(w_row, lane, k, row.full, w);
            loss += step::trust_link_term(lambda_t, e, lambda_p, norm_p, lambda_w, norm_w);
        });
        store_slice<T, V>(p_row, lane, k, row.full, p);
    }
};

template <class T>
void trust_link_launch(const TrustLinkPassArgs& a, const Order& order, cudaStream_t stream) {
    const int k = a.factors;
    const TrustLinkHyper<T> h{Groups{a.offsets, a.items, a.values}, a.trustee_weight, static_cast<T*>(a.user_factors),
                              static_cast<T*>(a.trustee_factors),
                              RowShape{k, all_vector_rows<T>(k, {a.user_factors, a.trustee_factors})},
                              a.learning_rate, a.regularization, a.social_regularization};
    launch_per_user(a, h, order, "trust_link kernel launch", stream);
}

}  // namespace

void trust_link_pass(const TrustLinkPassArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    check_grouped_pass(a, "trust_link_pass: the CUDA TrustSVD link pass");
    if (a.n > 0 && (!a.trustee_weight || !a.trustee_factors))
        throw std::invalid_argument("trust_link_pass: null weight or trustee factor pointer");
    run_ordered_pass(a, "trust_link_pass", seed, epoch, stream, [&](auto tag, const Order& order) {
        trust_link_launch<typename decltype(tag)::type>(a, order, stream);
    });
}

}  // namespace socialrec::cuda
