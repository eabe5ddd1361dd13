// CUDA: SVD++'s user-grouped rating pass (cpp/include/socialrec/models/svdpp.hpp UserGroupStep), with the trust
// pointers TrustSVD's rating pass.
// See models/svdpp.hpp for the entry point and the step (SVDppStep, shared with the host replay), sgd.cuh for
// the schedule (one warp per user, Hogwild over users).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>

#include "models/svdpp.hpp"
#include "sgd.cuh"
#include "socialrec/types.hpp"

namespace socialrec::cuda {

void svdpp_pass(const SVDppPassArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    detail::check_grouped_pass(a, "svdpp_pass: the CUDA SVD++ pass");
    if (a.n > 0 && (!a.item_factors || !a.implicit_factors || !a.user_bias || !a.item_bias))
        throw std::invalid_argument("svdpp_pass: null item factor or bias pointer");
    const bool any_trust = a.trustee_factors || a.trust_offsets || a.trustees || a.item_weight || a.trustee_weight;
    const bool all_trust = a.trustee_factors && a.trust_offsets && a.trustees && a.item_weight && a.trustee_weight;
    if (any_trust && !all_trust)
        throw std::invalid_argument("svdpp_pass: TrustSVD needs all of trustee_factors, trust_offsets, trustees, "
                                    "item_weight and trustee_weight");
    detail::run_ordered_pass(a, "svdpp_pass", seed, epoch, stream, [&](auto tag, const detail::Order& order) {
        using T = typename decltype(tag)::type;
        const int k = a.factors;
        const bool vec = detail::all_vector_rows<T>(k, {a.user_factors, a.item_factors, a.implicit_factors}) &&
                         (a.trustee_factors == nullptr || detail::all_vector_rows<T>(k, {a.trustee_factors}));
        const SVDppStep<T> step{a.offsets, a.items, a.values, static_cast<T*>(a.user_factors),
                                static_cast<T*>(a.item_factors), static_cast<T*>(a.implicit_factors), a.user_bias,
                                a.item_bias, static_cast<T*>(a.trustee_factors), a.trust_offsets, a.trustees,
                                a.item_weight, a.trustee_weight, a.global_bias, a.learning_rate, a.regularization,
                                a.bias_regularization};
        // a user costs 3 |I_u| + 2 rows
        detail::launch_per_user(a, step, detail::RowShape{k, vec}, order, "svdpp kernel launch", stream);
    });
}

}  // namespace socialrec::cuda
