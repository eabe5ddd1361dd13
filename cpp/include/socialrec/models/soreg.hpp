// SoReg (Ma, Zhou, Liu, Lyu, King, "Recommender systems with social regularization", WSDM 2011).
//
// Prediction r^_ui = mu + b_u + b_i + U_u . V_i (identity link; biased=false: mu + U_u . V_i, the paper's
// model). mu is the training mean, held fixed: the grid's values are r - mu. The objective is a sum over
// observations:
//   rating (u, i):     1/2 e_ui^2 + lambda/2 (|U_u|^2 + |V_i|^2) + lambda_b/2 (b_u^2 + b_i^2)   (biased=false:
//                      no bias terms; the data term is BiasedMF's / PMF's)
//   SR2, edge (u, f):  beta/2 Sim(u, f) |U_u - U_f|^2                                    (model 2, individual-based)
//   SR1, user u:       beta/2 |U_u - sum_f Sim(u,f) U_f / sum_f Sim(u,f)|^2              (model 1, average-based)
// The rating pass is BiasedMF's step on r - mu (stratified grid): biased, its biased step with mu = 0 (the
// biases of Koren, Bell, Volinsky, IEEE Computer 2009); else its PMF step. The social pass touches two (SR2) or many
// (SR1) user rows, so it cannot be stratified: flat_pass, single order when deterministic, else Hogwild.
// Reference: socialrec/reference/soreg.py.
#pragma once
#include <cstdint>
#include <type_traits>

#include "socialrec/models/biased_mf.hpp"
#include "socialrec/row_buffer.hpp"
#include "socialrec/sgd.hpp"
#include "socialrec/types.hpp"
#include "socialrec/vec.hpp"

namespace socialrec {

template <class T>
struct SoRegArgs {
    RatingGrid grid;
    T* user_factors;  // n_users x factors
    T* item_factors;  // n_items x factors
    T* user_bias;     // n_users (unused when !biased)
    T* item_bias;     // n_items (unused when !biased)
    // SR2: one record (u, f, Sim) per trust edge with Sim > 0 (records share RatingRecord's layout).
    FlatList<RatingRecord> edges;
    // SR1: users with sum Sim > 0, and their out-edges (f, Sim) at trust_dst/sim[offsets[u] .. offsets[u+1]].
    FlatList<std::int32_t> social_users;
    const std::int64_t* trust_offsets;
    const std::int32_t* trust_dst;
    const double* trust_sim;
    std::int32_t factors;
    bool average_based;  // SR1 when true, SR2 otherwise
    bool biased;         // b_u + b_i in the prediction
    double learning_rate;
    double regularization;
    double bias_regularization;  // lambda_b (unused when !biased)
    double social_regularization;
    bool weighted = false;                // regularization_scaling other than "occurrence" (rating term only)
    const double* user_weight = nullptr;  // n_users, w_u (read only when weighted)
    const double* item_weight = nullptr;  // n_items, w_i (read only when weighted)
};

}  // namespace socialrec

SOCIALREC_KERNELS_BEGIN

// SR2 step on one edge: d = U_u - U_f; U_u -= gamma beta s d; U_f += gamma beta s d (gradient of the SR2 term).
template <class T, class Dim>
struct SoRegEdgeStep {
    T* U;
    Dim dim;
    T gamma, beta;

    SOCIALREC_INLINE double operator()(const RatingRecord& edge) const {
        T* __restrict u = U + std::int64_t(edge.user) * dim.size();
        T* __restrict f = U + std::int64_t(edge.item) * dim.size();
        const T w = beta * T(edge.value);
        RowBuffer<T, Dim> buffer(dim);
        T* __restrict d = buffer.data();
#pragma omp simd
        for (int j = 0; j < dim.size(); ++j) d[j] = u[j] - f[j];
        // vec.hpp's dot: an `omp simd reduction` here would add the lanes serially (GCC 12)
        const T norm = squared_norm(d, dim);
        axpy(-(gamma * w), d, u, dim);
        axpy(gamma * w, d, f, dim);
        return 0.5 * double(w) * double(norm);
    }
};

// SR1 step on one user: D = U_u - mean; U_u -= gamma beta D; U_f += gamma beta (Sim_f / sum Sim) D.
template <class T, class Dim>
struct SoRegUserStep {
    T* U;
    const std::int64_t* offsets;
    const std::int32_t* dst;
    const double* sim;
    Dim dim;
    T gamma, beta;

    SOCIALREC_INLINE double operator()(std::int32_t user) const {
        RowBuffer<T, Dim> buffer(dim);
        T* __restrict d = buffer.data();
        fill_zero(d, dim);
        T total = 0;
        for (std::int64_t k = offsets[user]; k < offsets[user + 1]; ++k) {
            const T s = T(sim[k]);
            total += s;
            axpy(s, U + std::int64_t(dst[k]) * dim.size(), d, dim);
        }
        T* __restrict u = U + std::int64_t(user) * dim.size();
#pragma omp simd
        for (int j = 0; j < dim.size(); ++j) d[j] = u[j] - d[j] / total;
        const T norm = squared_norm(d, dim);
        axpy(-(gamma * beta), d, u, dim);
        for (std::int64_t k = offsets[user]; k < offsets[user + 1]; ++k)
            axpy(gamma * beta * T(sim[k]) / total, d, U + std::int64_t(dst[k]) * dim.size(), dim);
        return 0.5 * double(beta) * double(norm);
    }
};

// One epoch: the stratified rating pass, then the social pass. Returns the epoch's loss.
template <class T>
double soreg_epoch(const SoRegArgs<T>& a, const PassSettings& settings) {
    return dispatch_dim(a.factors, [&](auto dim) {
        using Dim = decltype(dim);
        const T gamma = T(a.learning_rate), lambda = T(a.regularization), beta = T(a.social_regularization);
        // biased: std::true_type / std::false_type, so that the branch is taken once per pass, not per rating
        // weighted (regularization_scaling, issue 15): BiasedMF's weighted step (biased_mf.hpp); the social term
        // has no L2 penalty to scale
        auto rating_pass = [&](auto biased, auto weighted) {
            BiasedMFStep<T, Dim, decltype(biased)::value, false, decltype(weighted)::value> rating{
                a.user_factors, a.item_factors, a.user_bias, a.item_bias, dim, T(0), gamma, lambda,
                T(a.bias_regularization), nullptr, nullptr, a.user_weight, a.item_weight};
            return grid_pass(a.grid, kRatingPass, settings, rating);
        };
        auto with_weights = [&](auto biased) {
            return a.weighted ? rating_pass(biased, std::true_type{}) : rating_pass(biased, std::false_type{});
        };
        double loss = a.biased ? with_weights(std::true_type{}) : with_weights(std::false_type{});
        if (a.average_based) {
            SoRegUserStep<T, Dim> step{a.user_factors, a.trust_offsets, a.trust_dst, a.trust_sim, dim, gamma, beta};
            loss += flat_pass(a.social_users, kUserPass, settings, step);
        } else {
            SoRegEdgeStep<T, Dim> step{a.user_factors, dim, gamma, beta};
            loss += flat_pass(a.edges, kLinkPass, settings, step);
        }
        return loss;
    });
}

SOCIALREC_KERNELS_END
