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
// The pass's device fields; group<V>(u, loss) steps user u's ratings (per_user_kernel, sgd.cuh).
template <class T>
struct RSTEHyper {
    Groups ratings;
    const std::int64_t* trust_offsets;
    const std::int32_t* trustees;
    const float* weights;
    T* U;
    T* V;
    RowShape row;
    float offset, alpha, gamma, lambda;

    template <int Vw>
    __device__ __forceinline__ void group(const int u, double& loss) const {
        const int lane = lane_id();
        const int k = row.k;
        const std::int64_t t0 = trust_offsets[u], t1 = trust_offsets[std::int64_t(u) + 1];
        const float own = t1 > t0 ? alpha : 1.0f, rest = 1.0f - alpha;
        float nb[Vw], grad[Vw], x[Vw], y[Vw];
#pragma unroll
        for (int f = 0; f < Vw; ++f) nb[f] = grad[f] = 0.0f;
        for (std::int64_t e = t0; e < t1; ++e) {  // N_u = sum_v S_uv U_v
            const float w = weights[e];
            load_slice<T, Vw>(U + std::int64_t(trustees[e]) * k, lane, k, row.full, y);
#pragma unroll
            for (int f = 0; f < Vw; ++f) nb[f] = fmaf(w, y[f], nb[f]);
        }
        T* u_row = U + std::int64_t(u) * k;
        load_slice<T, Vw>(u_row, lane, k, row.full, x);
        for_each_member(ratings, u, [&](const int i, const float target) {
            T* v_row = V + std::int64_t(i) * k;
            load_slice<T, Vw>(v_row, lane, k, row.full, y);
            float z[Vw];
            float dot = 0.0f, norms = 0.0f;
#pragma unroll
            for (int f = 0; f < Vw; ++f) {
                z[f] = step::rste_blend(own, x[f], rest, nb[f]);
                dot = fmaf(z[f], y[f], dot);
                norms = fmaf(x[f], x[f], fmaf(y[f], y[f], norms));
            }
            detail::warp_sum2(dot, norms);
            const step::LogisticCoef coef = step::logistic_coef(target, dot, offset, 1.0f);
#pragma unroll
            for (int f = 0; f < Vw; ++f) step::rste_element(x[f], y[f], grad[f], z[f], coef.d, own, gamma, lambda);
            store_slice<T, Vw>(v_row, lane, k, row.full, y);
            loss += step::logistic_term(coef.e, norms, 1.0f, 1.0f, lambda);
        });
        store_slice<T, Vw>(u_row, lane, k, row.full, x);
        for (std::int64_t e = t0; e < t1; ++e) {  // the delayed out-neighbour step
            const float step_size = gamma * rest * weights[e];
            T* v_row = U + std::int64_t(trustees[e]) * k;
            load_slice<T, Vw>(v_row, lane, k, row.full, y);
#pragma unroll
            for (int f = 0; f < Vw; ++f) y[f] = step::rste_neighbour(y[f], grad[f], step_size);
            store_slice<T, Vw>(v_row, lane, k, row.full, y);
        }
    }
};

template <class T>
void rste_launch(const RSTEPassArgs& a, const Order& order, cudaStream_t stream) {
    const int k = a.factors;
    const RSTEHyper<T> h{Groups{a.offsets, a.items, a.values}, a.trust_offsets, a.trustees, a.trust_weights,
                         static_cast<T*>(a.user_factors), static_cast<T*>(a.item_factors),
                         RowShape{k, all_vector_rows<T>(k, {a.user_factors, a.item_factors})}, a.global_bias,
                         a.alpha, a.learning_rate, a.regularization};
    launch_per_user(a, h, order, "rste kernel launch", stream);
}

}  // namespace

void rste_pass(const RSTEPassArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    check_grouped_pass(a, "rste_pass: the CUDA RSTE pass");
    if (a.n > 0 && (!a.trust_offsets || !a.trustees || !a.trust_weights || !a.item_factors))
        throw std::invalid_argument("rste_pass: null trust or item factor pointer");
    run_ordered_pass(a, "rste_pass", seed, epoch, stream, [&](auto tag, const Order& order) {
        rste_launch<typename decltype(tag)::type>(a, order, stream);
    });
}

}  // namespace socialrec::cuda
