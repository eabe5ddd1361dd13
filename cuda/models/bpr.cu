// CUDA: the sampled ranking pass of BPR (cpp/include/socialrec/models/bpr.hpp) and SBPR (sbpr.hpp).
// See models/bpr.hpp for the entry point and the steps (RankingStep, shared with the host replay), sgd.cuh for
// the schedule, steps.hpp for the device sampler.
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

// The pass's sampler: the interactions, the number of samples and the epoch's stream key.
struct Sampler {
    step::SamplerData data;
    std::int64_t n_samples;
    std::uint64_t key;
};

// Every lane draws the same sample (same stream, broadcast loads), so the warp never diverges.
template <class T, int V, bool RESIDENT>
__global__ void __launch_bounds__(kBlock)
    ranking_kernel(Sampler h, RankingStep<T> update, RowShape row, double* loss_out) {
    const int lane = lane_id();
    const hd::WarpTeam team{lane};
    const WarpSlices<V, RESIDENT> rows{row.k, row.full, lane};
    double loss = 0.0;
    for (std::uint64_t s = warp_id(); s < std::uint64_t(h.n_samples); s += warp_count()) {
        step::CounterStream gen = step::sample_stream(h.key, s);
        const step::RankingSample sample = step::draw_sample(h.data, gen);
        if (sample.social < 0)
            loss += update.bpr(team, rows, sample);
        else
            loss += update.sbpr(team, rows, sample);
    }
    detail::add_block_loss(loss, loss_out);
}

template <class T>
struct RankingLaunch {
    const RankingPassArgs& a;
    const Sampler& h;
    const RankingStep<T>& update;
    RowShape row;
    cudaStream_t stream;
    template <int V, bool RESIDENT>
    void operator()() const {
        auto kernel = ranking_kernel<T, V, RESIDENT>;
        const int blocks = grid_for(kernel, std::uint64_t(a.n_samples), 256);  // as sgd.cu: >= 256 updates a warp
        kernel<<<blocks, kBlock, 0, stream>>>(h, update, row, a.loss);
        check(cudaGetLastError(), "ranking kernel launch");
    }
};

template <class T>
void ranking_launch(const RankingPassArgs& a, std::uint64_t key, cudaStream_t stream) {
    const Sampler h{step::SamplerData{a.indptr, a.indices, a.pool_users, a.pool_items, a.n_pool, a.n_items,
                                      a.social_indptr, a.social_items, a.social_counts},
                    a.n_samples, key};
    const RankingStep<T> update{static_cast<T*>(a.user_factors), static_cast<T*>(a.item_factors), a.item_bias,
                                a.learning_rate, a.regularization, a.bias_regularization, a.social_weight};
    if (pass_executor() == Executor::host) {  // sample s = 0, 1, ... in order (sgd.hpp Executor)
        const Order samples{std::uint64_t((a.n_samples + kWarp - 1) / kWarp), 1, 0};
        return run_on_host<T>(a.n_samples, samples, a.factors, a.loss, [&](const auto& team, const auto& rows,
                                                                           std::int64_t s, double& sum) {
            step::CounterStream gen = step::sample_stream(h.key, std::uint64_t(s));
            sum += update(team, rows, step::draw_sample(h.data, gen));
        });
    }
    const RowShape row{a.factors, all_vector_rows<T>(a.factors, {a.user_factors, a.item_factors})};
    by_layout(a.factors, RankingLaunch<T>{a, h, update, row, stream});
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
