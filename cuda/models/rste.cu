// CUDA: RSTE's user-grouped pass (cpp/include/socialrec/models/rste.hpp RSTEUserStep).
// See models/rste.hpp for the entry point and the step (RSTEStep, shared with the host replay), sgd.cuh for the
// schedule (one warp per user with ratings).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>

#include "models/rste.hpp"
#include "sgd.cuh"

namespace socialrec::cuda {

void rste_pass(const RSTEPassArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    detail::check_grouped_pass(a, "rste_pass: the CUDA RSTE pass");
    if (a.n > 0 && (!a.trust_offsets || !a.trustees || !a.trust_weights || !a.item_factors))
        throw std::invalid_argument("rste_pass: null trust or item factor pointer");
    if (!a.user_bias != !a.item_bias) throw std::invalid_argument("rste_pass: one bias array without the other");
    detail::run_ordered_pass(a, "rste_pass", seed, epoch, stream, [&](auto tag, const detail::Order& order) {
        using T = typename decltype(tag)::type;
        const int k = a.factors;
        const RSTEStep<T> step{a.offsets, a.items, a.values, a.trust_offsets, a.trustees, a.trust_weights,
                               static_cast<T*>(a.user_factors), static_cast<T*>(a.item_factors), a.user_bias,
                               a.item_bias, a.global_bias, a.alpha, a.learning_rate, a.regularization,
                               a.bias_regularization};
        const detail::RowShape row{k, detail::all_vector_rows<T>(k, {a.user_factors, a.item_factors})};
        detail::launch_per_user(a, step, row, order, "rste kernel launch", stream);
    });
}

}  // namespace socialrec::cuda
