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

// TrustSVD's link pass: one warp per truster, p_u in registers across its edges.
template <class T>
struct TrustLinkHyper {
    const std::int64_t* offsets;
    const std::int32_t* trustees;
    const float* values;
    const float* trustee_weight;
    T* P;
    T* W;
    RowShape row;
    float gamma, lambda, lambda_t;
};

template <class T, int V>
__global__ void __launch_bounds__(kBlock)
    trust_link_kernel(const std::int32_t* __restrict__ trusters, std::int64_t n, TrustLinkHyper<T> h, Order order,
                      double* loss_out) {
    const int lane = lane_id();
    const int k = h.row.k;
    double loss = 0.0;
    for_each_in_order(trusters, n, order, [&](const int u) {
        const std::int64_t begin = h.offsets[u], end = h.offsets[std::int64_t(u) + 1];
        const float lambda_p = h.lambda_t * step::inverse_sqrt_count(end - begin);
        T* p_row = h.P + std::int64_t(u) * k;
        float p[V], w[V];
        load_slice<T, V>(p_row, lane, k, h.row.full, p);
        for (std::int64_t base = begin; base < end; base += kWarp) {
            const int trustee = base + lane < end ? h.trustees[base + lane] : 0;
            const float value = base + lane < end ? h.values[base + lane] : 0.0f;
            const int c = int(min(std::int64_t(kWarp), end - base));
            for (int r = 0; r < c; ++r) {
                const int v = __shfl_sync(kFullMask, trustee, r);
                const float target = __shfl_sync(kFullMask, value, r);
                const float lambda_w = h.lambda * h.trustee_weight[v];
                T* w_row = h.W + std::int64_t(v) * k;
                load_slice<T, V>(w_row, lane, k, h.row.full, w);
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
                for (int f = 0; f < V; ++f)
                    step::pair_element(p[f], w[f], h.lambda_t * e, h.gamma, lambda_p, lambda_w);
                store_slice<T, V>(w_row, lane, k, h.row.full, w);
                loss += step::trust_link_term(h.lambda_t, e, lambda_p, norm_p, lambda_w, norm_w);
            }
        }
        store_slice<T, V>(p_row, lane, k, h.row.full, p);
    });
    detail::add_block_loss(loss, loss_out);
}

template <class T>
void trust_link_launch(const TrustLinkPassArgs& a, const Order& order, cudaStream_t stream) {
    const int k = a.factors;
    const TrustLinkHyper<T> h{a.offsets, a.trustees, a.values, a.trustee_weight, static_cast<T*>(a.user_factors),
                              static_cast<T*>(a.trustee_factors),
                              RowShape{k, all_vector_rows<T>(k, {a.user_factors, a.trustee_factors})},
                              a.learning_rate, a.regularization, a.social_regularization};
    launch_sliced(
        k, order.chunks, 2, "trust_link kernel launch", stream,
        [](auto v) { return trust_link_kernel<T, decltype(v)::value>; }, a.trusters, a.n, h, order, a.loss);
}

}  // namespace

void trust_link_pass(const TrustLinkPassArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    check_grouped_factors(a.factors, "trust_link_pass: the CUDA TrustSVD link pass");
    if (a.n > 0 && (!a.trusters || !a.offsets || !a.trustees || !a.values || !a.trustee_weight ||
                    !a.user_factors || !a.trustee_factors))
        throw std::invalid_argument("trust_link_pass: null edge, weight or factor pointer");
    run_ordered_pass(a, "trust_link_pass", seed, epoch, stream, [&](auto tag, const Order& order) {
        trust_link_launch<typename decltype(tag)::type>(a, order, stream);
    });
}

}  // namespace socialrec::cuda
