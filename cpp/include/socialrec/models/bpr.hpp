// BPR: Bayesian personalised ranking with matrix factorisation (Rendle, Freudenthaler, Gantner,
// Schmidt-Thieme, UAI 2009).
//
// Score x_ui = b_i + p_u . q_i. Each sampled triple (u, i+, j-) -- i consumed by u, j not -- contributes
//   -ln g(x_uij) + lambda/2 (|p_u|^2 + |q_i|^2 + |q_j|^2) + lambda_b/2 (b_i^2 + b_j^2),   x_uij = x_ui - x_uj
// (BPR-Opt, eq. 4 of the paper, split over its observations), and LearnBPR (Fig. 4, with the MF derivatives of
// sec. 5.2) steps on it with e = g(-x_uij) = 1 / (1 + exp(x_uij)):
//   p_u += gamma (e (q_i - q_j) - lambda p_u),  q_i += gamma (e p_u - lambda q_i),  q_j += gamma (-e p_u - lambda q_j)
//   b_i += gamma (e - lambda_b b_i),            b_j += gamma (-e - lambda_b b_j)          (all with old values).
// Triples are drawn by sampling.hpp inside sgd.hpp's sampled_pass. Reference: socialrec/reference/bpr.py.
#pragma once
#include <cmath>
#include <cstdint>

#include "socialrec/sampling.hpp"
#include "socialrec/sgd.hpp"
#include "socialrec/types.hpp"
#include "socialrec/vec.hpp"

namespace socialrec {

template <class T>
struct BPRArgs {
    Interactions data;
    T* user_factors;  // n_users x factors
    T* item_factors;  // n_items x factors
    T* item_bias;     // n_items
    std::int32_t factors;
    double learning_rate;
    double regularization;
    double bias_regularization;
};

}  // namespace socialrec

SOCIALREC_KERNELS_BEGIN

// -ln g(x) = ln(1 + e^-x), computed without overflow for either sign of x.
inline double neg_log_sigmoid(double x) { return std::fmax(-x, 0.0) + std::log1p(std::exp(-std::fabs(x))); }

// The parameters of a score x_ui: factor rows and the item bias array.
template <class T, class Dim>
struct ScoreParams {
    T* P;
    T* Q;
    T* b;
    Dim dim;
    T* user(std::int32_t u) const { return P + std::int64_t(u) * dim.size(); }
    T* item(std::int32_t i) const { return Q + std::int64_t(i) * dim.size(); }
};

// One LearnBPR step on (u, i, j), i != j; returns the triple's term before the update.
template <class T, class Dim>
double bpr_pair_step(const ScoreParams<T, Dim>& m, std::int32_t u, std::int32_t i, std::int32_t j, T gamma, T lambda,
                     T lambda_b) {
    T* __restrict p = m.user(u);
    T* __restrict qi = m.item(i);
    T* __restrict qj = m.item(j);
    const Dim dim = m.dim;
    const T b_i = m.b[i], b_j = m.b[j];
    T x = 0;
#pragma omp simd reduction(+ : x)
    for (int f = 0; f < dim.size(); ++f) x += p[f] * (qi[f] - qj[f]);
    x += b_i - b_j;
    const T e = T(1) / (T(1) + std::exp(x));  // g(-x_uij)
    T norms = 0;
#pragma omp simd reduction(+ : norms)
    for (int f = 0; f < dim.size(); ++f) {
        const T pf = p[f], qif = qi[f], qjf = qj[f];
        norms += pf * pf + qif * qif + qjf * qjf;
        p[f] = pf + gamma * (e * (qif - qjf) - lambda * pf);
        qi[f] = qif + gamma * (e * pf - lambda * qif);
        qj[f] = qjf + gamma * (-e * pf - lambda * qjf);
    }
    m.b[i] = b_i + gamma * (e - lambda_b * b_i);
    m.b[j] = b_j + gamma * (-e - lambda_b * b_j);
    return neg_log_sigmoid(double(x)) + 0.5 * double(lambda) * double(norms) +
           0.5 * double(lambda_b) * (double(b_i) * b_i + double(b_j) * b_j);
}

struct BPRSample {
    std::int32_t user, item, negative;
};

template <class T, class Dim>
struct BPRStep {
    Interactions data;
    ScoreParams<T, Dim> m;
    T gamma, lambda, lambda_b;

    BPRSample draw(SplitMix64& gen) const {
        const PositivePair pos = draw_positive(data, gen);
        return {pos.user, pos.item, draw_outside(data.n_items, user_row(data, pos.user), ItemRow{nullptr, 0}, gen)};
    }
    void prefetch(const BPRSample& s) const {
        prefetch_row(m.user(s.user), m.dim);
        prefetch_row(m.item(s.item), m.dim);
        prefetch_row(m.item(s.negative), m.dim);
    }
    double update(const BPRSample& s) const {
        return bpr_pair_step(m, s.user, s.item, s.negative, gamma, lambda, lambda_b);
    }
};

// One epoch: n_pool sampled triples (sampled_pass, pass id kSamplePass). Returns the sum of their terms.
template <class T>
double bpr_epoch(const BPRArgs<T>& a, const PassSettings& settings) {
    return dispatch_dim(a.factors, [&](auto dim) {
        using Dim = decltype(dim);
        BPRStep<T, Dim> step{a.data, {a.user_factors, a.item_factors, a.item_bias, dim}, T(a.learning_rate),
                             T(a.regularization), T(a.bias_regularization)};
        return sampled_pass(a.data.n_pool, kSamplePass, settings, step);
    });
}

SOCIALREC_KERNELS_END
