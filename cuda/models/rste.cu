// CUDA: RSTE's user-grouped pass (cpp/include/socialrec/models/rste.hpp RSTEUserStep).
// See models/rste.hpp for the entry point, sgd.cuh for the schedule, steps.hpp for the per-update math.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>

#include "models/rste.hpp"
#include "sgd.cuh"
#include "steps.hpp"
#include "socialrec/rng.hpp"
#include "socialrec/types.hpp"

namespace socialrec::cuda {
namespace {

using namespace detail;

// ---------------------------------------------------------------------------------------------------------
// RSTE user-grouped pass (steps.hpp rste_*)
// ---------------------------------------------------------------------------------------------------------
template <class T>
struct RSTEHyper {
    const std::int64_t* offsets;
    const std::int32_t* items;
    const float* values;
    const std::int64_t* trust_offsets;
    const std::int32_t* trustees;
    const float* weights;
    T* U;
    T* V;
    RowShape row;
    float offset, alpha, gamma, lambda;
};

template <class T, int Vw>
__global__ void __launch_bounds__(kBlock)
    rste_kernel(const std::int32_t* __restrict__ users, std::int64_t n, RSTEHyper<T> h, Order order,
                double* loss_out) {
    const int lane = lane_id();
    const int k = h.row.k;
    double loss = 0.0;
    for_each_in_order(users, n, order, [&](const int u) {
        const std::int64_t t0 = h.trust_offsets[u], t1 = h.trust_offsets[std::int64_t(u) + 1];
        const float own = t1 > t0 ? h.alpha : 1.0f, rest = 1.0f - h.alpha;
        float nb[Vw], grad[Vw], x[Vw], y[Vw];
#pragma unroll
        for (int f = 0; f < Vw; ++f) nb[f] = grad[f] = 0.0f;
        for (std::int64_t e = t0; e < t1; ++e) {  // N_u = sum_v S_uv U_v
            const float w = h.weights[e];
            load_slice<T, Vw>(h.U + std::int64_t(h.trustees[e]) * k, lane, k, h.row.full, y);
#pragma unroll
            for (int f = 0; f < Vw; ++f) nb[f] = fmaf(w, y[f], nb[f]);
        }
        T* u_row = h.U + std::int64_t(u) * k;
        load_slice<T, Vw>(u_row, lane, k, h.row.full, x);
        const std::int64_t begin = h.offsets[u], end = h.offsets[std::int64_t(u) + 1];
        for (std::int64_t base = begin; base < end; base += kWarp) {
            const int item = base + lane < end ? h.items[base + lane] : 0;
            const float value = base + lane < end ? h.values[base + lane] : 0.0f;
            const int c = int(min(std::int64_t(kWarp), end - base));
            for (int r = 0; r < c; ++r) {
                const int i = __shfl_sync(kFullMask, item, r);
                const float target = __shfl_sync(kFullMask, value, r);
                T* v_row = h.V + std::int64_t(i) * k;
                load_slice<T, Vw>(v_row, lane, k, h.row.full, y);
                float z[Vw];
                float dot = 0.0f, norms = 0.0f;
#pragma unroll
                for (int f = 0; f < Vw; ++f) {
                    z[f] = step::rste_blend(own, x[f], rest, nb[f]);
                    dot = fmaf(z[f], y[f], dot);
                    norms = fmaf(x[f], x[f], fmaf(y[f], y[f], norms));
                }
                detail::warp_sum2(dot, norms);
                const step::LogisticCoef coef = step::logistic_coef(target, dot, h.offset, 1.0f);
#pragma unroll
                for (int f = 0; f < Vw; ++f)
                    step::rste_element(x[f], y[f], grad[f], z[f], coef.d, own, h.gamma, h.lambda);
                store_slice<T, Vw>(v_row, lane, k, h.row.full, y);
                loss += step::logistic_term(coef.e, norms, 1.0f, 1.0f, h.lambda);
            }
        }
        store_slice<T, Vw>(u_row, lane, k, h.row.full, x);
        for (std::int64_t e = t0; e < t1; ++e) {  // the delayed out-neighbour step
            const float step_size = h.gamma * rest * h.weights[e];
            T* v_row = h.U + std::int64_t(h.trustees[e]) * k;
            load_slice<T, Vw>(v_row, lane, k, h.row.full, y);
#pragma unroll
            for (int f = 0; f < Vw; ++f) y[f] = step::rste_neighbour(y[f], grad[f], step_size);
            store_slice<T, Vw>(v_row, lane, k, h.row.full, y);
        }
    });
    detail::add_block_loss(loss, loss_out);
}

template <class T>
void rste_launch(const RSTEPassArgs& a, const Order& order, cudaStream_t stream) {
    const int k = a.factors;
    const RSTEHyper<T> h{a.offsets, a.items, a.values, a.trust_offsets, a.trustees, a.trust_weights,
                         static_cast<T*>(a.user_factors), static_cast<T*>(a.item_factors),
                         RowShape{k, all_vector_rows<T>(k, {a.user_factors, a.item_factors})}, a.global_bias,
                         a.alpha, a.learning_rate, a.regularization};
    launch_sliced(
        k, order.chunks, 2, "rste kernel launch", stream,
        [](auto v) { return rste_kernel<T, decltype(v)::value>; }, a.users, a.n, h, order, a.loss);
}

}  // namespace

void rste_pass(const RSTEPassArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    check_grouped_factors(a.factors, "rste_pass: the CUDA RSTE pass");
    if (a.n > 0 && (!a.users || !a.offsets || !a.items || !a.values || !a.trust_offsets || !a.trustees ||
                    !a.trust_weights || !a.user_factors || !a.item_factors))
        throw std::invalid_argument("rste_pass: null rating, trust or factor pointer");
    run_ordered_pass(a, "rste_pass", seed, epoch, stream, [&](auto tag, const Order& order) {
        rste_launch<typename decltype(tag)::type>(a, order, stream);
    });
}

}  // namespace socialrec::cuda
