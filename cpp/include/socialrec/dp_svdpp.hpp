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

namespace socialrec {

template <class T>
struct DPSVDppStepArgs {
    T* user_factors;      // n_users x factors (p, user side)
    T* item_factors;      // n_items x factors (q, released)
    T* implicit_factors;  // n_items x factors (y, released)
    T* user_bias;         // n_users
    T* item_bias;         // n_items
    const std::int64_t* rating_offsets;  // n_users + 1
    const std::int32_t* items;
    const float* values;
    const std::int64_t* sampled;  // the batch's user ids
    std::int64_t n_sampled;
    const double* noise;  // n_items x (2 factors + 1), standard normal; nullptr: no noise
    std::int64_t n_users, n_items;
    std::int32_t factors;
    double global_bias, learning_rate, regularization, bias_regularization, clip_norm, noise_scale;
};

template <class T>
void dp_svdpp_step(const DPSVDppStepArgs<T>& a) {
    const std::int64_t d = a.factors;
    const T lambda = T(a.regularization), lambda_b = T(a.bias_regularization), mu = T(a.global_bias);
    std::vector<T> GQ(std::size_t(a.n_items * d), T(0)), GY(std::size_t(a.n_items * d), T(0));
    std::vector<T> GP(std::size_t(a.n_users * d), T(0)), Gbi(std::size_t(a.n_items), T(0));
    std::vector<T> Gbu(std::size_t(a.n_users), T(0));
    std::vector<T> x(std::size_t(d)), e_q(std::size_t(d));
    std::vector<T> unit_q, unit_b, unit_y;  // the user's released rows until its clipping factor is known
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
            x[std::size_t(f)] = p[f] + s * x[std::size_t(f)];
            e_q[std::size_t(f)] = T(0);
        }
        unit_q.assign(std::size_t(n * d), T(0));
        unit_b.assign(std::size_t(n), T(0));
        unit_y.assign(std::size_t(n * d), T(0));
        double norm2 = 0;
        for (std::int64_t k = first; k < last; ++k) {
            const std::int64_t i = a.items[k];
            const T* q = a.item_factors + i * d;
            T dot = 0;
            for (std::int64_t f = 0; f < d; ++f) dot += x[std::size_t(f)] * q[f];
            const T e = T(a.values[k]) - (mu + a.user_bias[u] + a.item_bias[i] + dot);
            T* gq = unit_q.data() + (k - first) * d;
            T* gp = GP.data() + u * d;
            T gq2 = 0;
            for (std::int64_t f = 0; f < d; ++f) {
                gq[f] = lambda * q[f] - e * x[std::size_t(f)];
                gp[f] += lambda * p[f] - e * q[f];
                e_q[std::size_t(f)] += e * q[f];
                gq2 += gq[f] * gq[f];
            }
            const T gb = lambda_b * a.item_bias[i] - e;
            unit_b[std::size_t(k - first)] = gb;
            Gbu[std::size_t(u)] += lambda_b * a.user_bias[u] - e;
            norm2 += double(gq2) + double(gb) * double(gb);
        }
        const T n_lambda = T(n) * lambda;
        for (std::int64_t k = first; k < last; ++k) {
            const T* y = a.implicit_factors + a.items[k] * d;
            T* gy = unit_y.data() + (k - first) * d;
            T gy2 = 0;
            for (std::int64_t f = 0; f < d; ++f) {
                gy[f] = n_lambda * y[f] - s * e_q[std::size_t(f)];
                gy2 += gy[f] * gy[f];
            }
            norm2 += double(gy2);
        }
        const double norm = std::sqrt(norm2);
        const T c = T(norm == 0 || norm <= a.clip_norm ? 1.0 : a.clip_norm / norm);
        for (std::int64_t k = first; k < last; ++k) {
            const std::int64_t i = a.items[k];
            for (std::int64_t f = 0; f < d; ++f) {
                GQ[std::size_t(i * d + f)] += c * unit_q[std::size_t((k - first) * d + f)];
                GY[std::size_t(i * d + f)] += c * unit_y[std::size_t((k - first) * d + f)];
            }
            Gbi[std::size_t(i)] += c * unit_b[std::size_t(k - first)];
        }
    }
    const T gamma = T(a.learning_rate), scale = T(a.noise_scale);
    const std::int64_t width = 2 * d + 1;
    for (std::int64_t i = 0; i < a.n_items; ++i) {
        const double* xi = a.noise ? a.noise + i * width : nullptr;
        for (std::int64_t f = 0; f < d; ++f) {
            T gq = GQ[std::size_t(i * d + f)], gy = GY[std::size_t(i * d + f)];
            if (xi) {
                gq += scale * T(xi[f]);
                gy += scale * T(xi[d + 1 + f]);
            }
            a.item_factors[i * d + f] -= gamma * gq;
            a.implicit_factors[i * d + f] -= gamma * gy;
        }
        T gb = Gbi[std::size_t(i)];
        if (xi) gb += scale * T(xi[d]);
        a.item_bias[i] -= gamma * gb;
    }
    for (std::int64_t u = 0; u < a.n_users; ++u) {
        for (std::int64_t f = 0; f < d; ++f) a.user_factors[u * d + f] -= gamma * GP[std::size_t(u * d + f)];
        a.user_bias[u] -= gamma * Gbu[std::size_t(u)];
    }
}

}  // namespace socialrec
