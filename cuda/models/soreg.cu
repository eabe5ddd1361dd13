// CUDA: SoReg SR2's edge pass (cpp/include/socialrec/models/soreg.hpp); SR1 is social_mf.cu's mean-pull pass
// and the rating pass is biased_mf.cu's PMF pass.
// See models/soreg.hpp for the entry point and the step (SoRegEdgeStep, shared with the host replay), sgd.cuh
// for the schedule.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>

#include "models/soreg.hpp"
#include "sgd.cuh"

namespace socialrec::cuda {

void soreg_edge_pass(const EdgePassArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    if (a.n > 0 && (!a.a || !a.b || !a.values || !a.user_factors))
        throw std::invalid_argument("soreg_edge_pass: null record or factor pointer");
    detail::run_ordered_pass(a, "soreg_edge_pass", seed, epoch, stream, [&](auto tag, const detail::Order& order) {
        using T = typename decltype(tag)::type;
        const SoRegEdgeStep<T> step{static_cast<T*>(a.user_factors), a.learning_rate, a.social_regularization};
        const detail::RowShape row{a.factors, detail::all_vector_rows<T>(a.factors, {a.user_factors})};
        detail::launch_per_record(a.a, a.b, a.values, a.n, step, row, order, 8, a.loss, "soreg_edge kernel launch",
                                  stream);
    });
}

}  // namespace socialrec::cuda
