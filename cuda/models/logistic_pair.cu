// CUDA: the logistic pair pass (cpp/include/socialrec/models/logistic_pair.hpp): SoRec's rating and link passes,
// SocialMF's rating pass, TrustMF's rating and trust passes.
// See models/logistic_pair.hpp for the entry point and the step (LogisticPairStep, shared with the host replay),
// sgd.cuh for the schedule.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>

#include "models/logistic_pair.hpp"
#include "sgd.cuh"

namespace socialrec::cuda {

void logistic_pair_pass(const LogisticPassArgs& a, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream) {
    if (a.n_sides < 1 || a.n_sides > 2) throw std::invalid_argument("logistic_pair_pass: n_sides must be 1 or 2");
    if (a.n > 0) {
        if (!a.a || !a.b || !a.values) throw std::invalid_argument("logistic_pair_pass: null record pointer");
        for (int s = 0; s < a.n_sides; ++s)
            if (!a.sides[s].A || !a.sides[s].B) throw std::invalid_argument("logistic_pair_pass: null factor pointer");
    for (int s = 0; s < a.n_sides; ++s)
        if (!a.sides[s].a_bias != !a.sides[s].b_bias)
            throw std::invalid_argument("logistic_pair_pass: a side has one bias array without the other");
    }
    detail::run_ordered_pass(a, "logistic_pair_pass", seed, epoch, stream, [&](auto tag, const detail::Order& order) {
        using T = typename decltype(tag)::type;
        LogisticPairStep<T> step{};
        step.n_sides = a.n_sides;
        for (int s = 0; s < a.n_sides; ++s)
            step.sides[s] = {static_cast<T*>(a.sides[s].A), static_cast<T*>(a.sides[s].B), a.sides[s].data_weight,
                             a.sides[s].penalty_weight, a.sides[s].offset, a.sides[s].a_bias, a.sides[s].b_bias,
                             a.sides[s].bias_lambda};
        step.gamma = a.learning_rate;
        step.lambda = a.regularization;
        const int k = a.factors;
        const detail::RowShape row{k, detail::all_vector_rows<T>(k, {a.sides[0].A, a.sides[0].B}) &&
                                          (a.n_sides < 2 || detail::all_vector_rows<T>(k, {a.sides[1].A, a.sides[1].B}))};
        detail::launch_per_record(a.a, a.b, a.values, a.n, step, row, order, 8, a.loss, "logistic_pair kernel launch",
                                  stream);
    });
}

}  // namespace socialrec::cuda
