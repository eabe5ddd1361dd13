// CUDA: the BiasedMF / PMF rating pass (cpp/include/socialrec/models/biased_mf.hpp). See models/biased_mf.hpp
// for the entry point and sgd.cuh for the schedule (batch-Hogwild, one warp per update).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>

#include "models/biased_mf.hpp"
#include "sgd.cuh"
#include "steps.hpp"
#include "socialrec/types.hpp"

namespace socialrec::cuda {
namespace {

using namespace detail;

struct Hyper {
    int k;
    bool biased, full;
    float mu, gamma, lambda, lambda_b;
};

// The bias step, done by lane 0 only (it alone reads and writes b_u, b_i, so that a warp that meets the
// same user twice in a row sees its own write).
__device__ __forceinline__ void bias_step(float* bu, float* bi, int u, int i, float b_u, float b_i, float e,
                                          const Hyper& h, int lane) {
    if (lane == 0) {
        bu[u] = step::bias_element(b_u, e, h.gamma, h.lambda_b);
        bi[i] = step::bias_element(b_i, e, h.gamma, h.lambda_b);
    }
}

// One update of rating (u, i, r) by the whole warp; KPL > 0 keeps the lane's slice of p_u and q_i in
// registers (k <= 32 * KPL), KPL == 0 streams rows of any length twice. Lane 0 returns the term
//   1/2 e^2 + lambda/2 (|p_u|^2 + |q_i|^2) [+ lambda_b/2 (b_u^2 + b_i^2)]
// of BiasedMF's objective (biased_mf.hpp, Koren et al. 2009 eq. 5) evaluated before the step
//   p_u += gamma (e q_i - lambda p_u),  q_i += gamma (e p_u - lambda q_i),  b += gamma (e - lambda_b b)
// (the math: steps.hpp mf_error, pair_element, bias_element, mf_term).
template <class T, int KPL>
__device__ __forceinline__ double update(T* P, T* Q, float* bu, float* bi, int u, int i, float r, const Hyper& h,
                                         int lane) {
    T* p_row = P + std::int64_t(u) * h.k;
    T* q_row = Q + std::int64_t(i) * h.k;
    float b_u = 0.0f, b_i = 0.0f;
    if (h.biased && lane == 0) {  // issued before the row loads' results are needed
        b_u = bu[u];
        b_i = bi[i];
    }
    float dot = 0.0f, norms = 0.0f;
    if constexpr (KPL > 0) {
        float p[KPL], q[KPL];
        load_slice<T, KPL>(p_row, lane, h.k, h.full, p);
        load_slice<T, KPL>(q_row, lane, h.k, h.full, q);
#pragma unroll
        for (int j = 0; j < KPL; ++j) {
            dot = fmaf(p[j], q[j], dot);
            norms = fmaf(p[j], p[j], fmaf(q[j], q[j], norms));
        }
        detail::warp_sum2(dot, norms);
        const float bias_sum = __shfl_sync(kFullMask, b_u + b_i, 0);
        const float e = step::mf_error(r, dot, h.mu, bias_sum, h.biased);
#pragma unroll
        for (int j = 0; j < KPL; ++j) step::pair_element(p[j], q[j], e, h.gamma, h.lambda, h.lambda);
        store_slice<T, KPL>(p_row, lane, h.k, h.full, p);
        store_slice<T, KPL>(q_row, lane, h.k, h.full, q);
        if (h.biased) bias_step(bu, bi, u, i, b_u, b_i, e, h, lane);
        return step::mf_term(e, norms, h.lambda, h.biased, b_u, b_i, h.lambda_b);
    } else {
        for (int f = lane; f < h.k; f += kWarp) {
            const float pf = detail::to_float(p_row[f]), qf = detail::to_float(q_row[f]);
            dot = fmaf(pf, qf, dot);
            norms = fmaf(pf, pf, fmaf(qf, qf, norms));
        }
        detail::warp_sum2(dot, norms);
        const float bias_sum = __shfl_sync(kFullMask, b_u + b_i, 0);
        const float e = step::mf_error(r, dot, h.mu, bias_sum, h.biased);
        for (int f = lane; f < h.k; f += kWarp) {  // each lane rewrites exactly the elements it read
            float pf = detail::to_float(p_row[f]), qf = detail::to_float(q_row[f]);
            step::pair_element(pf, qf, e, h.gamma, h.lambda, h.lambda);
            p_row[f] = detail::from_float<T>(pf);
            q_row[f] = detail::from_float<T>(qf);
        }
        if (h.biased) bias_step(bu, bi, u, i, b_u, b_i, e, h, lane);
        return step::mf_term(e, norms, h.lambda, h.biased, b_u, b_i, h.lambda_b);
    }
}

// Persistent grid over the epoch's chunks of 32 records (sgd.cuh for_each_record_in_order).
template <class T, int KPL>
__global__ void __launch_bounds__(kBlock) biased_mf_sgd_kernel(const std::int32_t* __restrict__ users,
                                                               const std::int32_t* __restrict__ items,
                                                               const float* __restrict__ values, std::int64_t n,
                                                               T* P, T* Q, float* bu, float* bi, Hyper h,
                                                               Order order, double* loss_out) {
    const int lane = lane_id();
    double loss = 0.0;
    for_each_record_in_order(users, items, values, n, order, [&](int u, int i, float r) {
        loss += update<T, KPL>(P, Q, bu, bi, u, i, r, h, lane);
    });
    detail::add_block_loss(loss, loss_out);  // lane 0 of each warp holds its warp's sum
}

template <class T, int KPL>
void launch(const BiasedMFDeviceArgs& a, const Hyper& h, const Order& order, cudaStream_t stream) {
    auto kernel = biased_mf_sgd_kernel<T, KPL>;
    // At least 8 chunks (256 updates) per warp: on small data fewer warps means fewer stale reads.
    const int blocks = grid_for(kernel, order.chunks, 8);
    kernel<<<blocks, kBlock, 0, stream>>>(a.users, a.items, a.values, a.n, static_cast<T*>(a.user_factors),
                                          static_cast<T*>(a.item_factors), a.user_bias, a.item_bias, h, order,
                                          a.loss);
    check(cudaGetLastError(), "biased_mf_sgd kernel launch");
}

template <class T>
void dispatch(const BiasedMFDeviceArgs& a, Hyper h, const Order& order, cudaStream_t stream) {
    // Elements per lane: the smallest of 1, 2, 4, 8 that covers the row; longer rows stream (KPL = 0).
    const int kpl = a.factors <= 32 ? 1 : a.factors <= 64 ? 2 : a.factors <= 128 ? 4 : a.factors <= 256 ? 8 : 0;
    const auto aligned = [&](const void* ptr) {
        return reinterpret_cast<std::uintptr_t>(ptr) % (sizeof(T) * std::max(kpl, 1)) == 0;
    };
    h.full = kpl > 0 && a.factors == kWarp * kpl && aligned(a.user_factors) && aligned(a.item_factors);
    switch (kpl) {
        case 1: return launch<T, 1>(a, h, order, stream);
        case 2: return launch<T, 2>(a, h, order, stream);
        case 4: return launch<T, 4>(a, h, order, stream);
        case 8: return launch<T, 8>(a, h, order, stream);
        default: return launch<T, 0>(a, h, order, stream);
    }
}

}  // namespace

void biased_mf_pass(const BiasedMFDeviceArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    if (a.n < 0) throw std::invalid_argument("biased_mf_pass: negative number of ratings");
    if (a.factors <= 0) throw std::invalid_argument("biased_mf_pass: factors must be positive");
    if (a.loss == nullptr) throw std::invalid_argument("biased_mf_pass: null loss buffer");
    if (a.n > 0 && (!a.users || !a.items || !a.values || !a.user_factors || !a.item_factors))
        throw std::invalid_argument("biased_mf_pass: null record or factor pointer");
    if (a.biased && a.n > 0 && (!a.user_bias || !a.item_bias))
        throw std::invalid_argument("biased_mf_pass: null bias pointer with biased=True");
    check(cudaMemsetAsync(a.loss, 0, sizeof(double), stream), "cudaMemsetAsync(loss)");
    if (a.n == 0) return;
    const Order order = order_of(a.n, seed, epoch, kRatingPass);
    const Hyper h{a.factors, a.biased, false, a.global_bias, a.learning_rate, a.regularization,
                  a.bias_regularization};
    with_storage(a.storage, [&](auto tag) { dispatch<typename decltype(tag)::type>(a, h, order, stream); });
}

}  // namespace socialrec::cuda
