// One DP-SGD step of SoRec at user level (Ma et al., CIKM 2008; Abadi et al., CCS 2016, Algorithm 1): the
// unit is a user with its ratings and outgoing trust edges, and its contribution to the released arrays --
// item factors V, item biases b_i and link factors Z -- is one vector clipped to norm C. The user side (U, b_u)
// takes the user's own unclipped, noiseless gradient. The rules, with the draws (made in Python and handed in),
// are socialrec/reference/dp_sorec.py; the privacy argument is docs/PRIVACY.md.
//
// At the parameters before the step, for each sampled user u (g the logistic function, g' = g (1 - g)):
//   rating (u, i, r~):  x = b + b_u + b_i + U_u . V_i,  ge = (r~ - g(x)) g'(x)
//     g_V = lambda V_i - ge U_u,  g_bi = lambda_b b_i - ge            (released)
//     g_U += lambda U_u - ge V_i,  g_bu += lambda_b b_u - ge          (user side)
//   edge u -> k (target c, 1 in the private model):  x = U_u . Z_k,  ge = (c - g(x)) g'(x)
//     g_Z = lambda_C (lambda Z_k - ge U_u)                            (released)
//     g_U += lambda_C (lambda U_u - ge Z_k)                           (user side)
// The user's released rows have norm n (accumulated in double); it adds c g with c = min(1, C / n) (1 when
// n = 0). Then noise sigma C xi on every released coordinate, and every array steps by -gamma times its sum.
// One thread: a step touches a small batch, and the sums keep the reference's order.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "socialrec/dp_step.hpp"

namespace socialrec {

template <class T>
struct DPSoRecStepArgs : dp::UserStepArgs<T> {  // values: r~ in [0, 1]
    T* link_factors;                    // n_users x factors (Z, released)
    const std::int64_t* edge_offsets;   // n_users + 1: user u's outgoing edges
    const std::int32_t* trustees;
    const double* targets;              // c of each edge
    const double* item_noise;  // n_items x (factors + biased), standard normal; nullptr: no noise
    const double* link_noise;  // n_users x factors (with item_noise)
    double social_regularization;
};

template <class T>
void dp_sorec_step(const DPSoRecStepArgs<T>& a) {
    const std::int64_t d = a.factors;
    const T lambda = T(a.regularization), lambda_b = T(a.bias_regularization), lambda_c = T(a.social_regularization);
    const T b = T(a.global_bias), one = T(1);
    std::vector<T> GV(std::size_t(a.n_items * d), T(0)), GZ(std::size_t(a.n_users * d), T(0));
    std::vector<T> GU(std::size_t(a.n_users * d), T(0));
    std::vector<T> Gbi(a.biased ? std::size_t(a.n_items) : 0, T(0)), Gbu(a.biased ? std::size_t(a.n_users) : 0, T(0));
    dp::UnitRows<T> unit;
    for (std::int64_t s = 0; s < a.n_sampled; ++s) {
        const std::int64_t u = a.sampled[s];
        const T* p = a.user_factors + u * d;
        T* gu = GU.data() + u * d;
        unit.clear();
        for (std::int64_t k = a.rating_offsets[u]; k < a.rating_offsets[u + 1]; ++k) {
            const std::int64_t i = a.items[k];
            const T* v = a.item_factors + i * d;
            T x = 0;
            for (std::int64_t f = 0; f < d; ++f) x += p[f] * v[f];
            x = b + x + (a.biased ? a.user_bias[u] + a.item_bias[i] : T(0));
            const T sx = dp::logistic(x);
            const T ge = (T(a.values[k]) - sx) * sx * (one - sx);
            T* gv = unit.add(GV.data() + i * d, d);
            T gv2 = 0;
            for (std::int64_t f = 0; f < d; ++f) {
                gv[f] = lambda * v[f] - ge * p[f];
                gu[f] += lambda * p[f] - ge * v[f];
                gv2 += gv[f] * gv[f];
            }
            unit.add_norm2(double(gv2));
            if (a.biased) {
                T* gb = unit.add(Gbi.data() + i, 1);
                *gb = lambda_b * a.item_bias[i] - ge;
                Gbu[std::size_t(u)] += lambda_b * a.user_bias[u] - ge;
                unit.add_norm2(double(*gb) * double(*gb));
            }
        }
        for (std::int64_t e = a.edge_offsets[u]; e < a.edge_offsets[u + 1]; ++e) {
            const std::int64_t k = a.trustees[e];
            const T* z = a.link_factors + k * d;
            T x = 0;
            for (std::int64_t f = 0; f < d; ++f) x += p[f] * z[f];
            const T sx = dp::logistic(x);
            const T ge = (T(a.targets[e]) - sx) * sx * (one - sx);
            T* gz = unit.add(GZ.data() + k * d, d);
            T gz2 = 0;
            for (std::int64_t f = 0; f < d; ++f) {
                gz[f] = lambda_c * (lambda * z[f] - ge * p[f]);
                gu[f] += lambda_c * (lambda * p[f] - ge * z[f]);
                gz2 += gz[f] * gz[f];
            }
            unit.add_norm2(double(gz2));
        }
        unit.clip_into_totals(a.clip_norm);
    }
    const T gamma = T(a.learning_rate), scale = T(a.noise_scale);
    const std::int64_t width = d + (a.biased ? 1 : 0);  // the item noise's columns: V | b_i
    dp::descend(a.item_factors, GV, a.n_items, d, a.item_noise, width, 0, gamma, scale);
    dp::descend(a.link_factors, GZ, a.n_users, d, a.link_noise, d, 0, gamma, scale);
    dp::descend<T>(a.user_factors, GU, a.n_users, d, nullptr, 0, 0, gamma, scale);
    if (a.biased) {
        dp::descend(a.item_bias, Gbi, a.n_items, 1, a.item_noise, width, d, gamma, scale);
        dp::descend<T>(a.user_bias, Gbu, a.n_users, 1, nullptr, 0, 0, gamma, scale);
    }
}

}  // namespace socialrec
