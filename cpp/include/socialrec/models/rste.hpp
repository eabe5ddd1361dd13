// RSTE (Ma, King, Lyu, "Learning to recommend with social trust ensemble", SIGIR 2009, Section 4).
//
// Ratings mapped to [0, 1]: r~ = (r - r_min) / (r_max - r_min). With S the row-normalised trust matrix,
//   z_u = alpha U_u + (1 - alpha) sum_{v in N+(u)} S_uv U_v        (users without out-links: z_u = U_u)
//   x_ui = b + b_u + b_i + z_u . V_i,   prediction g(x_ui)          (biased=false: x_ui = b + z_u . V_i)
// b = logit(mean r~) a fixed offset (ours, not the paper's: rows without ratings then predict the mean).
// b_u, b_i (Koren, Bell, Volinsky 2009) sit inside the link and are not mixed over trustees (the paper's
// ensemble mixes the user-item term only; python/socialrec/models/rste.py says why).
// Each rating contributes 1/2 (r~_ui - g(x_ui))^2 + lambda/2 (|U_u|^2 + |V_i|^2) + lambda_b/2 (b_u^2 + b_i^2)
// (the last term only when biased). With e = r~ - g(x) and d = e g(x) (1 - g(x)), its gradient is
// -d a_u V_i + lambda U_u on U_u (a_u = alpha, or 1 without out-links), -d z_u + lambda V_i on V_i,
// -d (1 - alpha) S_uv V_i on each out-neighbour U_v, and -d + lambda_b b on b_u and on b_i.
// weighted (regularization_scaling "sqrt_count" / "count", issue 15; the Weighted flag): lambda and lambda_b
// on the user's rows (U_u, b_u) scaled by w_u, on the item's (V_i, b_i) by w_i, read from the float64 arrays
// user_weight / item_weight (|I_u|^-1/2, |U_i|^-1/2, resp. 1/|I_u|, 1/|U_i|), each step using lambda * T(w)
// in this order; the out-neighbours' U_v take no penalty from u's ratings (as before). The unweighted step
// compiles as before.
//
// Schedule: ratings grouped by user (grouped_pass over users with ratings; the user's ratings shuffled).
// The neighbour term N_u = sum_v S_uv U_v is computed once per user, and the out-neighbours' gradient is
// accumulated over the user's ratings and applied once when the user is done (as SVD++ caches its y-sum,
// DESIGN §4), so a rating costs what a PMF rating costs. Several user rows move: not stratifiable, so the
// pass runs in one order when deterministic, else Hogwild over users. Reference: socialrec/reference/rste.py.
#pragma once
#include <cstdint>
#include <type_traits>

#include "socialrec/logistic.hpp"
#include "socialrec/row_buffer.hpp"
#include "socialrec/sgd.hpp"
#include "socialrec/types.hpp"
#include "socialrec/vec.hpp"

namespace socialrec {

template <class T>
struct RSTEArgs {
    FlatList<std::int32_t> rating_users;  // users with at least one rating (the groups)
    RatingRecord* ratings;              // all ratings, grouped by user; value already mapped to [0, 1]
    const std::int64_t* rating_offsets; // n_users + 1: user u's ratings at ratings[offsets[u] .. offsets[u+1]]
    const std::int64_t* trust_offsets;  // n_users + 1, CSR of the trust graph
    const std::int32_t* trust_dst;
    const double* trust_weight;         // S_uv, each non-empty row sums to 1
    T* user_factors;
    T* item_factors;
    T* user_bias;  // n_users (unused when !biased)
    T* item_bias;  // n_items (unused when !biased)
    std::int32_t factors;
    bool biased;
    double global_bias;  // b
    double alpha;
    double learning_rate;
    double regularization;
    double bias_regularization;  // lambda_b (unused when !biased)
    bool weighted = false;                // regularization_scaling other than "occurrence"
    const double* user_weight = nullptr;  // n_users, w_u (read only when weighted)
    const double* item_weight = nullptr;  // n_items, w_i (read only when weighted)
};

}  // namespace socialrec

SOCIALREC_KERNELS_BEGIN

// Biased: b_u + b_i inside the link (a template parameter: the unbiased step compiles as without biases).
// Weighted: the rows' penalty weights (see the top).
template <class T, class Dim, bool Biased, bool Weighted = false>
struct RSTEUserStep {
    const RSTEArgs<T>* a;
    Dim dim;
    T gamma, lambda, alpha, offset, lambda_b;

    SOCIALREC_INLINE double operator()(std::int32_t user, RatingRecord* first, std::int64_t n) const {
        T* __restrict U = a->user_factors;
        const std::int64_t t0 = a->trust_offsets[user], t1 = a->trust_offsets[user + 1];
        const bool social = t1 > t0;
        const T own = social ? alpha : T(1), rest = T(1) - alpha;
        RowBuffer<T, Dim> n_buf(dim), g_buf(dim), z_buf(dim);
        T* __restrict neighbours = n_buf.data();  // N_u, fixed while the user's ratings are visited
        T* __restrict grad = g_buf.data();        // sum over the ratings of d V_i (for the out-neighbours)
        T* __restrict z = z_buf.data();           // z_u = a_u U_u + (1 - alpha) N_u, before each rating's step
        fill_zero(neighbours, dim);
        fill_zero(grad, dim);
        for (std::int64_t k = t0; k < t1; ++k)
            axpy(T(a->trust_weight[k]), U + std::int64_t(a->trust_dst[k]) * dim.size(), neighbours, dim);
        T* __restrict u = U + std::int64_t(user) * dim.size();
        T lam_u = lambda, lamb_u = lambda_b;  // the user's penalties (scaled by w_u when Weighted)
        if constexpr (Weighted) {
            lam_u = lambda * T(a->user_weight[user]);
            lamb_u = lambda_b * T(a->user_weight[user]);
        }
        double loss = 0.0;
        for (std::int64_t r = 0; r < n; ++r) {
            T* __restrict v = a->item_factors + std::int64_t(first[r].item) * dim.size();
            T lam_i = lambda, lamb_i = lambda_b;  // the item's (scaled by w_i when Weighted)
            double penalty;                       // lam_u/2 |U_u|^2 + lam_i/2 |V_i|^2 at the old rows
            if constexpr (Weighted) {
                lam_i = lambda * T(a->item_weight[first[r].item]);
                lamb_i = lambda_b * T(a->item_weight[first[r].item]);
                penalty = 0.5 * (double(lam_u) * double(squared_norm(u, dim)) +
                                 double(lam_i) * double(squared_norm(v, dim)));
            }
#pragma omp simd
            for (int j = 0; j < dim.size(); ++j) z[j] = own * u[j] + rest * neighbours[j];
            // z . V_i and |U_u|^2 + |V_i|^2 with vec.hpp (`omp simd reduction` adds lanes serially, GCC 12)
            const DotAndNorms<T> s = dot_and_norms(z, v, u, v, dim);
            T b_u = 0, b_i = 0;
            if constexpr (Biased) {
                b_u = a->user_bias[user];
                b_i = a->item_bias[first[r].item];
            }
            const T g = Biased ? logistic(offset + b_u + b_i + s.dot) : logistic(offset + s.dot);
            if constexpr (!Weighted) penalty = 0.5 * double(lambda) * double(s.norms);
            const T e = T(first[r].value) - g;
            const T d = e * g * (T(1) - g);
            if constexpr (Biased) {  // b += gamma (d - lambda_b b), with the old b
                a->user_bias[user] = b_u + gamma * (d - lamb_u * b_u);
                a->item_bias[first[r].item] = b_i + gamma * (d - lamb_i * b_i);
            }
#pragma omp simd
            for (int j = 0; j < dim.size(); ++j) {
                const T uj = u[j], vj = v[j];
                u[j] = uj + gamma * (d * own * vj - lam_u * uj);
                v[j] = vj + gamma * (d * z[j] - lam_i * vj);
                grad[j] += d * vj;
            }
            loss += 0.5 * double(e) * double(e) + penalty;
            if constexpr (Biased)
                loss += 0.5 * (double(lamb_u) * (double(b_u) * b_u) + double(lamb_i) * (double(b_i) * b_i));
        }
        // The delayed out-neighbour step: U_v += gamma (1 - alpha) S_uv sum_r d_r V_i(r).
        for (std::int64_t k = t0; k < t1; ++k)
            axpy(gamma * rest * T(a->trust_weight[k]), grad, U + std::int64_t(a->trust_dst[k]) * dim.size(), dim);
        return loss;
    }
};

template <class T>
double rste_epoch(const RSTEArgs<T>& a, const PassSettings& settings) {
    return dispatch_dim(a.factors, [&](auto dim) {
        // biased: std::true_type / std::false_type, so that the branch is taken once per pass, not per rating
        // weighted likewise (regularization_scaling's penalty weights)
        auto run = [&](auto biased, auto weighted) {
            RSTEUserStep<T, decltype(dim), decltype(biased)::value, decltype(weighted)::value> step{
                &a, dim, T(a.learning_rate), T(a.regularization), T(a.alpha), T(a.global_bias),
                T(a.bias_regularization)};
            return grouped_pass(a.rating_users, a.ratings, a.rating_offsets, kRatingPass, settings, step);
        };
        auto with_weights = [&](auto biased) {
            return a.weighted ? run(biased, std::true_type{}) : run(biased, std::false_type{});
        };
        return a.biased ? with_weights(std::true_type{}) : with_weights(std::false_type{});
    });
}

SOCIALREC_KERNELS_END
