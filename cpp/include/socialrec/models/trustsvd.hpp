// TrustSVD (Guo, Zhang, Yorke-Smith, "TrustSVD: Collaborative filtering with both the explicit and implicit
// influence of user trust and of item ratings", AAAI 2015).
//
// Prediction (eq. 4): r^_uj = mu + b_u + b_j + q_j . (p_u + |I_u|^-1/2 sum_{i in I_u} y_i
//                                                        + |T_u|^-1/2 sum_{v in T_u} w_v).
// An epoch is two passes:
//   1. the user-grouped rating pass of svdpp.hpp with TrustAware = true (cached z_u, one y/w step per user);
//   2. a link pass over the trust edges u -> v fitting t^_uv = w_v . p_u to t_uv (eq. 5), weight lambda_t,
//      grouped by truster (sgd.hpp grouped_pass: trusters shuffled, each one's edges shuffled).
// The paper's weighted-lambda penalties (eq. 6) are carried by the observations that touch each parameter, as
// DESIGN §4 asks and as the authors' LibRec implementation does:
//   rating (u, j):  1/2 e_uj^2 + lambda/2 (|I_u|^-1/2 |p_u|^2 + |U_j|^-1/2 |q_j|^2
//                     + sum_{i in I_u} |U_i|^-1/2 |y_i|^2 + sum_{v in T_u} |T+_v|^-1/2 |w_v|^2)
//                   + lambda_b/2 (|I_u|^-1/2 b_u^2 + |U_j|^-1/2 b_j^2)
//   edge u -> v:    lambda_t/2 (t_uv - w_v . p_u)^2 + lambda_t/2 |T_u|^-1/2 |p_u|^2 + lambda/2 |T+_v|^-1/2 |w_v|^2
// Users with trust but no ratings learn p_u through pass 2 alone; users without trustees reduce to SVD++ with
// the weighted penalties. Reference: socialrec/reference/trustsvd.py.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "socialrec/models/svdpp.hpp"
#include "socialrec/row_buffer.hpp"
#include "socialrec/sgd.hpp"
#include "socialrec/types.hpp"
#include "socialrec/vec.hpp"

namespace socialrec {

template <class T>
struct TrustSVDArgs {
    UserRatingGroups groups;
    FlatList<std::int32_t> trusters;     // users with at least one trustee (shuffled in place by the link pass)
    FlatList<EdgeRecord> edges;          // the trust edges sorted by truster (each truster's shuffled in place)
    const std::int64_t* trust_offsets;   // CSR of the trust graph, n_users + 1 (also the edges' offsets)
    const std::int32_t* trustees;        // CSR column indices (never shuffled: the rating pass sums over them)
    const double* item_weight;           // |U_j|^-1/2
    const double* trustee_weight;        // |T+_v|^-1/2 (in-degree of v)
    T* user_factors;                     // p
    T* item_factors;                     // q
    T* implicit_factors;                 // y
    T* trustee_factors;                  // w
    T* user_bias;
    T* item_bias;
    std::int32_t factors;
    double global_bias;
    double learning_rate;
    double regularization;
    double bias_regularization;
    double social_regularization;        // lambda_t
};

}  // namespace socialrec

SOCIALREC_KERNELS_BEGIN

// The trust edges of one truster u (the link pass is grouped by truster, so p_u and |T_u| stay at hand):
// for each edge u -> v an SGD step on lambda_t/2 e^2 + the edge's penalties above, e = t_uv - w_v . p_u.
template <class T, class Dim>
struct TrustLinkStep {
    T* P;
    T* W;
    const double* trustee_weight;
    Dim dim;
    T gamma, lambda, lambda_t;

    // grouped_pass look-ahead (two trusters ahead): p_u, the row every edge of u updates.
    SOCIALREC_INLINE void prefetch_group(std::int32_t u, int ahead) const {
        if (ahead == 2) prefetch_row(P + std::int64_t(u) * dim.size(), dim);
    }

    // The trustees' rows w_v (and |T+_v|^-1/2), ahead of the edge that updates them.
    SOCIALREC_INLINE void prefetch_edge(const EdgeRecord& edge) const {
        prefetch_row(W + std::int64_t(edge.dst) * dim.size(), dim);
        __builtin_prefetch(trustee_weight + edge.dst);
    }

    double operator()(std::int32_t u, const EdgeRecord* edges, std::int64_t n) const {
        // Only u's edges write p_u in this pass: step a copy, written back after the last edge (as the
        // rating step does), so that an edge's step does not wait for the previous one's stores.
        T* const p_shared = P + std::int64_t(u) * dim.size();
        RowBuffer<T, Dim> p_buf(dim);
        T* __restrict p = p_buf.data();
        copy_row(p_shared, p, dim);
        const T lam_p = lambda_t * T(1.0 / std::sqrt(double(n)));  // n = |T_u|
        constexpr std::int64_t ahead = 4;
        for (std::int64_t r = 0; r < std::min(n, ahead); ++r) prefetch_edge(edges[r]);
        double loss = 0.0;
        for (std::int64_t r = 0; r < n; ++r) {
            if (r + ahead < n) prefetch_edge(edges[r + ahead]);
            T* __restrict w = W + std::int64_t(edges[r].dst) * dim.size();
            const T lam_w = lambda * T(trustee_weight[edges[r].dst]);
            const SumDotAndNorms<T> s = dot_and_two_norms(p, w, dim);
            const T e = T(edges[r].value) - s.dot;
            const T norm_p = s.norm_x, norm_w = s.norm_y;
            // p += gamma (lambda_t e w - lam_p p),  w += gamma (lambda_t e p_old - lam_w w)
            pair_update(p, w, lambda_t * e, gamma, lam_p, lam_w, dim);
            loss += 0.5 * double(lambda_t) * double(e) * double(e) + 0.5 * double(lam_p) * double(norm_p) +
                    0.5 * double(lam_w) * double(norm_w);
        }
        copy_row(p, p_shared, dim);
        return loss;
    }
};

// One TrustSVD epoch: rating pass (grouped by user) then link pass. Returns the epoch's loss.
template <class T>
double trustsvd_epoch(const TrustSVDArgs<T>& a, const PassSettings& settings) {
    return dispatch_dim(a.factors, [&](auto dim) {
        using Dim = decltype(dim);
        const T gamma = T(a.learning_rate), lambda = T(a.regularization);
        UserGroupStep<T, Dim, true> rating_step{
            a.user_factors, a.item_factors, a.implicit_factors, a.user_bias, a.item_bias,
            TrustPart<T>{a.trustee_factors, a.trust_offsets, a.trustees, a.item_weight, a.trustee_weight},
            dim, T(a.global_bias), gamma, lambda, T(a.bias_regularization)};
        double loss = grouped_pass(a.groups.rating_users, a.groups.rating_records, a.groups.rating_offsets,
                                   kRatingPass, settings, rating_step);
        TrustLinkStep<T, Dim> link_step{a.user_factors, a.trustee_factors, a.trustee_weight, dim, gamma, lambda,
                                        T(a.social_regularization)};
        loss += grouped_pass(a.trusters, a.edges.records, a.trust_offsets, kLinkPass, settings, link_step);
        return loss;
    });
}

SOCIALREC_KERNELS_END
