// CUDA: the BiasedMF / PMF rating pass (cpp/include/socialrec/models/biased_mf.hpp). See models/biased_mf.hpp
// for the entry point and the step (BiasedMFStep, shared with the host replay), sgd.cuh for the schedule
// (batch-Hogwild, one warp per update).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>

#include "models/biased_mf.hpp"
#include "sgd.cuh"
#include "socialrec/types.hpp"

namespace socialrec::cuda {

void biased_mf_pass(const BiasedMFDeviceArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    if (a.n > 0 && (!a.users || !a.items || !a.values || !a.user_factors || !a.item_factors))
        throw std::invalid_argument("biased_mf_pass: null record or factor pointer");
    if (a.biased && a.n > 0 && (!a.user_bias || !a.item_bias))
        throw std::invalid_argument("biased_mf_pass: null bias pointer with biased=True");
    detail::begin_pass(a.loss, "biased_mf_pass", a.factors, a.n, stream);
    if (a.n == 0) return;
    const detail::Order order = detail::order_of(a.n, seed, epoch, kRatingPass);
    detail::with_storage(a.storage, [&](auto tag) {
        using T = typename decltype(tag)::type;
        const BiasedMFStep<T> step{static_cast<T*>(a.user_factors), static_cast<T*>(a.item_factors), a.user_bias,
                                   a.item_bias, a.biased, a.global_bias, a.learning_rate, a.regularization,
                                   a.bias_regularization};
        const detail::RowShape row{a.factors, detail::all_vector_rows<T>(a.factors, {a.user_factors, a.item_factors})};
        // At least 8 chunks (256 updates) per warp: on small data fewer warps means fewer stale reads.
        detail::launch_per_record(a.users, a.items, a.values, a.n, step, row, order, 8, a.loss,
                                  "biased_mf_sgd kernel launch", stream);
    });
}

}  // namespace socialrec::cuda
