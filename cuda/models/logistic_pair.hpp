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
    float* a_bias = nullptr;  // b_a, one per row of A (float32); null: no bias terms on this side
    float* b_bias = nullptr;  // b_b, one per row of B (float32; set together with a_bias)
    float bias_lambda = 0;    // lambda_b (read only with biases)
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
// A side with biases (a_bias set: the rating terms of biased=True, logistic_pair.hpp's Biased) puts them inside
// the link, x = offset + A_a . B_b + (b_a + b_b), steps b_a += gamma (d - w_p lambda_b b_a) (b_b likewise) and
// adds w_p lambda_b/2 (b_a^2 + b_b^2) to its term; rank 0 alone reads and writes the biases (as BiasedMFStep),
// so the returned terms are valid on rank 0.
template <class T>
struct LogisticPairStep {
    using Storage = T;  // the factors' storage type
    struct Side {
        T* A;
        T* B;
        float data_weight, penalty_weight, offset;
        float* a_bias;  // null: no bias terms
        float* b_bias;
        float bias_lambda;
    };
    Side sides[2];
    int n_sides;
    float gamma, lambda;

    SOCIALREC_HD_TEMPLATE
    template <class Team, class Slices>
    SOCIALREC_HD double side(const Team& team, const Slices& rows, const Side& h, int a, int b, float c) const {
        const bool biased = h.a_bias != nullptr;  // the same on every rank
        float b_a = 0.0f, b_b = 0.0f;
        if (biased && team.rank() == 0) {  // issued before the row loads' results are needed
            b_a = h.a_bias[a];
            b_b = h.b_bias[b];
        }
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
        if (biased) dot += team.broadcast(b_a + b_b);  // x - offset, as the CPU's terms()
        const step::LogisticCoef coef = step::logistic_coef(c, dot, h.offset, h.data_weight);
        const float lambda_w = h.penalty_weight * lambda;
        double term = step::logistic_term(coef.e, norms, h.data_weight, h.penalty_weight, lambda);
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
        if (biased && team.rank() == 0) {
            const float bias_lambda_w = h.penalty_weight * h.bias_lambda;
            h.a_bias[a] = step::bias_element(b_a, coef.d, gamma, bias_lambda_w);
            h.b_bias[b] = step::bias_element(b_b, coef.d, gamma, bias_lambda_w);
            term += step::logistic_bias_term(h.penalty_weight, h.bias_lambda, b_a, b_b);
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
