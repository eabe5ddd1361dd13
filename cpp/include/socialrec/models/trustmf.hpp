// TrustMF (Yang, Lei, Liu, Liu, "Social collaborative filtering by trust", IJCAI 2013, Section 3).
//
// Ratings mapped to [0, 1]; trust values t_uk in [0, 1]. Two models, trained side by side:
//   truster model  (B, V, W):   r~_ui ~ g(B_u . V_i),    t_uk ~ g(B_u . W_k)
//   trustee model  (W', V', B'): r~_ki ~ g(W'_k . V'_i), t_uk ~ g(B'_u . W'_k)
// Every observation's term is  w/2 (y - g(P_a . Q_b))^2 + lambda/2 (|P_a|^2 + |Q_b|^2)  with w = 1 for a
// rating and w = lambda_T for a trust edge: summed over observations, each row is penalised once per
// observation it takes part in, which is the paper's weighted-lambda regularisation.
// Prediction g(b + ((B_u + W'_u)/2) . ((V_i + V'_i)/2)) (DESIGN §4; the paper's combined model), and every
// rating term fits g(b + P_a . Q_b): b = logit(mean r~) is a fixed offset (ours, not the paper's: rows
// without ratings then predict the mean rating). Trust terms have no offset.
//
// A rating (u, i) moves rows u of B and W' and rows i of V and V'; an edge (u, k) moves rows u of B and B' and
// rows k of W and W'. Each row is keyed by one end of the record, so both passes are stratified grid passes
// (ratings: users x items; trust: trusters x trustees) and the result is the same on any number of threads. Reference: socialrec/reference/trustmf.py.
#pragma once
#include <cstdint>

#include "socialrec/logistic.hpp"
#include "socialrec/sgd.hpp"
#include "socialrec/types.hpp"
#include "socialrec/vec.hpp"

namespace socialrec {

template <class T>
struct TrustMFArgs {
    RatingGrid ratings;      // (user, item, r~)
    RatingGrid trust;        // (truster, trustee, t)
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
};

}  // namespace socialrec

SOCIALREC_KERNELS_BEGIN

// One observation (a, b, y) fitted by g(offset + P_a . Q_b) with weight w; SGD on the term above (old rows).
template <class T, class Dim>
struct LogisticPairStep {
    T* P;
    T* Q;
    Dim dim;
    T gamma, lambda, weight, offset;

    double operator()(const RatingRecord& r) const {
        T* __restrict p = P + std::int64_t(r.user) * dim.size();
        T* __restrict q = Q + std::int64_t(r.item) * dim.size();
        const T g = logistic(offset + dot(p, q, dim));
        const T e = T(r.value) - g;
        const T d = weight * e * g * (T(1) - g);
        T norms = 0;
#pragma omp simd reduction(+ : norms)
        for (int j = 0; j < dim.size(); ++j) {
            const T pj = p[j], qj = q[j];
            norms += pj * pj + qj * qj;
            p[j] = pj + gamma * (d * qj - lambda * pj);
            q[j] = qj + gamma * (d * pj - lambda * qj);
        }
        return 0.5 * double(weight) * double(e) * double(e) + 0.5 * double(lambda) * double(norms);
    }
};

// Two observations' steps on one record, one after the other (rows of four different matrices).
template <class Step>
struct BothModels {
    Step truster, trustee;
    double operator()(const RatingRecord& r) const { return truster(r) + trustee(r); }
};

// One epoch: a rating pass (each rating steps the truster, then the trustee model) and a trust pass (each
// edge steps the truster, then the trustee model). Fusing the two models' passes halves the record traffic.
template <class T>
double trustmf_epoch(const TrustMFArgs<T>& a, const PassSettings& settings) {
    return dispatch_dim(a.factors, [&](auto dim) {
        using Step = LogisticPairStep<T, decltype(dim)>;
        const T gamma = T(a.learning_rate), lambda = T(a.regularization), lambda_t = T(a.trust_regularization),
                b = T(a.global_bias);
        const BothModels<Step> ratings{Step{a.user_factors, a.item_factors, dim, gamma, lambda, T(1), b},
                                       Step{a.trustee_user_factors, a.trustee_item_factors, dim, gamma, lambda, T(1), b}};
        const BothModels<Step> trust{Step{a.user_factors, a.trustee_factors, dim, gamma, lambda, lambda_t, T(0)},
                                     Step{a.trustee_truster_factors, a.trustee_user_factors, dim, gamma, lambda, lambda_t, T(0)}};
        return grid_pass(a.ratings, kRatingPass, settings, ratings) + grid_pass(a.trust, kLinkPass, settings, trust);
    });
}

SOCIALREC_KERNELS_END
