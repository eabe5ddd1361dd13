// SVD++ (Koren, "Factorization meets the neighborhood", KDD 2008, eq. 15) and the user-grouped rating step
// that TrustSVD (trustsvd.hpp) extends.
//
// Prediction r^_ui = mu + b_u + b_i + q_i . (p_u + |I_u|^-1/2 sum_{j in I_u} y_j).
// The sum over I_u is what makes naive SGD cost O(k |R| |I_u|): every rating would re-sum and re-update all
// y_j. Here the rating pass is grouped by user (sgd.hpp grouped_pass). For user u:
//   z_u = |I_u|^-1/2 sum_j y_j is computed once (y does not move while u's ratings are visited, so z_u stays
//   exact); each rating (u, i) then takes an ordinary SGD step on p_u, q_i, b_u, b_i and adds its y-gradient
//   e_ui q_i to an accumulator g; after the last rating every y_j, j in I_u, takes one step with
//   |I_u|^-1/2 g and its penalty.
// So an epoch costs O(k |R|). Every rating (u, i) touches p_u, q_i, b_u, b_i and all y_j, j in I_u, so it
// carries all their penalties (DESIGN §4); the objective this descends (socialrec/models/svdpp.py):
//   sum_(u,i) [1/2 e_ui^2 + lambda/2 (|p_u|^2 + |q_i|^2 + sum_{j in I_u} |y_j|^2) + lambda_b/2 (b_u^2 + b_i^2)]
// (y's penalty counted once per rating, as Koren's per-rating SGD has it; in the group step it is
// |I_u| lambda/2 |y_j|^2, taken as one proximal step. Counted once per user instead, TrustSVD's w (same
// step) was regularised far less than its data pulled and overfitted FilmTrust). Reference:
// socialrec/reference/svdpp.py.
//
// Penalty weights (SVD++'s regularization_scaling, issue 15; the Weighted flag): every penalty is scaled by its
// row's weight, read from the float64 arrays user_weight (w_u of p_u, b_u) and item_weight (w_i of q_i, b_i
// and w_j of y_j): the caller's |I_u|^-1/2 and |U_i|^-1/2 ("sqrt_count": TrustSVD's rating part without the
// trust), resp. 1/|I_u| and 1/|U_i| ("count"):
//   sum_(u,i) [1/2 e_ui^2 + lambda/2 (w_u |p_u|^2 + w_i |q_i|^2 + sum_{j in I_u} w_j |y_j|^2)
//              + lambda_b/2 (w_u b_u^2 + w_i b_i^2)],
// each step using lambda * T(w) (and lambda_b * T(w)) in this order. The unweighted step compiles as before.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "socialrec/row_buffer.hpp"
#include "socialrec/sgd.hpp"
#include "socialrec/types.hpp"
#include "socialrec/vec.hpp"

namespace socialrec {

// The ratings grouped by user: rating_users[] lists the users with at least one rating (the pass shuffles it
// in place); user u's ratings are rating_records[rating_offsets[u] .. rating_offsets[u+1]) (shuffled in place
// too).
struct UserRatingGroups {
    FlatList<std::int32_t> rating_users;
    RatingRecord* rating_records;
    const std::int64_t* rating_offsets;  // n_users + 1
};

template <class T>
struct SVDppArgs {
    UserRatingGroups groups;
    T* user_factors;      // p, n_users x factors
    T* item_factors;      // q, n_items x factors
    T* implicit_factors;  // y, n_items x factors
    T* user_bias;
    T* item_bias;
    std::int32_t factors;
    double global_bias;
    double learning_rate;
    double regularization;
    double bias_regularization;
    bool weighted = false;                // regularization_scaling other than "occurrence"
    const double* user_weight = nullptr;  // n_users, w_u (read only when weighted)
    const double* item_weight = nullptr;  // n_items, w_i (read only when weighted)
};

}  // namespace socialrec

SOCIALREC_KERNELS_BEGIN

// The trust part of TrustSVD's rating step (Guo, Zhang, Yorke-Smith, AAAI 2015, eq. 4): the trustees' sum
// |T_u|^-1/2 sum_{v in T_u} w_v joins the cached z_u, and each w_v takes one step per user with the same g.
// Its penalty weights: the paper's |I_u|^-1/2 on p_u and b_u, |U_j|^-1/2 on q_j, b_j and y_j, |T+_v|^-1/2 on w_v.
template <class T>
struct TrustPart {
    T* trustee_factors;               // w, n_users x factors
    const std::int64_t* trust_offsets;  // CSR of the trust graph: u's trustees at trustees[off[u] .. off[u+1])
    const std::int32_t* trustees;
    const double* item_weight;        // |U_j|^-1/2 (0 for unrated items)
    const double* trustee_weight;     // |T+_v|^-1/2 (0 for users nobody trusts)
};

// How many trustee rows the TrustSVD rating step asks for ahead of summing them.
constexpr std::int64_t kTrusteeLookahead = 8;

// One user's group of ratings. TrustAware = false: SVD++ (uniform penalties, or with Weighted the rows'
// weights of user_weight / item_weight, see the top); true: TrustSVD (its own weights in `trust`).
template <class T, class Dim, bool TrustAware, bool Weighted = false>
struct UserGroupStep {
    T* P;
    T* Q;
    T* Y;
    T* bu;
    T* bi;
    TrustPart<T> trust;  // used only when TrustAware
    Dim dim;
    T mu, gamma, lambda, lambda_b;
    const double* user_weight = nullptr;  // Weighted only: w_u of p_u and b_u
    const double* item_weight = nullptr;  // Weighted only: w_i of q_i, b_i and y_i

    // The penalty weight of item i's rows: TrustSVD's |U_i|^-1/2, SVD++'s w_i when Weighted, else 1.
    SOCIALREC_INLINE T item_penalty(std::int32_t i) const {
        if constexpr (TrustAware) return T(trust.item_weight[i]);
        else if constexpr (Weighted) return T(item_weight[i]);
        else return T(1);
    }

    // grouped_pass look-ahead. Two users ahead: p_u, b_u and (TrustSVD) u's offsets in the trust CSR; one
    // user ahead: u's list of trustees, which the visit reads first to ask for their rows.
    SOCIALREC_INLINE void prefetch_group(std::int32_t u, int ahead) const {
        if (ahead == 2) {
            prefetch_row(P + std::int64_t(u) * dim.size(), dim);
            __builtin_prefetch(bu + u, 1);
            if (TrustAware) {
                __builtin_prefetch(trust.trust_offsets + u);
                __builtin_prefetch(trust.trust_offsets + u + 1);
            }
        } else if (TrustAware) {
            const std::int64_t begin = trust.trust_offsets[u];
            const std::int64_t count = std::min(trust.trust_offsets[u + 1] - begin, kTrusteeLookahead);
            prefetch_bytes(trust.trustees + begin, std::size_t(count) * sizeof(std::int32_t));
        }
    }

    double operator()(std::int32_t u, RatingRecord* ratings, std::int64_t n) const {
        const int k = dim.size();
        RowBuffer<T, Dim> z_buf(dim), g_buf(dim);
        T* __restrict z = z_buf.data();
        T* __restrict g = g_buf.data();
        fill_zero(z, dim);
        fill_zero(g, dim);

        // z_u = |I_u|^-1/2 sum y_j (+ |T_u|^-1/2 sum w_v), summed in the (shuffled) member order.
        const T s_items = T(1.0 / std::sqrt(double(n)));
        // The rows of y, q and w are random accesses: fetch them (every cache line of the row: at k = 10 half
        // the rows straddle two lines) a few members ahead, memory-bound otherwise. The trustees' rows are
        // asked for first, so that their loads overlap the y-sum.
        constexpr std::int64_t ahead = 4;
        const std::int32_t* trustees = nullptr;
        std::int64_t n_trustees = 0;
        if (TrustAware) {
            trustees = trust.trustees + trust.trust_offsets[u];
            n_trustees = trust.trust_offsets[u + 1] - trust.trust_offsets[u];
            for (std::int64_t r = 0; r < std::min(n_trustees, kTrusteeLookahead); ++r)
                prefetch_row(trust.trustee_factors + std::int64_t(trustees[r]) * k, dim);
        }
        for (std::int64_t r = 0; r < n; ++r) {
            if (r + ahead < n) prefetch_row(Y + std::int64_t(ratings[r + ahead].item) * k, dim);
            add_row(Y + std::int64_t(ratings[r].item) * k, z, dim);
        }
        for (int j = 0; j < k; ++j) z[j] *= s_items;
        T s_trust = 0;
        if (TrustAware && n_trustees > 0) {
            s_trust = T(1.0 / std::sqrt(double(n_trustees)));
            RowBuffer<T, Dim> t_buf(dim);
            T* __restrict t = t_buf.data();
            fill_zero(t, dim);
            for (std::int64_t r = 0; r < n_trustees; ++r) {
                if (r + kTrusteeLookahead < n_trustees)
                    prefetch_row(trust.trustee_factors + std::int64_t(trustees[r + kTrusteeLookahead]) * k, dim);
                add_row(trust.trustee_factors + std::int64_t(trustees[r]) * k, t, dim);
            }
            axpy(s_trust, t, z, dim);
        }

        // Weighted-lambda (TrustSVD): the user's penalties are scaled by |I_u|^-1/2 on every rating; SVD++
        // Weighted: by w_u.
        T lam_p = TrustAware ? lambda * s_items : lambda;
        T lam_bu = TrustAware ? lambda_b * s_items : lambda_b;
        if constexpr (Weighted && !TrustAware) {
            lam_p = lambda * T(user_weight[u]);
            lam_bu = lambda_b * T(user_weight[u]);
        }
        // p_u and b_u change with every rating of u and nothing else writes them during u's visit: step copies
        // (written back after the loop), so that a rating's step does not wait for its predecessor's stores.
        T* const p_shared = P + std::int64_t(u) * k;
        RowBuffer<T, Dim> p_buf(dim);
        T* __restrict p = p_buf.data();
        copy_row(p_shared, p, dim);
        T b_u = bu[u];
        double loss = 0.0;
        for (std::int64_t r = 0; r < n; ++r) {
            const RatingRecord& rec = ratings[r];
            if (r + ahead < n) prefetch_row(Q + std::int64_t(ratings[r + ahead].item) * k, dim);
            const T c_i = item_penalty(rec.item);
            const T lam_q = lambda * c_i, lam_bi = lambda_b * c_i;
            T* __restrict q = Q + std::int64_t(rec.item) * k;
            const T b_i = bi[rec.item];
            // q . (p + z), |p|^2 and |q|^2 in one pass (vec.hpp); the update loop has no reduction.
            const SumDotAndNorms<T> s = sum_dot_and_norms(p, z, q, dim);
            const T e = T(rec.value) - (mu + b_u + b_i + s.dot);
            const T norm_p = s.norm_x, norm_q = s.norm_y;
#pragma omp simd
            for (int j = 0; j < k; ++j) {
                const T pj = p[j], qj = q[j];
                g[j] += e * qj;
                p[j] = pj + gamma * (e * qj - lam_p * pj);
                q[j] = qj + gamma * (e * (pj + z[j]) - lam_q * qj);
            }
            loss += 0.5 * double(e) * double(e) + 0.5 * double(lam_p) * double(norm_p) +
                    0.5 * double(lam_q) * double(norm_q) + 0.5 * double(lam_bu) * double(b_u) * double(b_u) +
                    0.5 * double(lam_bi) * double(b_i) * double(b_i);
            bi[rec.item] = b_i + gamma * (e - lam_bi * b_i);
            b_u = b_u + gamma * (e - lam_bu * b_u);
        }
        copy_row(p, p_shared, dim);
        bu[u] = b_u;

        // One step per user on y (and w) on the group's term: the summed y-gradient of u's ratings, and the
        // penalty that each of the n ratings carries (n lambda_y |y|^2 / 2 in all). The penalty part is taken
        // implicitly (a proximal step, y <- (y + gamma s g) / (1 + gamma n lambda_y)): stable for any n, where
        // an explicit step would overshoot once gamma n lambda_y > 2 (heavy users).
        const T n_t = T(n);
        for (std::int64_t r = 0; r < n; ++r) {
            const std::int32_t i = ratings[r].item;
            const T lam_y = (TrustAware || Weighted) ? lambda * item_penalty(i) : lambda;
            const T shrink = T(1) / (T(1) + gamma * n_t * lam_y);
            T* __restrict y = Y + std::int64_t(i) * k;
            const T norm_y = squared_norm(y, dim);
#pragma omp simd
            for (int j = 0; j < k; ++j) y[j] = (y[j] + gamma * (s_items * g[j])) * shrink;
            loss += 0.5 * double(n) * double(lam_y) * double(norm_y);
        }
        if (TrustAware && n_trustees > 0) {
            for (int j = 0; j < k; ++j) g[j] *= gamma * s_trust;
            for (std::int64_t r = 0; r < n_trustees; ++r) {
                const std::int32_t v = trustees[r];
                const T lam_w = lambda * T(trust.trustee_weight[v]);
                const T shrink = T(1) / (T(1) + gamma * n_t * lam_w);
                T* __restrict w = trust.trustee_factors + std::int64_t(v) * k;
                const T norm_w = squared_norm(w, dim);
#pragma omp simd
                for (int j = 0; j < k; ++j) w[j] = (w[j] + g[j]) * shrink;
                loss += 0.5 * double(n) * double(lam_w) * double(norm_w);
            }
        }
        return loss;
    }
};

// One SVD++ epoch: the user-grouped rating pass. Returns the epoch's loss.
template <class T>
double svdpp_epoch(const SVDppArgs<T>& a, const PassSettings& settings) {
    return dispatch_dim(a.factors, [&](auto dim) {
        using Dim = decltype(dim);
        // weighted: std::true_type / std::false_type, one step type each (chosen once per epoch)
        auto run = [&](auto weighted) {
            UserGroupStep<T, Dim, false, decltype(weighted)::value> step{
                a.user_factors, a.item_factors, a.implicit_factors, a.user_bias, a.item_bias, TrustPart<T>{}, dim,
                T(a.global_bias), T(a.learning_rate), T(a.regularization), T(a.bias_regularization),
                a.user_weight, a.item_weight};
            return grouped_pass(a.groups.rating_users, a.groups.rating_records, a.groups.rating_offsets, kRatingPass,
                                settings, step);
        };
        return a.weighted ? run(std::true_type{}) : run(std::false_type{});
    });
}

SOCIALREC_KERNELS_END
