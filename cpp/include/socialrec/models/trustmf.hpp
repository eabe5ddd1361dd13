// TrustMF (Yang, Lei, Liu, Liu, "Social collaborative filtering by trust", IJCAI 2013, Section 3).
//
// Ratings mapped to [0, 1]; trust values t_uk in [0, 1]. Two models, trained side by side:
//   truster model  (B, V, W):   r~_ui ~ g(B_u . V_i),    t_uk ~ g(B_u . W_k)
//   trustee model  (W', V', B'): r~_ki ~ g(W'_k . V'_i), t_uk ~ g(B'_u . W'_k)
// Every observation's term is  w/2 (y - g(P_a . Q_b))^2 + lambda/2 (|P_a|^2 + |Q_b|^2)  with w = 1 for a
// rating and w = lambda_T for a trust edge: summed over observations, each row is penalised once per
// observation it takes part in, which is the paper's weighted-lambda regularisation. Each term's step is
// LogisticPairStep (models/logistic_pair.hpp: data weight w, penalty weight 1).
// Prediction g(b + ((B_u + W'_u)/2) . ((V_i + V'_i)/2)) (DESIGN §4; the paper's combined model), and every
// rating term fits g(b + P_a . Q_b): b = logit(mean r~) is a fixed offset (ours, not the paper's: rows
// without ratings then predict the mean rating). Trust terms have no offset.
// biased (the default in Python): each model has its own user and item biases inside its rating term's link,
//   truster model:  1/2 (r~_ui - g(b + c_u + c_i + B_u . V_i))^2 + ... + lambda_b/2 (c_u^2 + c_i^2)
//   trustee model:  1/2 (r~_ki - g(b + c'_k + c'_i + W'_k . V'_i))^2 + ... + lambda_b/2 (c'_k^2 + c'_i^2)
// and the prediction averages them like the vectors: g(b + (c_u + c'_u)/2 + (c_i + c'_i)/2 + ...).
//
// A rating (u, i) moves rows u of B and W' and rows i of V and V'; an edge (u, k) moves rows u of B and B' and
// rows k of W and W'. Each row is keyed by one end of the record, so both passes are stratified grid passes
// (ratings: users x items; trust: trusters x trustees) and the result is the same on any number of threads.
// Reference: socialrec/reference/trustmf.py.
#pragma once
#include <cstdint>
#include <type_traits>

#include "socialrec/models/logistic_pair.hpp"
#include "socialrec/sgd.hpp"
#include "socialrec/types.hpp"
#include "socialrec/vec.hpp"

namespace socialrec {

template <class T>
struct TrustMFArgs {
    RatingGrid grid;        // (user, item, r~)
    RatingGrid trust_grid;  // (truster, trustee, t)
    T* user_factors;            // B   n_users x factors (the truster model's user vectors)
    T* item_factors;            // V   n_items x factors
    T* trustee_factors;         // W   n_users x factors
    T* trustee_user_factors;    // W'  n_users x factors (the trustee model's user vectors)
    T* trustee_item_factors;    // V'  n_items x factors
    T* trustee_truster_factors; // B'  n_users x factors (the trustee model's truster vectors)
    std::int32_t factors;
    double global_bias;  // b
    double learning_rate;
    double regularization;
    double trust_regularization;
    bool biased;                // each model's user and item biases inside its rating term's link
    T* user_bias;               // c   n_users (the truster model's; read only when biased)
    T* item_bias;               // c   n_items
    T* trustee_user_bias;       // c'  n_users (the trustee model's)
    T* trustee_item_bias;       // c'  n_items
    double bias_regularization; // lambda_b (read only when biased)
    bool weighted = false;         // regularization_scaling other than "occurrence" (rating term only)
    const double* user_weight = nullptr;  // n_users, w_u of both rating terms' user rows (read only when weighted)
    const double* item_weight = nullptr;  // n_items, w_i of both rating terms' item rows (read only when weighted)
};

}  // namespace socialrec

SOCIALREC_KERNELS_BEGIN

// Two observations' steps on one record (rows of four different matrices, so neither step reads what the
// other writes): both dot products, both links, then both updates, which lets the two exps overlap. The
// result is that of the truster's step followed by the trustee's.
template <class Step>
struct BothModels {
    Step truster, trustee;
    SOCIALREC_INLINE void prefetch(const RatingRecord& r) const {
        truster.prefetch(r);
        trustee.prefetch(r);
    }
    SOCIALREC_INLINE double operator()(const RatingRecord& r) const {
        const auto s1 = truster.terms(r);
        const auto s2 = trustee.terms(r);
        const auto g1 = truster.link(s1);
        const auto g2 = trustee.link(s2);
        const double loss = truster.update(r, s1, g1);
        return loss + trustee.update(r, s2, g2);
    }
};

// One epoch: a rating pass (each rating steps the truster, then the trustee model) and a trust pass (each
// edge steps the truster, then the trustee model). Fusing the two models' passes halves the record traffic.
template <class T>
double trustmf_epoch(const TrustMFArgs<T>& a, const PassSettings& settings) {
    return dispatch_dim(a.factors, [&](auto dim) {
        using Step = LogisticPairStep<T, decltype(dim), /*InlineExp=*/true>;
        const T gamma = T(a.learning_rate), lambda = T(a.regularization), lambda_t = T(a.trust_regularization),
                b = T(a.global_bias), lambda_b = T(a.bias_regularization);
        // (gamma, lambda, data weight, penalty weight, offset): ratings 1, 1, b; edges lambda_T, 1, 0
        // biased: std::true_type / std::false_type, one rating step type each (chosen once per epoch)
        // weighted (regularization_scaling, issue 15): both rating terms' penalties scaled by w_u, w_i (the
        // same rating counts for both models); the trust terms keep their per-edge penalty
        auto rating_pass = [&](auto biased, auto weighted) {
            using RatingStep = LogisticPairStep<T, decltype(dim), /*InlineExp=*/true, decltype(biased)::value,
                                                decltype(weighted)::value>;
            const BothModels<RatingStep> ratings{
                RatingStep{a.user_factors, a.item_factors, dim, gamma, lambda, T(1), T(1), b, a.user_bias,
                           a.item_bias, lambda_b, a.user_weight, a.item_weight},
                RatingStep{a.trustee_user_factors, a.trustee_item_factors, dim, gamma, lambda, T(1), T(1), b,
                           a.trustee_user_bias, a.trustee_item_bias, lambda_b, a.user_weight, a.item_weight}};
            return grid_pass(a.grid, kRatingPass, settings, ratings);
        };
        auto with_weights = [&](auto biased) {
            return a.weighted ? rating_pass(biased, std::true_type{}) : rating_pass(biased, std::false_type{});
        };
        const BothModels<Step> trust{
            Step{a.user_factors, a.trustee_factors, dim, gamma, lambda, lambda_t, T(1), T(0)},
            Step{a.trustee_truster_factors, a.trustee_user_factors, dim, gamma, lambda, lambda_t, T(1), T(0)}};
        const double loss = a.biased ? with_weights(std::true_type{}) : with_weights(std::false_type{});
        return loss + grid_pass(a.trust_grid, kLinkPass, settings, trust);
    });
}

SOCIALREC_KERNELS_END
