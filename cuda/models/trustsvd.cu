// CUDA: TrustSVD's link pass (cpp/include/socialrec/models/trustsvd.hpp TrustLinkStep); its rating pass is
// svdpp.cu's with the trust pointers.
// See models/trustsvd.hpp for the entry point and the step (TrustLinkStep, shared with the host replay), sgd.cuh
// for the schedule (one warp per truster, p_u in registers across its edges).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>

#include "models/trustsvd.hpp"
#include "sgd.cuh"

namespace socialrec::cuda {

void trust_link_pass(const TrustLinkPassArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    detail::check_grouped_pass(a, "trust_link_pass: the CUDA TrustSVD link pass");
    if (a.n > 0 && (!a.trustee_weight || !a.trustee_factors))
        throw std::invalid_argument("trust_link_pass: null weight or trustee factor pointer");
    detail::run_ordered_pass(a, "trust_link_pass", seed, epoch, stream, [&](auto tag, const detail::Order& order) {
        using T = typename decltype(tag)::type;
        const int k = a.factors;
        const TrustLinkStep<T> step{a.offsets, a.items, a.values, a.trustee_weight, static_cast<T*>(a.user_factors),
                                    static_cast<T*>(a.trustee_factors), a.learning_rate, a.regularization,
                                    a.social_regularization};
        const detail::RowShape row{k, detail::all_vector_rows<T>(k, {a.user_factors, a.trustee_factors})};
        detail::launch_per_user(a, step, row, order, "trust_link kernel launch", stream);
    });
}

}  // namespace socialrec::cuda
