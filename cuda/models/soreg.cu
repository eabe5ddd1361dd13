// CUDA: SoReg SR2's edge pass (cpp/include/socialrec/models/soreg.hpp); SR1 is social_mf.cu's mean-pull pass
// and the rating pass is biased_mf.cu's PMF pass.
// See models/soreg.hpp for the entry point, sgd.cuh for the schedule, steps.hpp for the per-update math.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>

#include "models/soreg.hpp"
#include "sgd.cuh"
#include "steps.hpp"
#include "socialrec/rng.hpp"
#include "socialrec/types.hpp"

namespace socialrec::cuda {
namespace {

using namespace detail;

// ---------------------------------------------------------------------------------------------------------
// SoReg SR2 edge pass (element-wise step: one read and one write of each slice)
// ---------------------------------------------------------------------------------------------------------
template <class T>
struct EdgeHyper {
    T* U;
    RowShape row;
    float gamma, beta;
};

template <class T, int V>
__global__ void __launch_bounds__(kBlock)
    soreg_edge_kernel(const std::int32_t* __restrict__ as, const std::int32_t* __restrict__ bs,
                      const float* __restrict__ values, std::int64_t n, EdgeHyper<T> h, Order order,
                      double* loss_out) {
    const int lane = lane_id();
    const int k = h.row.k;
    double loss = 0.0;
    for_each_record_in_order(as, bs, values, n, order, [&](int u, int f, float sim) {
        const float w = h.beta * sim;
        const float step_size = h.gamma * w;
        T* u_row = h.U + std::int64_t(u) * k;
        T* f_row = h.U + std::int64_t(f) * k;
        float squared = 0.0f;
        for (int base = 0; base < k; base += kWarp * V) {
            float x[V], y[V];
            load_slice<T, V>(u_row + base, lane, k - base, h.row.full, x);
            load_slice<T, V>(f_row + base, lane, k - base, h.row.full, y);
#pragma unroll
            for (int e = 0; e < V; ++e) {
                const float d = step::difference_element(x[e], y[e], step_size);  // 0 beyond k
                squared = fmaf(d, d, squared);
            }
            store_slice<T, V>(u_row + base, lane, k - base, h.row.full, x);
            store_slice<T, V>(f_row + base, lane, k - base, h.row.full, y);
        }
        loss += step::difference_term(w, detail::warp_sum(squared));
    });
    detail::add_block_loss(loss, loss_out);
}

template <class T>
void edge_launch(const EdgePassArgs& a, const Order& order, cudaStream_t stream) {
    const int k = a.factors;
    const EdgeHyper<T> h{static_cast<T*>(a.user_factors), RowShape{k, all_vector_rows<T>(k, {a.user_factors})},
                         a.learning_rate, a.social_regularization};
    launch_sliced(
        k, order.chunks, 8, "soreg_edge kernel launch", stream,
        [](auto v) { return soreg_edge_kernel<T, decltype(v)::value>; }, a.a, a.b, a.values, a.n, h, order, a.loss);
}

}  // namespace

void soreg_edge_pass(const EdgePassArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    if (a.n > 0 && (!a.a || !a.b || !a.values || !a.user_factors))
        throw std::invalid_argument("soreg_edge_pass: null record or factor pointer");
    run_ordered_pass(a, "soreg_edge_pass", seed, epoch, stream, [&](auto tag, const Order& order) {
        edge_launch<typename decltype(tag)::type>(a, order, stream);
    });
}

}  // namespace socialrec::cuda
