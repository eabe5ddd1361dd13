// CUDA: the logistic pair pass (cpp/include/socialrec/models/logistic_pair.hpp): SoRec's rating and link passes,
// SocialMF's rating pass, TrustMF's rating and trust passes.
// See models/logistic_pair.hpp for the entry point, sgd.cuh for the schedule, steps.hpp for the per-update math.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>

#include "models/logistic_pair.hpp"
#include "sgd.cuh"
#include "steps.hpp"
#include "socialrec/rng.hpp"
#include "socialrec/types.hpp"

namespace socialrec::cuda {
namespace {

using namespace detail;

// ---------------------------------------------------------------------------------------------------------
// The logistic pair pass
// ---------------------------------------------------------------------------------------------------------
template <class T>
struct Side {
    T* A;
    T* B;
    float data_weight, penalty_weight, offset;
};

template <class T>
struct LogisticHyper {
    Side<T> sides[2];
    int n_sides;
    RowShape row;
    float gamma, lambda;
};

template <class T, int V, bool RESIDENT>
__device__ __forceinline__ double logistic_update(const Side<T>& s, int a, int b, float c, const RowShape& row,
                                                  float gamma, float lambda, int lane) {
    T* a_row = s.A + std::int64_t(a) * row.k;
    T* b_row = s.B + std::int64_t(b) * row.k;
    float x[V], y[V];
    float dot = 0.0f, norms = 0.0f;
    for (int base = 0; base < row.k; base += kWarp * V) {
        load_slice<T, V>(a_row + base, lane, row.k - base, row.full, x);
        load_slice<T, V>(b_row + base, lane, row.k - base, row.full, y);
#pragma unroll
        for (int j = 0; j < V; ++j) {
            dot = fmaf(x[j], y[j], dot);
            norms = fmaf(x[j], x[j], fmaf(y[j], y[j], norms));
        }
        if (RESIDENT) break;
    }
    detail::warp_sum2(dot, norms);
    const step::LogisticCoef coef = step::logistic_coef(c, dot, s.offset, s.data_weight);
    const float lambda_w = s.penalty_weight * lambda;
    for (int base = 0; base < row.k; base += kWarp * V) {
        if (!RESIDENT) {
            load_slice<T, V>(a_row + base, lane, row.k - base, row.full, x);
            load_slice<T, V>(b_row + base, lane, row.k - base, row.full, y);
        }
#pragma unroll
        for (int j = 0; j < V; ++j) step::pair_element(x[j], y[j], coef.d, gamma, lambda_w, lambda_w);
        store_slice<T, V>(a_row + base, lane, row.k - base, row.full, x);
        store_slice<T, V>(b_row + base, lane, row.k - base, row.full, y);
        if (RESIDENT) break;
    }
    return step::logistic_term(coef.e, norms, s.data_weight, s.penalty_weight, lambda);
}

// Persistent grid over the epoch's chunks of 32 records (sgd.cuh for_each_record_in_order).
template <class T, int V, bool RESIDENT>
__global__ void __launch_bounds__(kBlock)
    logistic_pair_kernel(const std::int32_t* __restrict__ as, const std::int32_t* __restrict__ bs,
                         const float* __restrict__ values, std::int64_t n, LogisticHyper<T> h, Order order,
                         double* loss_out) {
    const int lane = lane_id();
    double loss = 0.0;
    for_each_record_in_order(as, bs, values, n, order, [&](int a, int b, float c) {
        loss += logistic_update<T, V, RESIDENT>(h.sides[0], a, b, c, h.row, h.gamma, h.lambda, lane);
        if (h.n_sides > 1) loss += logistic_update<T, V, RESIDENT>(h.sides[1], a, b, c, h.row, h.gamma, h.lambda, lane);
    });
    detail::add_block_loss(loss, loss_out);
}

template <class T>
struct LogisticLaunch {
    const LogisticPassArgs& a;
    const LogisticHyper<T>& h;
    const Order& order;
    cudaStream_t stream;
    template <int V, bool RESIDENT>
    void operator()() const {
        auto kernel = logistic_pair_kernel<T, V, RESIDENT>;
        const int blocks = grid_for(kernel, order.chunks, 8);
        kernel<<<blocks, kBlock, 0, stream>>>(a.a, a.b, a.values, a.n, h, order, a.loss);
        check(cudaGetLastError(), "logistic_pair kernel launch");
    }
};

template <class T>
void logistic_launch(const LogisticPassArgs& a, const Order& order, cudaStream_t stream) {
    LogisticHyper<T> h{};
    const int k = a.factors;
    h.n_sides = a.n_sides;
    for (int s = 0; s < a.n_sides; ++s)
        h.sides[s] = Side<T>{static_cast<T*>(a.sides[s].A), static_cast<T*>(a.sides[s].B), a.sides[s].data_weight,
                             a.sides[s].penalty_weight, a.sides[s].offset};
    h.row = RowShape{k, all_vector_rows<T>(k, {a.sides[0].A, a.sides[0].B}) &&
                            (a.n_sides < 2 || all_vector_rows<T>(k, {a.sides[1].A, a.sides[1].B}))};
    h.gamma = a.learning_rate;
    h.lambda = a.regularization;
    by_layout(k, LogisticLaunch<T>{a, h, order, stream});
}

}  // namespace

void logistic_pair_pass(const LogisticPassArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    if (a.n_sides < 1 || a.n_sides > 2) throw std::invalid_argument("logistic_pair_pass: n_sides must be 1 or 2");
    if (a.n > 0) {
        if (!a.a || !a.b || !a.values) throw std::invalid_argument("logistic_pair_pass: null record pointer");
        for (int s = 0; s < a.n_sides; ++s)
            if (!a.sides[s].A || !a.sides[s].B) throw std::invalid_argument("logistic_pair_pass: null factor pointer");
    }
    run_ordered_pass(a, "logistic_pair_pass", seed, epoch, stream, [&](auto tag, const Order& order) {
        logistic_launch<typename decltype(tag)::type>(a, order, stream);
    });
}

}  // namespace socialrec::cuda
