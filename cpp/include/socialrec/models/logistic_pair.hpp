// The step of every observation fitted through the logistic link g(x) = 1 / (1 + e^-x) to a target in
// [0, 1] (DESIGN §4): the rating terms of SoRec (Ma, Yang, Lyu, King, CIKM 2008, eq. 9), SocialMF (Jamali &
// Ester, RecSys 2010, eq. 7) and TrustMF (Yang et al., IJCAI 2013), SoRec's link term and TrustMF's trust terms.
//
// One observation (row a of A, row b of B, target c) contributes, with fixed weights w_d and w_p,
//   w_d 1/2 (c - g(x))^2 + w_p lambda/2 (|A_a|^2 + |B_b|^2),   x = offset + A_a . B_b,
// and, with e = c - g(x) and g'(x) = g(x) (1 - g(x)), one SGD step on it is (old A_a, B_b on the right)
//   A_a += gamma (w_d e g'(x) B_b - w_p lambda A_a),   B_b += gamma (w_d e g'(x) A_a - w_p lambda B_b).
// The models' weights: a rating w_d = w_p = 1 (offset b = logit(mean r~), or 0 in the papers' form);
// a SoRec edge w_d = w_p = lambda_C; a TrustMF edge w_d = lambda_T, w_p = 1 (offset 0).
//
// Biased (the template flag; the rating terms of the models' biased=True): a bias per row of A (b_a, the
// user bias) and of B (b_b, the item bias) inside the link, with their own penalty lambda_b:
//   w_d 1/2 (c - g(x))^2 + w_p lambda/2 (|A_a|^2 + |B_b|^2) + w_p lambda_b/2 (b_a^2 + b_b^2),
//   x = offset + A_a . B_b + b_a + b_b,
//   b_a += gamma (w_d e g'(x) - w_p lambda_b b_a),   b_b likewise (Koren, Bell, Volinsky 2009, eq. 5, through
// the link). Unbiased steps (the default) compile to exactly the step above: the flag is a template parameter.
//
// Weighted (the template flag; the rating terms of regularization_scaling "sqrt_count" / "count", issue 15):
// the penalties of row a and row b are scaled by per-row weights w_a, w_b (float64 arrays; the caller's
// |I_u|^-1/2 and |U_i|^-1/2, resp. 1/|I_u| and 1/|U_i|, as BiasedMF's, models/biased_mf.hpp):
//   w_d 1/2 (c - g(x))^2 + w_p lambda/2 (w_a |A_a|^2 + w_b |B_b|^2) + w_p lambda_b/2 (w_a b_a^2 + w_b b_b^2),
// each step using lambda_a = (w_p lambda) * T(w_a) (and likewise for the other three), in this order. The
// unweighted steps compile as before (the flag is a template parameter).
// Reference: socialrec/reference/_logistic.py (pair_step).
#pragma once
#include <cstdint>
#include <type_traits>

#include "socialrec/logistic.hpp"
#include "socialrec/types.hpp"
#include "socialrec/vec.hpp"

SOCIALREC_KERNELS_BEGIN

// record.user indexes A (users), record.item indexes B (items, or a matrix of users as trustees).
// InlineExp: the logistic takes logistic_inline_exp (no libm call in float32; see logistic.hpp), for steps
// that run in pairs (TrustMF's BothModels). Biased: the bias terms above (a_bias, b_bias, bias_lambda are
// read only then; unbiased steps leave them at their defaults). Weighted: the per-row penalty weights above
// (a_weight, b_weight read only then).
template <class T, class Dim, bool InlineExp = false, bool Biased = false, bool Weighted = false>
struct LogisticPairStep {
    // the old rows' dot product and penalty norms: |A_a|^2 + |B_b|^2 summed, or apart when Weighted
    using Terms = std::conditional_t<Weighted, SumDotAndNorms<T>, DotAndNorms<T>>;
    T* A;
    T* B;
    Dim dim;
    T gamma, lambda, data_weight, penalty_weight, offset;
    T* a_bias = nullptr;  // b_a, one per row of A (Biased only)
    T* b_bias = nullptr;  // b_b, one per row of B (Biased only)
    T bias_lambda = 0;    // lambda_b (Biased only)
    const double* a_weight = nullptr;  // w_a, one per row of A (Weighted only)
    const double* b_weight = nullptr;  // w_b, one per row of B (Weighted only)

    SOCIALREC_INLINE void prefetch(const RatingRecord& r) const {
        prefetch_row(A + std::int64_t(r.user) * dim.size(), dim);
        prefetch_row(B + std::int64_t(r.item) * dim.size(), dim);
    }

    // The step in three parts, so that two independent steps can interleave them (TrustMF): the dot product
    // and penalty of the old rows, the link g(x), then the update with the loss term it returns. When Biased,
    // terms' `dot` is x - offset = A_a . B_b + (b_a + b_b) (old biases).
    SOCIALREC_INLINE Terms terms(const RatingRecord& r) const {
        const T* a = A + std::int64_t(r.user) * dim.size();
        const T* b = B + std::int64_t(r.item) * dim.size();
        Terms s;
        if constexpr (Weighted)
            s = dot_and_two_norms(a, b, dim);
        else
            s = dot_and_norms(a, b, dim);
        if constexpr (Biased) s.dot += a_bias[r.user] + b_bias[r.item];
        return s;
    }
    SOCIALREC_INLINE T link(const Terms& s) const {
        return InlineExp ? logistic_inline_exp(offset + s.dot) : logistic(offset + s.dot);
    }
    SOCIALREC_INLINE double update(const RatingRecord& r, const Terms& s, T g) const {
        T* __restrict a = A + std::int64_t(r.user) * dim.size();
        T* __restrict b = B + std::int64_t(r.item) * dim.size();
        const T e = T(r.value) - g;
        const T d = data_weight * e * g * (T(1) - g);  // w_d e g'(x)
        const T lambda_w = penalty_weight * lambda;
        T lambda_a = lambda_w, lambda_b = lambda_w;  // the two rows' penalties (apart only when Weighted)
        double loss = 0.5 * double(data_weight) * double(e) * double(e);
        if constexpr (Weighted) {
            lambda_a = lambda_w * T(a_weight[r.user]);
            lambda_b = lambda_w * T(b_weight[r.item]);
            loss += 0.5 * (double(lambda_a) * double(s.norm_x) + double(lambda_b) * double(s.norm_y));
        } else {
            loss += 0.5 * double(penalty_weight) * double(lambda) * double(s.norms);
        }
        pair_update(a, b, d, gamma, lambda_a, lambda_b, dim);
        if constexpr (Biased) {
            const T ba = a_bias[r.user], bb = b_bias[r.item];
            const T bias_lambda_w = penalty_weight * bias_lambda;
            if constexpr (Weighted) {
                const T bias_lambda_a = bias_lambda_w * T(a_weight[r.user]);
                const T bias_lambda_b = bias_lambda_w * T(b_weight[r.item]);
                a_bias[r.user] = ba + gamma * (d - bias_lambda_a * ba);
                b_bias[r.item] = bb + gamma * (d - bias_lambda_b * bb);
                loss += 0.5 * (double(bias_lambda_a) * (double(ba) * double(ba))
                               + double(bias_lambda_b) * (double(bb) * double(bb)));
            } else {
                a_bias[r.user] = ba + gamma * (d - bias_lambda_w * ba);
                b_bias[r.item] = bb + gamma * (d - bias_lambda_w * bb);
                loss += 0.5 * double(penalty_weight) * double(bias_lambda) * (double(ba) * double(ba) + double(bb) * double(bb));
            }
        }
        return loss;
    }

    SOCIALREC_INLINE double operator()(const RatingRecord& r) const {
        const Terms s = terms(r);
        return update(r, s, link(s));
    }
};

SOCIALREC_KERNELS_END
