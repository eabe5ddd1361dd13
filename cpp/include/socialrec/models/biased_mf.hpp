// BiasedMF (Koren, Bell, Volinsky, IEEE Computer 2009, eq. 5) and PMF (Salakhutdinov & Mnih, NIPS 2008).
//
// Prediction r^_ui = mu + b_u + b_i + p_u . q_i   (PMF: p_u . q_i).
// Each rating contributes  1/2 e_ui^2 + lambda/2 (|p_u|^2 + |q_i|^2) + lambda_b/2 (b_u^2 + b_i^2),
// e_ui = r_ui - r^_ui, and one SGD step on that term is
//   p_u += gamma (e q_i - lambda p_u),   q_i += gamma (e p_u - lambda q_i)   (both with the old p_u, q_i)
//   b_u += gamma (e - lambda_b b_u),     b_i += gamma (e - lambda_b b_i).
// mu is the training mean, held fixed. Reference: socialrec/reference/biased_mf.py.
#pragma once
#include <cstdint>

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
    std::int32_t factors;
    bool biased;
    double global_bias;
    double learning_rate;
    double regularization;
    double bias_regularization;
};

}  // namespace socialrec

SOCIALREC_KERNELS_BEGIN

template <class T, class Dim, bool Biased>
struct BiasedMFStep {
    T* P;
    T* Q;
    T* bu;
    T* bi;
    Dim dim;
    T mu, gamma, lambda, lambda_b;

    SOCIALREC_INLINE void prefetch(const RatingRecord& r) const {
        prefetch_row(P + std::int64_t(r.user) * dim.size(), dim);
        prefetch_row(Q + std::int64_t(r.item) * dim.size(), dim);
        if (Biased) {
            __builtin_prefetch(bu + r.user, 1);
            __builtin_prefetch(bi + r.item, 1);
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
        pair_update(p, q, e, gamma, lambda, lambda, dim);
        double loss = 0.5 * double(e) * double(e) + 0.5 * double(lambda) * double(norms);
        if (Biased) {
            loss += 0.5 * double(lambda_b) * (double(b_u) * b_u + double(b_i) * b_i);
            bu[r.user] = b_u + gamma * (e - lambda_b * b_u);
            bi[r.item] = b_i + gamma * (e - lambda_b * b_i);
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
        if (a.biased) {
            BiasedMFStep<T, Dim, true> step{a.user_factors, a.item_factors, a.user_bias, a.item_bias,
                                            dim, mu, gamma, lambda, lambda_b};
            return grid_pass(a.grid, kRatingPass, settings, step);
        }
        BiasedMFStep<T, Dim, false> step{a.user_factors, a.item_factors, nullptr, nullptr,
                                         dim, mu, gamma, lambda, lambda_b};
        return grid_pass(a.grid, kRatingPass, settings, step);
    });
}

SOCIALREC_KERNELS_END
