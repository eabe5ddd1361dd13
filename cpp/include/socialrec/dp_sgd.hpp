// One DP-SGD step of a biased matrix factorisation (BiasedMF / PMF) with per-unit clipping of the released
// parameters (Abadi et al., "Deep learning with differential privacy", CCS 2016, Algorithm 1).
//
// The released parameters are the item factors q_i and item biases b_i; the user factors p_u and biases b_u
// stay on the user's side. The step's random draws -- which units are in the batch (Poisson sampling) and the
// standard normal noise -- are made in Python (socialrec/privacy/dp_sgd.py, numpy.random.default_rng([seed,
// 3, step])) and handed in, so that this step, the NumPy driver and the loop reference
// (socialrec/reference/dp_biased_mf.py, rules 3-6) see the same draws and agree in float64.
//
// At the parameters before the step, for each rating (u, i, r) of each sampled unit (in the order given):
//   e = r - (mu + b_u + b_i + p_u . q_i)
//   g_q = lambda q_i - e p_u,  g_bi = lambda_b b_i - e        (released side)
//   g_p = lambda p_u - e q_i,  g_bu = lambda_b b_u - e        (user side, summed per user, never clipped)
// A unit's released gradients form one vector of norm n (accumulated in double); the unit adds c g_q and c g_bi
// with c = min(1, C / n) (1 when n = 0). Then G_Q += sigma C xi, G_b += sigma C xi_d, and every array takes
// its step: Q -= gamma G_Q, b_i -= gamma G_b, P -= gamma G_P, b_u -= gamma G_bu.
// One thread: a step touches a small batch, and the sums keep the reference's order.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

namespace socialrec {

template <class T>
struct DPMFStepArgs {
    T* user_factors;   // n_users x factors
    T* item_factors;   // n_items x factors
    T* user_bias;      // n_users (biased only)
    T* item_bias;      // n_items (biased only)
    const std::int64_t* unit_offsets;  // n_units + 1, into users / items / values
    const std::int32_t* users;
    const std::int32_t* items;
    const float* values;
    const std::int64_t* sampled;  // the batch's unit ids
    std::int64_t n_sampled;
    const double* noise;  // n_items x (factors + biased), standard normal; nullptr: no noise
    std::int64_t n_users, n_items;
    std::int32_t factors;
    bool biased;
    double global_bias, learning_rate, regularization, bias_regularization, clip_norm, noise_scale;
};

template <class T>
void dp_mf_step(const DPMFStepArgs<T>& a) {
    const std::int64_t d = a.factors;
    const T lambda = T(a.regularization), lambda_b = T(a.bias_regularization), mu = T(a.biased ? a.global_bias : 0);
    std::vector<T> GQ(std::size_t(a.n_items * d), T(0)), GP(std::size_t(a.n_users * d), T(0));
    std::vector<T> Gbi(a.biased ? std::size_t(a.n_items) : 0, T(0)), Gbu(a.biased ? std::size_t(a.n_users) : 0, T(0));
    std::vector<T> unit_q;      // the unit's g_q rows, kept until its clipping factor is known
    std::vector<T> unit_b;      // and its g_bi
    for (std::int64_t s = 0; s < a.n_sampled; ++s) {
        const std::int64_t first = a.unit_offsets[a.sampled[s]], last = a.unit_offsets[a.sampled[s] + 1];
        unit_q.assign(std::size_t((last - first) * d), T(0));
        unit_b.assign(std::size_t(last - first), T(0));
        double norm2 = 0;
        for (std::int64_t k = first; k < last; ++k) {
            const std::int64_t u = a.users[k], i = a.items[k];
            const T* p = a.user_factors + u * d;
            const T* q = a.item_factors + i * d;
            T dot = 0;
            for (std::int64_t f = 0; f < d; ++f) dot += p[f] * q[f];
            const T prediction = a.biased ? dot + (mu + a.user_bias[u] + a.item_bias[i]) : dot;
            const T e = T(a.values[k]) - prediction;
            T* gq = unit_q.data() + (k - first) * d;
            T* gp = GP.data() + u * d;
            T gq2 = 0;
            for (std::int64_t f = 0; f < d; ++f) {
                gq[f] = lambda * q[f] - e * p[f];
                gp[f] += lambda * p[f] - e * q[f];
                gq2 += gq[f] * gq[f];
            }
            norm2 += double(gq2);
            if (a.biased) {
                const T gb = lambda_b * a.item_bias[i] - e;
                unit_b[std::size_t(k - first)] = gb;
                Gbu[std::size_t(u)] += lambda_b * a.user_bias[u] - e;
                norm2 += double(gb) * double(gb);
            }
        }
        const double norm = std::sqrt(norm2);
        const T c = T(norm == 0 || norm <= a.clip_norm ? 1.0 : a.clip_norm / norm);
        for (std::int64_t k = first; k < last; ++k) {
            const std::int64_t i = a.items[k];
            const T* gq = unit_q.data() + (k - first) * d;
            for (std::int64_t f = 0; f < d; ++f) GQ[std::size_t(i * d + f)] += c * gq[f];
            if (a.biased) Gbi[std::size_t(i)] += c * unit_b[std::size_t(k - first)];
        }
    }
    const T gamma = T(a.learning_rate);
    const std::int64_t width = d + (a.biased ? 1 : 0);
    const T scale = T(a.noise_scale);
    for (std::int64_t i = 0; i < a.n_items; ++i) {
        for (std::int64_t f = 0; f < d; ++f) {
            T g = GQ[std::size_t(i * d + f)];
            if (a.noise) g += scale * T(a.noise[i * width + f]);
            a.item_factors[i * d + f] -= gamma * g;
        }
        if (a.biased) {
            T g = Gbi[std::size_t(i)];
            if (a.noise) g += scale * T(a.noise[i * width + d]);
            a.item_bias[i] -= gamma * g;
        }
    }
    for (std::int64_t u = 0; u < a.n_users; ++u) {
        for (std::int64_t f = 0; f < d; ++f) a.user_factors[u * d + f] -= gamma * GP[std::size_t(u * d + f)];
        if (a.biased) a.user_bias[u] -= gamma * Gbu[std::size_t(u)];
    }
}

}  // namespace socialrec
