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

namespace socialrec {

template <class T>
struct DPSoRecStepArgs {
    T* user_factors;   // n_users x factors (U, user side)
    T* item_factors;   // n_items x factors (V, released)
    T* link_factors;   // n_users x factors (Z, released)
    T* user_bias;      // n_users (biased only)
    T* item_bias;      // n_items (biased only)
    const std::int64_t* rating_offsets;  // n_users + 1: user u's ratings are [rating_offsets[u], [u + 1])
    const std::int32_t* items;
    const float* values;                 // r~ in [0, 1]
    const std::int64_t* edge_offsets;    // n_users + 1: user u's outgoing edges
    const std::int32_t* trustees;
    const double* targets;               // c of each edge
    const std::int64_t* sampled;         // the batch's user ids
    std::int64_t n_sampled;
    const double* item_noise;  // n_items x (factors + biased), standard normal; nullptr: no noise
    const double* link_noise;  // n_users x factors (with item_noise)
    std::int64_t n_users, n_items;
    std::int32_t factors;
    bool biased;
    double global_bias, learning_rate, regularization, bias_regularization, social_regularization, clip_norm,
        noise_scale;
};

namespace dp_detail {

template <class T>
T logistic(T x) {
    return T(1) / (T(1) + std::exp(-x));
}

// One released row of a unit, kept until the unit's clipping factor is known.
template <class T>
struct ReleasedRow {
    T* sum;             // where the clipped row is added (a row of G_V or G_Z, or G_b's entry)
    std::int64_t size;  // factors, or 1 for a bias
    std::size_t at;     // its values in the unit's buffer
};

}  // namespace dp_detail

template <class T>
void dp_sorec_step(const DPSoRecStepArgs<T>& a) {
    using dp_detail::logistic;
    const std::int64_t d = a.factors;
    const T lambda = T(a.regularization), lambda_b = T(a.bias_regularization), lambda_c = T(a.social_regularization);
    const T b = T(a.global_bias), one = T(1);
    std::vector<T> GV(std::size_t(a.n_items * d), T(0)), GZ(std::size_t(a.n_users * d), T(0));
    std::vector<T> GU(std::size_t(a.n_users * d), T(0));
    std::vector<T> Gbi(a.biased ? std::size_t(a.n_items) : 0, T(0)), Gbu(a.biased ? std::size_t(a.n_users) : 0, T(0));
    std::vector<T> buffer;  // the unit's released gradients
    std::vector<dp_detail::ReleasedRow<T>> rows;
    for (std::int64_t s = 0; s < a.n_sampled; ++s) {
        const std::int64_t u = a.sampled[s];
        const T* p = a.user_factors + u * d;
        T* gu = GU.data() + u * d;
        buffer.clear();
        rows.clear();
        double norm2 = 0;
        auto keep = [&](T* sum, std::int64_t size) -> T* {  // room for one released row in the buffer
            rows.push_back({sum, size, buffer.size()});
            buffer.resize(buffer.size() + std::size_t(size));
            return buffer.data() + rows.back().at;
        };
        for (std::int64_t k = a.rating_offsets[u]; k < a.rating_offsets[u + 1]; ++k) {
            const std::int64_t i = a.items[k];
            const T* v = a.item_factors + i * d;
            T x = 0;
            for (std::int64_t f = 0; f < d; ++f) x += p[f] * v[f];
            x = b + x + (a.biased ? a.user_bias[u] + a.item_bias[i] : T(0));
            const T sx = logistic(x);
            const T ge = (T(a.values[k]) - sx) * sx * (one - sx);
            T* gv = keep(GV.data() + i * d, d);
            T gv2 = 0;
            for (std::int64_t f = 0; f < d; ++f) {
                gv[f] = lambda * v[f] - ge * p[f];
                gu[f] += lambda * p[f] - ge * v[f];
                gv2 += gv[f] * gv[f];
            }
            norm2 += double(gv2);
            if (a.biased) {
                T* gb = keep(Gbi.data() + i, 1);
                *gb = lambda_b * a.item_bias[i] - ge;
                Gbu[std::size_t(u)] += lambda_b * a.user_bias[u] - ge;
                norm2 += double(*gb) * double(*gb);
            }
        }
        for (std::int64_t e = a.edge_offsets[u]; e < a.edge_offsets[u + 1]; ++e) {
            const std::int64_t k = a.trustees[e];
            const T* z = a.link_factors + k * d;
            T x = 0;
            for (std::int64_t f = 0; f < d; ++f) x += p[f] * z[f];
            const T sx = logistic(x);
            const T ge = (T(a.targets[e]) - sx) * sx * (one - sx);
            T* gz = keep(GZ.data() + k * d, d);
            T gz2 = 0;
            for (std::int64_t f = 0; f < d; ++f) {
                gz[f] = lambda_c * (lambda * z[f] - ge * p[f]);
                gu[f] += lambda_c * (lambda * p[f] - ge * z[f]);
                gz2 += gz[f] * gz[f];
            }
            norm2 += double(gz2);
        }
        const double norm = std::sqrt(norm2);
        const T c = T(norm == 0 || norm <= a.clip_norm ? 1.0 : a.clip_norm / norm);
        for (const auto& row : rows)
            for (std::int64_t f = 0; f < row.size; ++f) row.sum[f] += c * buffer[row.at + std::size_t(f)];
    }
    const T gamma = T(a.learning_rate), scale = T(a.noise_scale);
    const std::int64_t width = d + (a.biased ? 1 : 0);
    for (std::int64_t i = 0; i < a.n_items; ++i) {
        for (std::int64_t f = 0; f < d; ++f) {
            T gsum = GV[std::size_t(i * d + f)];
            if (a.item_noise) gsum += scale * T(a.item_noise[i * width + f]);
            a.item_factors[i * d + f] -= gamma * gsum;
        }
        if (a.biased) {
            T gsum = Gbi[std::size_t(i)];
            if (a.item_noise) gsum += scale * T(a.item_noise[i * width + d]);
            a.item_bias[i] -= gamma * gsum;
        }
    }
    for (std::int64_t u = 0; u < a.n_users; ++u) {
        for (std::int64_t f = 0; f < d; ++f) {
            T gsum = GZ[std::size_t(u * d + f)];
            if (a.link_noise) gsum += scale * T(a.link_noise[u * d + f]);
            a.link_factors[u * d + f] -= gamma * gsum;
            a.user_factors[u * d + f] -= gamma * GU[std::size_t(u * d + f)];
        }
        if (a.biased) a.user_bias[u] -= gamma * Gbu[std::size_t(u)];
    }
}

}  // namespace socialrec
