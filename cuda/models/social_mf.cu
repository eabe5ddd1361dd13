// CUDA: the mean-pull user pass (cpp/include/socialrec/models/social_mf.hpp): SocialMF's user pass and SoReg SR1.
// See models/social_mf.hpp for the entry point and the step (MeanPullStep, shared with the host replay),
// sgd.cuh for the schedule (one warp per user, rows of any length slice by slice).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>

#include "models/social_mf.hpp"
#include "sgd.cuh"

namespace socialrec::cuda {

void mean_pull_pass(const MeanPullArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    if (a.n > 0 && (!a.users || !a.offsets || !a.neighbours || !a.weights || !a.user_factors))
        throw std::invalid_argument("mean_pull_pass: null user, neighbour or factor pointer");
    detail::run_ordered_pass(a, "mean_pull_pass", seed, epoch, stream, [&](auto tag, const detail::Order& order) {
        using T = typename decltype(tag)::type;
        const MeanPullStep<T> step{static_cast<T*>(a.user_factors), a.offsets, a.neighbours, a.weights,
                                   a.learning_rate, a.weight};
        const detail::RowShape row{a.factors, detail::all_vector_rows<T>(a.factors, {a.user_factors})};
        // a user costs (1 + degree) rows; rows longer than 256 are streamed slice by slice
        detail::launch_per_user</*AnyLength=*/true>(a, step, row, order, "mean_pull kernel launch", stream);
    });
}

}  // namespace socialrec::cuda
