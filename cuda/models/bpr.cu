// CUDA: the sampled ranking pass of BPR (cpp/include/socialrec/models/bpr.hpp) and SBPR (sbpr.hpp).
// See models/bpr.hpp for the entry point and the steps (RankingStep, shared with the host replay), sgd.cuh for
// the schedule, steps.hpp for the device sampler.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

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

// The float16 rounding key of a ranking pass (rounding.hpp): from its sample stream's key.
__host__ __device__ inline std::uint64_t rounding_key(std::uint64_t sample_key) { return hd::mix64(~sample_key); }

// Every lane draws the same sample (same stream, broadcast loads), so the warp never diverges.
template <class T, int V, bool RESIDENT>
__global__ void __launch_bounds__(kBlock)
    ranking_kernel(Sampler h, RankingStep<T> update, RowShape row, double* loss_out) {
    const int lane = lane_id();
    const hd::WarpTeam team{lane};
    WarpSlices<V, RESIDENT> rows{row.k, row.full, lane, rounding_key(h.key)};
    double loss = 0.0;
    for (std::uint64_t s = warp_id(); s < std::uint64_t(h.n_samples); s += warp_count()) {
        rows.entry = s;
        step::CounterStream gen = step::sample_stream(h.key, s);
        const step::RankingSample sample = step::draw_sample(h.data, gen);
        if (sample.negative < 0) continue;  // no negative exists (refused before the launch: check_pool)
        if (sample.social < 0)
            loss += update.bpr(team, rows, sample);
        else
            loss += update.sbpr(team, rows, sample);
    }
    detail::add_block_loss(loss, loss_out);
}

// Counts into *count the pool entries whose user has consumed every item (step::pool_user_saturated).
__global__ void saturated_pool_kernel(const std::int64_t* __restrict__ indptr,
                                      const std::int32_t* __restrict__ pool_users, std::int64_t n_pool,
                                      std::int32_t n_items, double* count) {
    double mine = 0.0;
    for (std::int64_t r = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; r < n_pool;
         r += std::int64_t(gridDim.x) * blockDim.x)
        if (step::pool_user_saturated(indptr, pool_users[r], n_items)) mine += 1.0;
    if (mine > 0.0) atomicAdd(count, mine);
}

// Refuses a pool with a user who has consumed every item: no negative can be drawn for it, and a rejection
// sampler would never end (issue 25, item 8; the models drop such users, the raw epoch bindings may not). On the
// device the count goes through the pass's loss slot (zeroed again by begin_pass) and costs one small kernel and
// one synchronisation an epoch.
void check_pool(const RankingPassArgs& a, cudaStream_t stream) {
    std::int64_t saturated = 0;
    std::int32_t first = -1;
    if (host_executor()) {
        for (std::int64_t r = 0; r < a.n_pool; ++r)
            if (step::pool_user_saturated(a.indptr, a.pool_users[r], a.n_items)) {
                if (saturated++ == 0) first = a.pool_users[r];
            }
    } else {
        check(cudaMemsetAsync(a.loss, 0, sizeof(double), stream), "cudaMemsetAsync(loss)");
        const int blocks = int(std::min<std::int64_t>((a.n_pool + kBlock - 1) / kBlock, 1024));
        saturated_pool_kernel<<<blocks, kBlock, 0, stream>>>(a.indptr, a.pool_users, a.n_pool, a.n_items, a.loss);
        check(cudaGetLastError(), "saturated_pool kernel launch");
        double count = 0.0;
        check(cudaMemcpyAsync(&count, a.loss, sizeof(double), cudaMemcpyDeviceToHost, stream),
              "cudaMemcpyAsync(pool check)");
        check(cudaStreamSynchronize(stream), "cudaStreamSynchronize(pool check)");
        saturated = std::int64_t(count);
    }
    if (saturated > 0)
        throw std::invalid_argument(
            "ranking_pass: " + std::to_string(saturated) + " positive pair(s) of the pool belong to a user who has " +
            "consumed every one of the " + std::to_string(a.n_items) + " items" +
            (first >= 0 ? " (user " + std::to_string(first) + ")" : std::string()) +
            ", so no negative item can be drawn; drop such users from the pool");
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
    if (host_executor()) {  // sample s = 0, 1, ... in order (sgd.hpp Executor)
        const Order samples{std::uint64_t((a.n_samples + kWarp - 1) / kWarp), 1, 0, rounding_key(h.key)};
        return run_on_host<T>(a.n_samples, samples, a.factors, a.loss, [&](const auto& team, const auto& rows,
                                                                           std::int64_t s, double& sum) {
            step::CounterStream gen = step::sample_stream(h.key, std::uint64_t(s));
            const step::RankingSample sample = step::draw_sample(h.data, gen);
            if (sample.negative >= 0) sum += update(team, rows, sample);  // as the kernel
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
    check_pool(a, stream);
    begin_pass(a.loss, "ranking_pass", a.factors, a.n_samples, stream);
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
