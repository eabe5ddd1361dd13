// One DP-SGD step of SVD++ at user level (Koren, KDD 2008; Abadi et al., CCS 2016, Algorithm 1): the unit is a
// user with its ratings R_u; its contribution to the released arrays -- item factors Q, item biases b_i and
// implicit factors Y -- is one vector clipped to norm C. The user side (p_u, b_u) takes the user's own
// unclipped, noiseless gradient. The rules, with the draws (made in Python, handed in), are
// socialrec/reference/dp_svdpp.py; the privacy argument is docs/PRIVACY.md.
//
// At the parameters before the step, for each sampled user u (n = |R_u|, s = n^-1/2):
//   x_u = p_u + s sum_{j in R_u} y_j
//   rating (u, i, r):  e = r - (mu + b_u + b_i + x_u . q_i)
//     g_q = lambda q_i - e x_u,  g_bi = lambda_b b_i - e                    (released)
//     g_p += lambda p_u - e q_i,  g_bu += lambda_b b_u - e                  (user side)
//   each j in R_u:  g_yj = n lambda y_j - s sum_i e_i q_i                   (released)
// Clip the user's released rows to C (norm accumulated in double), add; noise sigma C xi on every released
// coordinate (xi: n_items x (2d + 1), columns q | b_i | y); every array steps by -gamma times its sum.
// One thread: a step touches a small batch, and the sums keep the reference's order.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "socialrec/dp_step.hpp"

namespace socialrec {

template <class T>
struct DPSVDppStepArgs : dp::UserStepArgs<T> {  // always biased
    T* implicit_factors;  // n_items x factors (y, released)
    const double* noise;  // n_items x (2 factors + 1), standard normal; nullptr: no noise
};

template <class T>
void dp_svdpp_step(const DPSVDppStepArgs<T>& a) {
    const std::int64_t d = a.factors;
    const T lambda = T(a.regularization), lambda_b = T(a.bias_regularization), mu = T(a.global_bias);
    std::vector<T> GQ(std::size_t(a.n_items * d), T(0)), GY(std::size_t(a.n_items * d), T(0));
    std::vector<T> GP(std::size_t(a.n_users * d), T(0)), Gbi(std::size_t(a.n_items), T(0));
    std::vector<T> Gbu(std::size_t(a.n_users), T(0));
    std::vector<T> x(std::size_t(d), T(0)), e_q(std::size_t(d), T(0));  // x_u and sum_i e_i q_i
    dp::UnitRows<T> unit;
    for (std::int64_t s_ = 0; s_ < a.n_sampled; ++s_) {
        const std::int64_t u = a.sampled[s_];
        const std::int64_t first = a.rating_offsets[u], last = a.rating_offsets[u + 1], n = last - first;
        if (n == 0) continue;
        const T s = T(1.0 / std::sqrt(double(n)));
        const T* p = a.user_factors + u * d;
        for (std::int64_t f = 0; f < d; ++f) x[std::size_t(f)] = T(0);
        for (std::int64_t k = first; k < last; ++k)
            for (std::int64_t f = 0; f < d; ++f) x[std::size_t(f)] += a.implicit_factors[a.items[k] * d + f];
        for (std::int64_t f = 0; f < d; ++f) {
            x[std::size_t(f)] = p[f] + s * x[std::size_t(f)];  // x_u = p_u + |R_u|^-1/2 sum y_j
            e_q[std::size_t(f)] = T(0);
        }
        unit.clear();
        for (std::int64_t k = first; k < last; ++k) {
            const std::int64_t i = a.items[k];
            const T* q = a.item_factors + i * d;
            T dot = 0;
            for (std::int64_t f = 0; f < d; ++f) dot += x[std::size_t(f)] * q[f];
            const T e = T(a.values[k]) - (mu + a.user_bias[u] + a.item_bias[i] + dot);
            T* gq = unit.add(GQ.data() + i * d, d);
            T* gp = GP.data() + u * d;
            T gq2 = 0;
            for (std::int64_t f = 0; f < d; ++f) {
                gq[f] = lambda * q[f] - e * x[std::size_t(f)];
                gp[f] += lambda * p[f] - e * q[f];
                e_q[std::size_t(f)] += e * q[f];
                gq2 += gq[f] * gq[f];
            }
            T* gb = unit.add(Gbi.data() + i, 1);
            *gb = lambda_b * a.item_bias[i] - e;
            Gbu[std::size_t(u)] += lambda_b * a.user_bias[u] - e;
            unit.add_norm2(double(gq2) + double(*gb) * double(*gb));
        }
        const T n_lambda = T(n) * lambda;  // every rating's term carries lambda/2 sum_j |y_j|^2
        for (std::int64_t k = first; k < last; ++k) {
            const std::int64_t j = a.items[k];
            const T* y = a.implicit_factors + j * d;
            T* gy = unit.add(GY.data() + j * d, d);
            T gy2 = 0;
            for (std::int64_t f = 0; f < d; ++f) {
                gy[f] = n_lambda * y[f] - s * e_q[std::size_t(f)];
                gy2 += gy[f] * gy[f];
            }
            unit.add_norm2(double(gy2));
        }
        unit.clip_into_totals(a.clip_norm);
    }
    const T gamma = T(a.learning_rate), scale = T(a.noise_scale);
    const std::int64_t width = 2 * d + 1;  // the noise's columns: q | b_i | y
    dp::descend(a.item_factors, GQ, a.n_items, d, a.noise, width, 0, gamma, scale);
    dp::descend(a.item_bias, Gbi, a.n_items, 1, a.noise, width, d, gamma, scale);
    dp::descend(a.implicit_factors, GY, a.n_items, d, a.noise, width, d + 1, gamma, scale);
    dp::descend<T>(a.user_factors, GP, a.n_users, d, nullptr, 0, 0, gamma, scale);
    dp::descend<T>(a.user_bias, Gbu, a.n_users, 1, nullptr, 0, 0, gamma, scale);
}

}  // namespace socialrec
