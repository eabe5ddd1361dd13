// BiasedMF (Koren, Bell, Volinsky, IEEE Computer 2009, eq. 5) and PMF (Salakhutdinov & Mnih, NIPS 2008).
//
// Prediction r^_ui = mu + b_u + b_i + p_u . q_i   (PMF: p_u . q_i).
// Each rating contributes  1/2 e_ui^2 + lambda/2 (|p_u|^2 + |q_i|^2) + lambda_b/2 (b_u^2 + b_i^2),
// e_ui = r_ui - r^_ui, and one SGD step on that term is
//   p_u += gamma (e q_i - lambda p_u),   q_i += gamma (e p_u - lambda q_i)   (both with the old p_u, q_i)
//   b_u += gamma (e - lambda_b b_u),     b_i += gamma (e - lambda_b b_i).
// mu is the training mean, held fixed. Reference: socialrec/reference/biased_mf.py.
//
// Adaptive schedule (learning_rate_schedule="adaptive"): RPCS, Chin, Zhuang, Juan, Lin, "A learning-rate
// schedule for stochastic gradient methods to matrix factorization", PAKDD 2015 (the schedule LIBMF uses):
// AdaGrad with one accumulator per factor row instead of one per coordinate. Every user row u and item
// row i carries a scalar G (1 at the start of a fit; training state, not a parameter). With the gradients
// of the rating's term at the old values, g_p = -e q_i + lambda p_u and g_q = -e p_u + lambda q_i,
//   p_u -= gamma / sqrt(G_u) g_p,        q_i -= gamma / sqrt(G_i) g_q
//   b_u += gamma / sqrt(G_u) (e - lambda_b b_u),   b_i += gamma / sqrt(G_i) (e - lambda_b b_i)
//   G_u += |g_p|^2 / k,                  G_i += |g_q|^2 / k      (after the step: the mean squared
//                                                                 gradient coordinate; biases add nothing)
// G is stored in the model's dtype T (one scalar per row; the grid pass never gives one row to two threads).
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "socialrec/sgd.hpp"
#include "socialrec/types.hpp"
#include "socialrec/vec.hpp"

namespace socialrec {

template <class T>
struct BiasedMFArgs {
    RatingGrid grid;
    T* user_factors;  // n_users x factors
    T* item_factors;  // n_items x factors
    T* user_bias;     // n_users (unused when !biased)
    T* item_bias;     // n_items (unused when !biased)
    T* user_accumulators;  // n_users, RPCS G_u (unused when !adaptive)
    T* item_accumulators;  // n_items, RPCS G_i (unused when !adaptive)
    std::int32_t factors;
    bool biased;
    bool adaptive;  // learning_rate_schedule="adaptive" (RPCS)
    double global_bias;
    double learning_rate;
    double regularization;
    double bias_regularization;
};

}  // namespace socialrec

SOCIALREC_KERNELS_BEGIN

// Adaptive = false: the constant step gamma; true: the RPCS step (accumulators G_u, G_i; see the top).
// (SoReg reuses the constant, unbiased step for its rating pass.)
template <class T, class Dim, bool Biased, bool Adaptive = false>
struct BiasedMFStep {
    T* P;
    T* Q;
    T* bu;
    T* bi;
    Dim dim;
    T mu, gamma, lambda, lambda_b;
    T* Gu = nullptr;  // RPCS accumulators (Adaptive only)
    T* Gi = nullptr;

    SOCIALREC_INLINE void prefetch(const RatingRecord& r) const {
        prefetch_row(P + std::int64_t(r.user) * dim.size(), dim);
        prefetch_row(Q + std::int64_t(r.item) * dim.size(), dim);
        if (Biased) {
            __builtin_prefetch(bu + r.user, 1);
            __builtin_prefetch(bi + r.item, 1);
        }
        if constexpr (Adaptive) {
            __builtin_prefetch(Gu + r.user, 1);
            __builtin_prefetch(Gi + r.item, 1);
        }
    }

    SOCIALREC_INLINE double operator()(const RatingRecord& r) const {
        T* __restrict p = P + std::int64_t(r.user) * dim.size();
        T* __restrict q = Q + std::int64_t(r.item) * dim.size();
        const DotAndNorms<T> dn = dot_and_norms(p, q, dim);
        T prediction = dn.dot;
        T b_u = 0, b_i = 0;
        if (Biased) {
            b_u = bu[r.user];
            b_i = bi[r.item];
            prediction += mu + b_u + b_i;
        }
        const T e = T(r.value) - prediction;
        const T norms = dn.norms;
        T rate_u, rate_i;  // RPCS (Adaptive only): gamma / sqrt(G) of the two rows, with G before this step
        if constexpr (Adaptive) {
            T& G_u = Gu[r.user];
            T& G_i = Gi[r.item];
            rate_u = gamma / std::sqrt(G_u);
            rate_i = gamma / std::sqrt(G_i);
            const GradientNorms<T> g = scaled_pair_update(p, q, e, rate_u, rate_i, lambda, dim);
            G_u += g.p / T(dim.size());
            G_i += g.q / T(dim.size());
        } else {
            pair_update(p, q, e, gamma, lambda, lambda, dim);
        }
        double loss = 0.5 * double(e) * double(e) + 0.5 * double(lambda) * double(norms);
        if (Biased) {
            loss += 0.5 * double(lambda_b) * (double(b_u) * b_u + double(b_i) * b_i);
            // (the constant step names the member gamma, which keeps its compiled code as before the schedule)
            bu[r.user] = b_u + (Adaptive ? rate_u : gamma) * (e - lambda_b * b_u);
            bi[r.item] = b_i + (Adaptive ? rate_i : gamma) * (e - lambda_b * b_i);
        }
        return loss;
    }
};

// One epoch: the stratified rating pass. Returns the epoch's loss (terms summed as they were visited).
template <class T>
double biased_mf_epoch(const BiasedMFArgs<T>& a, const PassSettings& settings) {
    return dispatch_dim(a.factors, [&](auto dim) {
        using Dim = decltype(dim);
        const T mu = T(a.global_bias), gamma = T(a.learning_rate), lambda = T(a.regularization),
                lambda_b = T(a.bias_regularization);
        // biased, adaptive: std::true_type / std::false_type, so that each combination is its own step.
        auto run = [&](auto biased, auto adaptive) {
            BiasedMFStep<T, Dim, decltype(biased)::value, decltype(adaptive)::value> step{
                a.user_factors, a.item_factors, a.user_bias, a.item_bias, dim, mu, gamma, lambda, lambda_b,
                a.user_accumulators, a.item_accumulators};
            return grid_pass(a.grid, kRatingPass, settings, step);
        };
        if (a.biased)
            return a.adaptive ? run(std::true_type{}, std::true_type{}) : run(std::true_type{}, std::false_type{});
        return a.adaptive ? run(std::false_type{}, std::true_type{}) : run(std::false_type{}, std::false_type{});
    });
}

SOCIALREC_KERNELS_END
