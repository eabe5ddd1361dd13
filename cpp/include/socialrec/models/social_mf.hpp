// SocialMF (Jamali & Ester, "A matrix factorization technique with trust propagation for recommendation in
// social networks", RecSys 2010, eq. 7): a user's factors are drawn towards the mean of his trustees'.
//
//   rating (u, i):  1/2 (r~_ui - g(b + U_u . V_i))^2 + lambda/2 (|U_u|^2 + |V_i|^2)   (logistic_pair.hpp)
//   user u with N+(u) non-empty:  lambda_T/2 |D_u|^2,   D_u = U_u - sum_{v in N+(u)} T_uv U_v,
//   T row-normalised (sum_v T_uv = 1). The gradient of the user term is lambda_T D_u on U_u and
//   -lambda_T T_uv D_u on each trustee U_v (eq. 8's last two sums, split by user), so one step is
//   U_u -= gamma lambda_T D_u,   U_v += gamma lambda_T T_uv D_u   (D_u computed before either update).
//
// b = logit(mean r~) is a fixed offset (ours; b = 0 is the paper's form), so that users and items with few
// ratings are shrunk towards the mean rating instead of the middle of the scale.
// biased (the default in Python): user and item biases inside the rating term's link,
//   rating (u, i):  1/2 (r~_ui - g(b + b_u + b_i + U_u . V_i))^2 + lambda/2 (|U_u|^2 + |V_i|^2)
//                   + lambda_b/2 (b_u^2 + b_i^2)
// (Koren, Bell, Volinsky 2009 through the link); the trust term does not involve the biases.
// weighted (regularization_scaling "sqrt_count" / "count", issue 15): the rating term's penalties scaled by the
// rows' weights w_u, w_i (logistic_pair.hpp, Weighted); the trust term has no L2 penalty to scale.
//
// The user pass touches arbitrary rows of U, so it cannot be stratified: it runs as flat_pass (single order
// when deterministic, else Hogwild). Reference: socialrec/reference/social_mf.py.
#pragma once
#include <cstdint>
#include <type_traits>

#include "socialrec/models/logistic_pair.hpp"
#include "socialrec/row_buffer.hpp"
#include "socialrec/sgd.hpp"
#include "socialrec/types.hpp"
#include "socialrec/vec.hpp"

namespace socialrec {

template <class T>
struct SocialMFArgs {
    RatingGrid grid;                       // ratings mapped to [0, 1]
    FlatList<std::int32_t> trusters;       // users with at least one out-link (shuffled in place)
    const std::int64_t* trust_offsets;     // n_users + 1: u's trustees are trust_offsets[u] .. [u + 1]
    const std::int32_t* trustees;          // v
    const T* trust_weights;                // T_uv, each row summing to 1
    T* user_factors;                       // U, n_users x factors
    T* item_factors;                       // V, n_items x factors
    std::int32_t factors;
    double global_bias;  // b, the rating term's offset inside g (0: the paper's form)
    double learning_rate;
    double regularization;
    double social_regularization;  // lambda_T
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

template <class T, class Dim>
struct SocialMFUserStep {
    T* U;
    const std::int64_t* offsets;
    const std::int32_t* trustees;
    const T* weights;
    Dim dim;
    T gamma, lambda_t;

    SOCIALREC_INLINE double operator()(std::int32_t u) const {
        const std::int64_t k = dim.size();
        T* __restrict own = U + u * k;
        RowBuffer<T, Dim> buffer(dim);
        T* __restrict d = buffer.data();
        for (int j = 0; j < dim.size(); ++j) d[j] = own[j];
        for (std::int64_t e = offsets[u]; e < offsets[u + 1]; ++e) axpy(-weights[e], U + trustees[e] * k, d, dim);
        const T norm = squared_norm(d, dim);
        const T step = gamma * lambda_t;
        axpy(-step, d, own, dim);
        for (std::int64_t e = offsets[u]; e < offsets[u + 1]; ++e) axpy(step * weights[e], d, U + trustees[e] * k, dim);
        return 0.5 * double(lambda_t) * double(norm);
    }
};

// One epoch: the stratified rating pass, then the user pass. Returns the sum of both passes' terms.
template <class T>
double social_mf_epoch(const SocialMFArgs<T>& a, const PassSettings& settings) {
    return dispatch_dim(a.factors, [&](auto dim) {
        using Dim = decltype(dim);
        const T gamma = T(a.learning_rate);
        // biased, weighted: std::true_type / std::false_type, one rating step type each (chosen once per epoch)
        auto run = [&](auto biased, auto weighted) {
            const LogisticPairStep<T, Dim, false, decltype(biased)::value, decltype(weighted)::value> rating{
                a.user_factors, a.item_factors, dim, gamma, T(a.regularization), T(1), T(1), T(a.global_bias),
                a.user_bias, a.item_bias, T(a.bias_regularization), a.user_weight, a.item_weight};
            return grid_pass(a.grid, kRatingPass, settings, rating);
        };
        auto with_weights = [&](auto biased) {
            return a.weighted ? run(biased, std::true_type{}) : run(biased, std::false_type{});
        };
        const SocialMFUserStep<T, Dim> user{a.user_factors, a.trust_offsets, a.trustees, a.trust_weights,
                                            dim, gamma, T(a.social_regularization)};
        const double loss = a.biased ? with_weights(std::true_type{}) : with_weights(std::false_type{});
        if (a.social_regularization == 0) return loss;  // lambda_T = 0: the plain logistic model, no user pass
        return loss + flat_pass(a.trusters, kUserPass, settings, user);
    });
}

SOCIALREC_KERNELS_END
