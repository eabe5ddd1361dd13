// SBPR: social Bayesian personalised ranking (Zhao, McAuley, King, CIKM 2014).
//
// Score x_ui = b_i + p_u . q_i as in BPR. Items split per user into positives P_u (consumed by u), social
// items SP_u (consumed by at least one friend of u, not by u) and the rest N_u; the paper assumes
// x_ui >= x_uk >= x_uj for i in P_u, k in SP_u, j in N_u, the first gap discounted by the social coefficient
// s_uk = number of u's friends who consumed k (sec. 3.2, eq. 7-8). A sampled (u, i, k, j) contributes
//   -ln g((x_ui - x_uk) / (1 + s_uk)) - ln g(x_uk - x_uj)
//     + lambda/2 (|p_u|^2 + |q_i|^2 + |q_k|^2 + |q_j|^2) + lambda_b/2 (b_i^2 + b_k^2 + b_j^2),
// and with e1 = g(-(x_ui - x_uk)/(1 + s_uk)) / (1 + s_uk), e2 = g(-(x_uk - x_uj)) the SGD step is
//   p_u += gamma (e1 (q_i - q_k) + e2 (q_k - q_j) - lambda p_u)
//   q_i += gamma (e1 p_u - lambda q_i),  q_k += gamma ((e2 - e1) p_u - lambda q_k),  q_j += gamma (-e2 p_u - lambda q_j)
//   b_i += gamma (e1 - lambda_b b_i),    b_k += gamma (e2 - e1 - lambda_b b_k),      b_j += gamma (-e2 - lambda_b b_j).
// A user without social items (or whose P_u and SP_u cover every item) gets BPR's triple (u, i, j), j not in P_u.
//
// social_weight alpha in [0, 1] (an extension, not in the paper; 1 = the paper) mixes the two social terms
// with BPR's pair term on the same sample, and weighs the social item's penalty alike:
//   alpha (-ln g(a) - ln g(c) + lambda/2 |q_k|^2 + lambda_b/2 b_k^2) + (1 - alpha) (-ln g(x_ui - x_uj))
//     + lambda/2 (|p_u|^2 + |q_i|^2 + |q_j|^2) + lambda_b/2 (b_i^2 + b_j^2),
// so e1 and e2 above take a factor alpha, e3 = (1 - alpha) g(-(x_ui - x_uj)) adds e3 (q_i - q_j) to p_u's
// step, e3 p_u to q_i's, -e3 p_u to q_j's (and e3, -e3 to b_i, b_j), and q_k, b_k decay by alpha lambda.
// alpha = 0 is BPR whose negatives exclude the friends' items.
//
// Draw order per sample (after sampling.hpp's positive pair): if u has social items, t = below(|SP_u|) picks
// k = SP_u[t], then j is drawn outside P_u and SP_u; otherwise j is drawn outside P_u.
// Reference: socialrec/reference/sbpr.py.
#pragma once
#include <cmath>
#include <cstdint>

#include "socialrec/models/bpr.hpp"

namespace socialrec {

template <class T>
struct SBPRArgs {
    BPRArgs<T> bpr;                     // interactions, parameters and hyper-parameters
    const std::int64_t* social_indptr;  // n_users + 1: u's social items SP_u as a CSR row
    const std::int32_t* social_items;   // sorted within each row
    const std::int32_t* social_counts;  // s_uk, aligned with social_items
    double social_weight = 1;           // alpha: 1 = the paper's objective
};

}  // namespace socialrec

SOCIALREC_KERNELS_BEGIN

// One SGD step on (u, i, k, j) with social coefficient s; i, k, j distinct. Returns the term before the update.
// Mixed = false: the paper's step (alpha = 1); Mixed = true: social_weight alpha < 1 (above). Two loops rather
// than one with e3 = 0, which measured 10% slower on LastFM at alpha = 1 (more live values in the update).
template <bool Mixed, class T, class Dim>
double sbpr_step(const ScoreParams<T, Dim>& m, std::int32_t u, std::int32_t i, std::int32_t k, std::int32_t j,
                 std::int32_t s, T alpha, T gamma, T lambda, T lambda_b) {
    T* __restrict p = m.user(u);
    T* __restrict qi = m.item(i);
    T* __restrict qk = m.item(k);
    T* __restrict qj = m.item(j);
    const Dim dim = m.dim;
    const T b_i = m.b[i], b_k = m.b[k], b_j = m.b[j];
    T x_ik = 0, x_kj = 0;
#pragma omp simd reduction(+ : x_ik, x_kj)
    for (int f = 0; f < dim.size(); ++f) {
        x_ik += p[f] * (qi[f] - qk[f]);
        x_kj += p[f] * (qk[f] - qj[f]);
    }
    const T scale = T(1) / (T(1) + T(s));           // 1 / (1 + s_uk)
    const T a = (x_ik + (b_i - b_k)) * scale;         // (x_ui - x_uk) / (1 + s_uk)
    const T c = x_kj + (b_k - b_j);                   // x_uk - x_uj
    if constexpr (!Mixed) {
        const T e1 = scale / (T(1) + std::exp(a));    // d(-ln g(a)) / d(x_uk), chain rule through the scale
        const T e2 = T(1) / (T(1) + std::exp(c));
        T norms = 0;
#pragma omp simd reduction(+ : norms)
        for (int f = 0; f < dim.size(); ++f) {
            const T pf = p[f], qif = qi[f], qkf = qk[f], qjf = qj[f];
            norms += pf * pf + qif * qif + qkf * qkf + qjf * qjf;
            p[f] = pf + gamma * (e1 * (qif - qkf) + e2 * (qkf - qjf) - lambda * pf);
            qi[f] = qif + gamma * (e1 * pf - lambda * qif);
            qk[f] = qkf + gamma * ((e2 - e1) * pf - lambda * qkf);
            qj[f] = qjf + gamma * (-e2 * pf - lambda * qjf);
        }
        m.b[i] = b_i + gamma * (e1 - lambda_b * b_i);
        m.b[k] = b_k + gamma * (e2 - e1 - lambda_b * b_k);
        m.b[j] = b_j + gamma * (-e2 - lambda_b * b_j);
        return neg_log_sigmoid(double(a)) + neg_log_sigmoid(double(c)) + 0.5 * double(lambda) * double(norms) +
               0.5 * double(lambda_b) * (double(b_i) * b_i + double(b_k) * b_k + double(b_j) * b_j);
    } else {
        const T x = x_ik + x_kj + (b_i - b_j);               // x_ui - x_uj
        const T e1 = alpha * scale / (T(1) + std::exp(a));
        const T e2 = alpha / (T(1) + std::exp(c));
        const T e3 = (T(1) - alpha) / (T(1) + std::exp(x));  // BPR's pair term
        const T lambda_k = alpha * lambda, lambda_bk = alpha * lambda_b;
        T norms = 0, norm_k = 0;  // |p_u|^2 + |q_i|^2 + |q_j|^2, and |q_k|^2 (weighed by alpha)
#pragma omp simd reduction(+ : norms, norm_k)
        for (int f = 0; f < dim.size(); ++f) {
            const T pf = p[f], qif = qi[f], qkf = qk[f], qjf = qj[f];
            norms += pf * pf + qif * qif + qjf * qjf;
            norm_k += qkf * qkf;
            p[f] = pf + gamma * (e1 * (qif - qkf) + e2 * (qkf - qjf) + e3 * (qif - qjf) - lambda * pf);
            qi[f] = qif + gamma * ((e1 + e3) * pf - lambda * qif);
            qk[f] = qkf + gamma * ((e2 - e1) * pf - lambda_k * qkf);
            qj[f] = qjf + gamma * (-(e2 + e3) * pf - lambda * qjf);
        }
        m.b[i] = b_i + gamma * (e1 + e3 - lambda_b * b_i);
        m.b[k] = b_k + gamma * (e2 - e1 - lambda_bk * b_k);
        m.b[j] = b_j + gamma * (-e2 - e3 - lambda_b * b_j);
        const double w = double(alpha);
        return w * (neg_log_sigmoid(double(a)) + neg_log_sigmoid(double(c)) + 0.5 * double(lambda) * double(norm_k) +
                    0.5 * double(lambda_b) * double(b_k) * b_k) +
               (1 - w) * neg_log_sigmoid(double(x)) + 0.5 * double(lambda) * double(norms) +
               0.5 * double(lambda_b) * (double(b_i) * b_i + double(b_j) * b_j);
    }
}

struct SBPRSample {
    std::int32_t user, item, social, negative;  // social = -1: BPR's triple (u, item, negative)
    std::int32_t count;                         // s_uk of the social item
};

template <class T, class Dim>
struct SBPRStep {
    Interactions data;
    ScoreParams<T, Dim> m;
    const std::int64_t* social_indptr;
    const std::int32_t* social_items;
    const std::int32_t* social_counts;
    T alpha, gamma, lambda, lambda_b;

    SBPRSample draw(SplitMix64& gen) const {
        const PositivePair pos = draw_positive(data, gen);
        const ItemRow own = user_row(data, pos.user);
        const std::int64_t begin = social_indptr[pos.user];
        const ItemRow social{social_items + begin, social_indptr[std::int64_t(pos.user) + 1] - begin};
        if (social.size > 0 && own.size + social.size < data.n_items) {
            const auto t = static_cast<std::int64_t>(gen.below(std::uint64_t(social.size)));
            const std::int32_t j = draw_outside(data.n_items, own, social, gen);
            return {pos.user, pos.item, social.first[t], j, social_counts[begin + t]};
        }
        return {pos.user, pos.item, -1, draw_outside(data.n_items, own, ItemRow{nullptr, 0}, gen), 0};
    }
    void prefetch(const SBPRSample& s) const {
        prefetch_row(m.user(s.user), m.dim);
        prefetch_row(m.item(s.item), m.dim);
        prefetch_row(m.item(s.negative), m.dim);
        if (s.social >= 0) prefetch_row(m.item(s.social), m.dim);
    }
    double update(const SBPRSample& s) const {
        if (s.social < 0) return bpr_pair_step(m, s.user, s.item, s.negative, gamma, lambda, lambda_b);
        if (alpha == T(1))
            return sbpr_step<false>(m, s.user, s.item, s.social, s.negative, s.count, alpha, gamma, lambda, lambda_b);
        return sbpr_step<true>(m, s.user, s.item, s.social, s.negative, s.count, alpha, gamma, lambda, lambda_b);
    }
};

// One epoch: n_pool sampled observations (sampled_pass, pass id kSamplePass). Returns the sum of their terms.
template <class T>
double sbpr_epoch(const SBPRArgs<T>& a, const PassSettings& settings) {
    const BPRArgs<T>& b = a.bpr;
    return dispatch_dim(b.factors, [&](auto dim) {
        using Dim = decltype(dim);
        SBPRStep<T, Dim> step{b.data, {b.user_factors, b.item_factors, b.item_bias, dim}, a.social_indptr,
                              a.social_items, a.social_counts, T(a.social_weight), T(b.learning_rate),
                              T(b.regularization), T(b.bias_regularization)};
        return sampled_pass(b.data.n_pool, kSamplePass, settings, step);
    });
}

SOCIALREC_KERNELS_END
