// SoRec (Ma, Yang, Lyu, King, "SoRec: social recommendation using probabilistic matrix factorization",
// CIKM 2008, eq. 9): user factors U are shared between the rating matrix and the trust matrix.
//
//   rating (u, i):  1/2 (r~_ui - g(b + U_u . V_i))^2 + lambda/2 (|U_u|^2 + |V_i|^2)
//   edge u -> k:    lambda_C [ 1/2 (c*_uk - g(U_u . Z_k))^2 + lambda/2 (|U_u|^2 + |Z_k|^2) ]
//   c*_uk = sqrt(d-(k) / (d+(u) + d-(k)))   (the paper's eq. 8; d+ out-degree, d- in-degree)
// b = logit(mean r~) is a fixed offset on the rating term only (ours; b = 0 is the paper's form): users and
// items with few ratings are then shrunk towards the mean rating instead of the middle of the scale.
// Both terms' steps are LogisticPairStep (models/logistic_pair.hpp).
// biased (the default in Python): user and item biases inside the rating term's link,
//   rating (u, i):  1/2 (r~_ui - g(b + b_u + b_i + U_u . V_i))^2 + lambda/2 (|U_u|^2 + |V_i|^2)
//                   + lambda_b/2 (b_u^2 + b_i^2)
// (Koren, Bell, Volinsky 2009 through the link); the link term has no biases.
// weighted (regularization_scaling "sqrt_count" / "count", issue 15): the rating term's penalties scaled by the
// rows' weights w_u, w_i (logistic_pair.hpp, Weighted); the link term keeps lambda_C lambda per edge.
//
// Both passes touch one row of U and one row of a second matrix (V, or Z), so both are bipartite and run on the
// stratified grid (sgd.hpp grid_pass): the link pass uses a user-block x user-block grid of edge records.
// Hence SoRec gives identical results on any number of threads. Reference: socialrec/reference/sorec.py.
#pragma once
#include <cstdint>
#include <type_traits>

#include "socialrec/models/logistic_pair.hpp"
#include "socialrec/sgd.hpp"
#include "socialrec/types.hpp"
#include "socialrec/vec.hpp"

namespace socialrec {

template <class T>
struct SoRecArgs {
    RatingGrid grid;       // ratings mapped to [0, 1]
    RatingGrid link_grid;  // edges (truster u, trustee k, c*_uk): user block of u x user block of k
    T* user_factors;       // U, n_users x factors
    T* item_factors;       // V, n_items x factors
    T* link_factors;       // Z, n_users x factors (users as trustees)
    std::int32_t factors;
    double global_bias;  // b, the rating term's offset inside g (0: the paper's form)
    double learning_rate;
    double regularization;
    double social_regularization;  // lambda_C
    bool biased;                   // b_u, b_i inside the rating term's link
    T* user_bias;                  // b_u, n_users (read only when biased)
    T* item_bias;                  // b_i, n_items (read only when biased)
    double bias_regularization;    // lambda_b (read only when biased)
    bool weighted = false;         // regularization_scaling other than "occurrence" (rating term only)
    const double* user_weight = nullptr;  // n_users, w_u of the rating term's user rows (read only when weighted)
    const double* item_weight = nullptr;  // n_items, w_i of the rating term's item rows (read only when weighted)
};

}  // namespace socialrec

SOCIALREC_KERNELS_BEGIN

// One epoch: the rating pass, then the link pass. Returns the sum of both passes' terms.
template <class T>
double sorec_epoch(const SoRecArgs<T>& a, const PassSettings& settings) {
    return dispatch_dim(a.factors, [&](auto dim) {
        using Dim = decltype(dim);
        const T gamma = T(a.learning_rate), lambda = T(a.regularization), lambda_c = T(a.social_regularization);
        // (gamma, lambda, data weight, penalty weight, offset): ratings 1, 1, b; edges lambda_C, lambda_C, 0
        const LogisticPairStep<T, Dim> link{a.user_factors, a.link_factors, dim, gamma, lambda, lambda_c, lambda_c,
                                            T(0)};
        // biased, weighted: std::true_type / std::false_type, one rating step type each (chosen once per epoch)
        auto run = [&](auto biased, auto weighted) {
            const LogisticPairStep<T, Dim, false, decltype(biased)::value, decltype(weighted)::value> rating{
                a.user_factors, a.item_factors, dim, gamma, lambda, T(1), T(1), T(a.global_bias),
                a.user_bias, a.item_bias, T(a.bias_regularization), a.user_weight, a.item_weight};
            return grid_pass(a.grid, kRatingPass, settings, rating);
        };
        auto with_weights = [&](auto biased) {
            return a.weighted ? run(biased, std::true_type{}) : run(biased, std::false_type{});
        };
        const double loss = a.biased ? with_weights(std::true_type{}) : with_weights(std::false_type{});
        return loss + grid_pass(a.link_grid, kLinkPass, settings, link);
    });
}

SOCIALREC_KERNELS_END
