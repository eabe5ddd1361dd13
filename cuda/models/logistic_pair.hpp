// CUDA: the logistic pair pass (cpp/include/socialrec/models/logistic_pair.hpp): SoRec's rating and link passes,
// SocialMF's rating pass, TrustMF's rating and trust passes.
// A plain C++ entry point taking raw device pointers, sizes and a stream (nvcc never sees pybind11); the
// schedule and the loss convention are those of cuda/sgd.cuh; the step (LogisticPairStep, below) is written
// once over a team and a row layout (hd_team.hpp) for the kernel and its host replay.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "hd_team.hpp"
#include "sgd.hpp"
#include "steps.hpp"

namespace socialrec::cuda {

// One logistic pair term's matrices and weights (cpp/include/socialrec/models/logistic_pair.hpp).
struct LogisticSide {
    void* A = nullptr;  // rows indexed by the record's a (Storage)
    void* B = nullptr;  // rows indexed by the record's b
    float data_weight = 1, penalty_weight = 1, offset = 0;
};

struct LogisticPassArgs {
    const std::int32_t* a = nullptr;  // n records (structure of arrays), already shuffled
    const std::int32_t* b = nullptr;
    const float* values = nullptr;    // the targets c
    std::int64_t n = 0;
    LogisticSide sides[2];
    std::int32_t n_sides = 1;  // 1, or 2: both steps on each record, in order (TrustMF)
    std::int32_t factors = 0;
    Storage storage = Storage::float32;
    float learning_rate = 0, regularization = 0;
    std::uint64_t pass = 0;  // pass id of the chunk order (types.hpp PassId)
    double* loss = nullptr;  // one double: set to the pass's summed terms
};
void logistic_pair_pass(const LogisticPassArgs& args, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream);

// The logistic pair step on record (a, b, c) (logistic_pair.hpp LogisticPairStep), for each of the n_sides
// sides in order: x = offset + A_a . B_b, e = c - g(x), d = w_d e g(x) (1 - g(x)),
//   A_a += gamma (d B_b - w_p lambda A_a),   B_b += gamma (d A_a - w_p lambda B_b);
// returns the terms w_d/2 e^2 + w_p lambda/2 (|A_a|^2 + |B_b|^2) evaluated before each step (steps.hpp
// logistic_coef, pair_element, logistic_term). T: the factors' storage.
template <class T>
struct LogisticPairStep {
    using Storage = T;  // the factors' storage type
    struct Side {
        T* A;
        T* B;
        float data_weight, penalty_weight, offset;
    };
    Side sides[2];
    int n_sides;
    float gamma, lambda;

    SOCIALREC_HD_TEMPLATE
    template <class Team, class Slices>
    SOCIALREC_HD double side(const Team& team, const Slices& rows, const Side& h, int a, int b, float c) const {
        typename Slices::Slice x, y;
        float dot = 0.0f, norms = 0.0f;
        for (int s = 0; s < rows.count(); ++s) {
            rows.load(h.A, a, s, x);
            rows.load(h.B, b, s, y);
            SOCIALREC_UNROLL
            for (int j = 0; j < x.size(); ++j) {
                dot = fmaf(x[j], y[j], dot);
                norms = fmaf(x[j], x[j], fmaf(y[j], y[j], norms));
            }
        }
        team.sum2(dot, norms);
        const step::LogisticCoef coef = step::logistic_coef(c, dot, h.offset, h.data_weight);
        const float lambda_w = h.penalty_weight * lambda;
        const double term = step::logistic_term(coef.e, norms, h.data_weight, h.penalty_weight, lambda);
        for (int s = 0; s < rows.count(); ++s) {
            if (!Slices::kResident) {
                rows.load(h.A, a, s, x);
                rows.load(h.B, b, s, y);
            }
            SOCIALREC_UNROLL
            for (int j = 0; j < x.size(); ++j) step::pair_element(x[j], y[j], coef.d, gamma, lambda_w, lambda_w);
            rows.store(h.A, a, s, x);
            rows.store(h.B, b, s, y);
        }
        return term;
    }

    SOCIALREC_HD_TEMPLATE
    template <class Team, class Slices>
    SOCIALREC_HD double operator()(const Team& team, const Slices& rows, int a, int b, float c) const {
        double term = side(team, rows, sides[0], a, b, c);
        if (n_sides > 1) term += side(team, rows, sides[1], a, b, c);
        return term;
    }
};

}  // namespace socialrec::cuda
