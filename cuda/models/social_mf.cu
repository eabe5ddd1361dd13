// CUDA: the mean-pull user pass (cpp/include/socialrec/models/social_mf.hpp): SocialMF's user pass and SoReg SR1.
// See models/social_mf.hpp for the entry point, sgd.cuh for the schedule, steps.hpp for the per-update math.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>

#include "models/social_mf.hpp"
#include "sgd.cuh"
#include "steps.hpp"
#include "socialrec/rng.hpp"
#include "socialrec/types.hpp"

namespace socialrec::cuda {
namespace {

using namespace detail;

// ---------------------------------------------------------------------------------------------------------
// Mean-pull user pass (SocialMF user term, SoReg SR1): one warp per user, slice by slice (steps.hpp)
// ---------------------------------------------------------------------------------------------------------
// The pass's device fields; group<V>(u, loss) pulls user u (per_user_kernel, sgd.cuh).
template <class T>
struct MeanPullHyper {
    T* U;
    const std::int64_t* offsets;
    const std::int32_t* neighbours;
    const float* weights;
    RowShape row;
    float gamma, weight;

    template <int V>
    __device__ __forceinline__ void group(const int u, double& loss) const {
        const int lane = lane_id();
        const int k = row.k;
        const float step_size = gamma * weight;
        const std::int64_t begin = offsets[u], end = offsets[std::int64_t(u) + 1];
        T* own_row = U + std::int64_t(u) * k;
        float squared = 0.0f;
        for (int base = 0; base < k; base += kWarp * V) {
            float own[V], d[V], y[V];
            load_slice<T, V>(own_row + base, lane, k - base, row.full, own);
#pragma unroll
            for (int e = 0; e < V; ++e) d[e] = own[e];
            for (std::int64_t e = begin; e < end; ++e) {  // D = U_u - sum_v w_v U_v (this slice)
                const float w = weights[e];
                load_slice<T, V>(U + std::int64_t(neighbours[e]) * k + base, lane, k - base, row.full, y);
#pragma unroll
                for (int f = 0; f < V; ++f) d[f] = step::mean_pull_accumulate(d[f], w, y[f]);
            }
#pragma unroll
            for (int f = 0; f < V; ++f) {
                squared = fmaf(d[f], d[f], squared);
                own[f] = step::mean_pull_own(own[f], d[f], step_size);
            }
            store_slice<T, V>(own_row + base, lane, k - base, row.full, own);
            for (std::int64_t e = begin; e < end; ++e) {
                const float w = weights[e];
                T* v_row = U + std::int64_t(neighbours[e]) * k + base;
                load_slice<T, V>(v_row, lane, k - base, row.full, y);
#pragma unroll
                for (int f = 0; f < V; ++f) y[f] = step::mean_pull_neighbour(y[f], d[f], step_size, w);
                store_slice<T, V>(v_row, lane, k - base, row.full, y);
            }
        }
        loss += step::mean_pull_term(weight, detail::warp_sum(squared));
    }
};

template <class T>
void mean_pull_launch(const MeanPullArgs& a, const Order& order, cudaStream_t stream) {
    const int k = a.factors;
    const MeanPullHyper<T> h{static_cast<T*>(a.user_factors), a.offsets, a.neighbours, a.weights,
                             RowShape{k, all_vector_rows<T>(k, {a.user_factors})}, a.learning_rate, a.weight};
    launch_per_user(a, h, order, "mean_pull kernel launch", stream);  // a user costs (1 + degree) rows
}

}  // namespace

void mean_pull_pass(const MeanPullArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    if (a.n > 0 && (!a.users || !a.offsets || !a.neighbours || !a.weights || !a.user_factors))
        throw std::invalid_argument("mean_pull_pass: null user, neighbour or factor pointer");
    run_ordered_pass(a, "mean_pull_pass", seed, epoch, stream, [&](auto tag, const Order& order) {
        mean_pull_launch<typename decltype(tag)::type>(a, order, stream);
    });
}

}  // namespace socialrec::cuda
