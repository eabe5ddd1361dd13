// CUDA: the sampled ranking pass of BPR (cpp/include/socialrec/models/bpr.hpp) and SBPR (sbpr.hpp).
// See models/bpr.hpp for the entry point, sgd.cuh for the schedule, steps.hpp for the per-update math.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>

#include "models/bpr.hpp"
#include "sgd.cuh"
#include "steps.hpp"
#include "socialrec/rng.hpp"
#include "socialrec/types.hpp"

namespace socialrec::cuda {
namespace {

using namespace detail;

// ---------------------------------------------------------------------------------------------------------
// BPR / SBPR sampled pass
// ---------------------------------------------------------------------------------------------------------
template <class T>
struct RankingHyper {
    step::SamplerData data;
    std::int64_t n_samples;
    std::uint64_t key;
    T* P;
    T* Q;
    float* bias;
    RowShape row;
    float gamma, lambda, lambda_b;
    float social_weight;  // SBPR's alpha (sbpr.hpp)
};

template <class T, int V, bool RESIDENT>
__device__ __forceinline__ double bpr_update(const RankingHyper<T>& h, const step::RankingSample& s, int lane) {
    const int k = h.row.k;
    T* p_row = h.P + std::int64_t(s.user) * k;
    T* i_row = h.Q + std::int64_t(s.item) * k;
    T* j_row = h.Q + std::int64_t(s.negative) * k;
    const float b_i = h.bias[s.item], b_j = h.bias[s.negative];  // every lane (one broadcast load)
    float p[V], qi[V], qj[V];
    float dot = 0.0f, norms = 0.0f;
    for (int base = 0; base < k; base += kWarp * V) {
        load_rows<T, V>(h.row, lane, base, p_row, p, i_row, qi, j_row, qj);
#pragma unroll
        for (int f = 0; f < V; ++f) {
            dot = fmaf(p[f], qi[f] - qj[f], dot);
            norms += p[f] * p[f] + qi[f] * qi[f] + qj[f] * qj[f];
        }
        if (RESIDENT) break;
    }
    detail::warp_sum2(dot, norms);
    float x;
    const float e = step::bpr_coef(dot, b_i, b_j, &x);
    for (int base = 0; base < k; base += kWarp * V) {
        if (!RESIDENT) {
            load_rows<T, V>(h.row, lane, base, p_row, p, i_row, qi, j_row, qj);
        }
#pragma unroll
        for (int f = 0; f < V; ++f) step::bpr_element(p[f], qi[f], qj[f], e, h.gamma, h.lambda);
        store_rows<T, V>(h.row, lane, base, p_row, p, i_row, qi, j_row, qj);
        if (RESIDENT) break;
    }
    if (lane == 0) {
        h.bias[s.item] = step::bias_element(b_i, e, h.gamma, h.lambda_b);
        h.bias[s.negative] = step::bias_element(b_j, -e, h.gamma, h.lambda_b);
    }
    return step::bpr_term(x, norms, h.lambda, b_i, b_j, h.lambda_b);
}

template <class T, int V, bool RESIDENT>
__device__ __forceinline__ double sbpr_update(const RankingHyper<T>& h, const step::RankingSample& s, int lane) {
    const int k = h.row.k;
    T* p_row = h.P + std::int64_t(s.user) * k;
    T* i_row = h.Q + std::int64_t(s.item) * k;
    T* k_row = h.Q + std::int64_t(s.social) * k;
    T* j_row = h.Q + std::int64_t(s.negative) * k;
    const float b_i = h.bias[s.item], b_k = h.bias[s.social], b_j = h.bias[s.negative];
    float p[V], qi[V], qk[V], qj[V];
    float x_ik = 0.0f, x_kj = 0.0f, norms = 0.0f, norm_k = 0.0f;
    for (int base = 0; base < k; base += kWarp * V) {
        load_rows<T, V>(h.row, lane, base, p_row, p, i_row, qi, k_row, qk, j_row, qj);
#pragma unroll
        for (int f = 0; f < V; ++f) {
            x_ik = fmaf(p[f], qi[f] - qk[f], x_ik);
            x_kj = fmaf(p[f], qk[f] - qj[f], x_kj);
            norms += p[f] * p[f] + qi[f] * qi[f] + qj[f] * qj[f];
            norm_k += qk[f] * qk[f];
        }
        if (RESIDENT) break;
    }
    detail::warp_sum2(x_ik, x_kj);
    detail::warp_sum2(norms, norm_k);
    const step::SBPRCoef coef = step::sbpr_coef(x_ik, x_kj, b_i, b_k, b_j, s.count, h.social_weight);
    for (int base = 0; base < k; base += kWarp * V) {
        if (!RESIDENT) {
            load_rows<T, V>(h.row, lane, base, p_row, p, i_row, qi, k_row, qk, j_row, qj);
        }
#pragma unroll
        for (int f = 0; f < V; ++f) step::sbpr_element(p[f], qi[f], qk[f], qj[f], coef, h.gamma, h.lambda);
        store_rows<T, V>(h.row, lane, base, p_row, p, i_row, qi, k_row, qk, j_row, qj);
        if (RESIDENT) break;
    }
    if (lane == 0) {
        h.bias[s.item] = step::bias_element(b_i, coef.e1 + coef.e3, h.gamma, h.lambda_b);
        h.bias[s.social] = step::bias_element(b_k, coef.e2 - coef.e1, h.gamma, coef.alpha * h.lambda_b);
        h.bias[s.negative] = step::bias_element(b_j, -(coef.e2 + coef.e3), h.gamma, h.lambda_b);
    }
    return step::sbpr_term(coef, norms, norm_k, h.lambda, b_i, b_k, b_j, h.lambda_b);
}

// Every lane draws the same sample (same stream, broadcast loads), so the warp never diverges.
template <class T, int V, bool RESIDENT>
__global__ void __launch_bounds__(kBlock) ranking_kernel(RankingHyper<T> h, double* loss_out) {
    const int lane = lane_id();
    double loss = 0.0;
    for (std::uint64_t s = warp_id(); s < std::uint64_t(h.n_samples); s += warp_count()) {
        step::CounterStream gen = step::sample_stream(h.key, s);
        const step::RankingSample sample = step::draw_sample(h.data, gen);
        if (sample.social < 0)
            loss += bpr_update<T, V, RESIDENT>(h, sample, lane);
        else
            loss += sbpr_update<T, V, RESIDENT>(h, sample, lane);
    }
    detail::add_block_loss(loss, loss_out);
}

template <class T>
struct RankingLaunch {
    const RankingPassArgs& a;
    const RankingHyper<T>& h;
    cudaStream_t stream;
    template <int V, bool RESIDENT>
    void operator()() const {
        auto kernel = ranking_kernel<T, V, RESIDENT>;
        const int blocks = grid_for(kernel, std::uint64_t(a.n_samples), 256);  // as sgd.cu: >= 256 updates a warp
        kernel<<<blocks, kBlock, 0, stream>>>(h, a.loss);
        check(cudaGetLastError(), "ranking kernel launch");
    }
};

template <class T>
void ranking_launch(const RankingPassArgs& a, std::uint64_t key, cudaStream_t stream) {
    RankingHyper<T> h{};
    h.data = step::SamplerData{a.indptr, a.indices, a.pool_users, a.pool_items, a.n_pool, a.n_items,
                               a.social_indptr, a.social_items, a.social_counts};
    h.n_samples = a.n_samples;
    h.key = key;
    h.P = static_cast<T*>(a.user_factors);
    h.Q = static_cast<T*>(a.item_factors);
    h.bias = a.item_bias;
    h.row = RowShape{a.factors, all_vector_rows<T>(a.factors, {a.user_factors, a.item_factors})};
    h.social_weight = a.social_weight;
    h.gamma = a.learning_rate;
    h.lambda = a.regularization;
    h.lambda_b = a.bias_regularization;
    by_layout(a.factors, RankingLaunch<T>{a, h, stream});
}

}  // namespace

void ranking_pass(const RankingPassArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    if (a.n_samples > 0) {
        if (a.n_pool <= 0) throw std::invalid_argument("ranking_pass: samples requested from an empty pool");
        if (a.n_items < 2) throw std::invalid_argument("ranking_pass: needs at least 2 items");
        if (!a.indptr || !a.indices || !a.pool_users || !a.pool_items || !a.user_factors || !a.item_factors ||
            !a.item_bias)
            throw std::invalid_argument("ranking_pass: null interaction or parameter pointer");
        if (a.social_indptr && (!a.social_items || !a.social_counts))
            throw std::invalid_argument("ranking_pass: social_indptr without social_items / social_counts");
    }
    begin_pass(a.loss, "ranking_pass", a.factors, a.n_samples, stream);
    if (a.n_samples == 0) return;
    const std::uint64_t key = sample_key(seed, epoch);
    if (a.storage == Storage::float16)
        ranking_launch<__half>(a, key, stream);
    else
        ranking_launch<float>(a, key, stream);
}

std::uint64_t sample_key(std::uint64_t seed, std::int64_t epoch) {
    return stream_seed(seed, std::uint64_t(epoch), kSamplePass, 0);
}

}  // namespace socialrec::cuda
