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
//
// Penalty weights (regularization_scaling, issue 15): with "sqrt_count" / "count" every lambda and lambda_b
// above is multiplied by a per-row weight, w_u for p_u and b_u, w_i for q_i and b_i, read from the float64
// arrays user_weight / item_weight (the caller's |I_u|^-1/2 and |U_i|^-1/2, resp. 1/|I_u| and 1/|U_i|):
//   rating (u, i): 1/2 e^2 + lambda/2 (w_u |p_u|^2 + w_i |q_i|^2) + lambda_b/2 (w_u b_u^2 + w_i b_i^2),
// so that a row's penalty summed over its ratings is lambda |I_u|^1/2 |p_u|^2 (the weighted-lambda form of
// TrustSVD, Guo, Zhang, Yorke-Smith, AAAI 2015, eq. 6, carried by the ratings as LibRec does), resp. lambda
// |p_u|^2 (one penalty per parameter), instead of lambda |I_u| |p_u|^2 ("occurrence", the default).
// Each step uses lambda_u = T(lambda) * T(w_u) (and likewise for the other three), in this order.
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
    const double* user_weight;  // n_users, the penalty weight w_u of p_u and b_u (unused when !weighted)
    const double* item_weight;  // n_items, w_i of q_i and b_i (unused when !weighted)
    std::int32_t factors;
    bool biased;
    bool adaptive;  // learning_rate_schedule="adaptive" (RPCS)
    bool weighted;  // regularization_scaling other than "occurrence": per-row penalty weights
    double global_bias;
    double learning_rate;
    double regularization;
    double bias_regularization;
};

}  // namespace socialrec

SOCIALREC_KERNELS_BEGIN

// Adaptive = false: the constant step gamma; true: the RPCS step (accumulators G_u, G_i; see the top).
// Weighted: the penalties scaled by the rows' weights w_u, w_i (see the top); not with Adaptive (the binding
// refuses the pair).
// (SoReg reuses the constant, unbiased, unweighted step for its rating pass.)
template <class T, class Dim, bool Biased, bool Adaptive = false, bool Weighted = false>
struct BiasedMFStep {
    T* P;
    T* Q;
    T* bu;
    T* bi;
    Dim dim;
    T mu, gamma, lambda, lambda_b;
    T* Gu = nullptr;  // RPCS accumulators (Adaptive only)
    T* Gi = nullptr;
    const double* wu = nullptr;  // penalty weights (Weighted only)
    const double* wi = nullptr;

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
        if constexpr (Weighted) {
            __builtin_prefetch(wu + r.user);
            __builtin_prefetch(wi + r.item);
        }
    }

    SOCIALREC_INLINE double operator()(const RatingRecord& r) const {
        if constexpr (Weighted)
            return weighted_step(r);
        else
            return step(r, lambda, lambda, lambda_b, lambda_b);
    }

    // The weighted penalties: lambda and lambda_b scaled by the two rows' weights, |p|^2 and |q|^2 apart for
    // the loss (the unweighted step sums them in one reduction).
    SOCIALREC_INLINE double weighted_step(const RatingRecord& r) const {
        const T w_u = T(wu[r.user]), w_i = T(wi[r.item]);
        return step(r, lambda * w_u, lambda * w_i, lambda_b * w_u, lambda_b * w_i);
    }

    // One rating's step with the penalty weights lam_u, lam_i (factor rows) and lamb_u, lamb_i (biases).
    SOCIALREC_INLINE double step(const RatingRecord& r, T lam_u, T lam_i, T lamb_u, T lamb_i) const {
        T* __restrict p = P + std::int64_t(r.user) * dim.size();
        T* __restrict q = Q + std::int64_t(r.item) * dim.size();
        T dot;
        double penalty;  // lam_u/2 |p|^2 + lam_i/2 |q|^2 at the old rows
        if constexpr (Weighted) {
            const SumDotAndNorms<T> s = dot_and_two_norms(p, q, dim);
            dot = s.dot;
            penalty = 0.5 * (double(lam_u) * double(s.norm_x) + double(lam_i) * double(s.norm_y));
        } else {
            const DotAndNorms<T> dn = dot_and_norms(p, q, dim);
            dot = dn.dot;
            penalty = 0.5 * double(lambda) * double(dn.norms);
        }
        T prediction = dot;
        T b_u = 0, b_i = 0;
        if (Biased) {
            b_u = bu[r.user];
            b_i = bi[r.item];
            prediction += mu + b_u + b_i;
        }
        const T e = T(r.value) - prediction;
        T rate_u, rate_i;  // RPCS (Adaptive only): gamma / sqrt(G) of the two rows, with G before this step
        if constexpr (Adaptive) {
            T& G_u = Gu[r.user];
            T& G_i = Gi[r.item];
            rate_u = gamma / std::sqrt(G_u);
            rate_i = gamma / std::sqrt(G_i);
            const GradientNorms<T> g = scaled_pair_update(p, q, e, rate_u, rate_i, lambda, dim);  // (unweighted)
            G_u += g.p / T(dim.size());
            G_i += g.q / T(dim.size());
        } else {
            pair_update(p, q, e, gamma, lam_u, lam_i, dim);
        }
        double loss = 0.5 * double(e) * double(e) + penalty;
        if (Biased) {
            if constexpr (Weighted)
                loss += 0.5 * (double(lamb_u) * (double(b_u) * b_u) + double(lamb_i) * (double(b_i) * b_i));
            else
                loss += 0.5 * double(lambda_b) * (double(b_u) * b_u + double(b_i) * b_i);
            // (the constant step names the member gamma, which keeps its compiled code as before the schedule)
            bu[r.user] = b_u + (Adaptive ? rate_u : gamma) * (e - lamb_u * b_u);
            bi[r.item] = b_i + (Adaptive ? rate_i : gamma) * (e - lamb_i * b_i);
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
        // biased, adaptive, weighted: std::true_type / std::false_type, so that each combination is its own step.
        auto run = [&](auto biased, auto adaptive, auto weighted) {
            BiasedMFStep<T, Dim, decltype(biased)::value, decltype(adaptive)::value, decltype(weighted)::value>
                step{a.user_factors, a.item_factors, a.user_bias, a.item_bias, dim, mu, gamma, lambda, lambda_b,
                     a.user_accumulators, a.item_accumulators, a.user_weight, a.item_weight};
            return grid_pass(a.grid, kRatingPass, settings, step);
        };
        auto with_schedule = [&](auto biased) {  // the weighted penalties with the constant step only
            if (a.weighted) return run(biased, std::false_type{}, std::true_type{});
            return a.adaptive ? run(biased, std::true_type{}, std::false_type{})
                              : run(biased, std::false_type{}, std::false_type{});
        };
        return a.biased ? with_schedule(std::true_type{}) : with_schedule(std::false_type{});
    });
}

SOCIALREC_KERNELS_END
