// The per-element math of every CUDA SGD step, as __host__ __device__ inline functions of plain floats and
// integers (no CUDA-only types). The steps themselves -- loads, reductions, the order of the updates -- are
// templates over a team and a row layout in cuda/models/<model>.hpp, written once: the kernels
// (cuda/models/*.cu, one warp per update: each lane applies the element functions to its slice of the rows,
// after a warp reduction of the scalars) and the host replays (cuda/host_steps.cpp, SerialTeam, bound as
// socialrec._cuda.host_*) instantiate the same template, and tests compare the replays with the CPU models'
// kernels on the same records in the same order (tests/test_cuda_steps.py). A broken formula or a broken
// step here therefore fails CI on machines without a GPU.
//
// Each function names the CPU step it mirrors (cpp/include/socialrec/models/*.hpp). Split of a step:
//   *_coef:    the scalars of one update from the reduced sums (dot products, norms) and the record;
//   *_element: one factor element's update (every lane calls it for each element it holds);
//   *_term:    the update's term of the objective, evaluated before the step (double, as the CPU).
// The reduction itself (the sum over elements of a row) is the only part that differs: a warp butterfly on
// the device, a serial loop on the host, SIMD lanes on the CPU; results agree to float32 rounding.
#pragma once
#include <cmath>
#include <cstdint>

#include "hd_team.hpp"  // SOCIALREC_HD
#include "socialrec/sorted_search.hpp"

namespace socialrec::cuda::step {

// ---------------------------------------------------------------------------------------------------------
// BiasedMF / PMF (biased_mf.hpp BiasedMFStep) and SoReg's rating step (PMF on r - mu, soreg.hpp)
// ---------------------------------------------------------------------------------------------------------
// e = r - (mu + b_u + b_i + p.q), or r - p.q without biases.
SOCIALREC_HD float mf_error(float r, float dot, float mu, float bias_sum, bool biased) {
    return r - (biased ? dot + mu + bias_sum : dot);
}

// The pair update of two factor elements with coefficient e (vec.hpp pair_update):
//   p += gamma (e q - lambda_p p),   q += gamma (e p_old - lambda_q q).
SOCIALREC_HD void pair_element(float& p, float& q, float e, float gamma, float lambda_p, float lambda_q) {
    const float p_old = p;
    p = fmaf(gamma, fmaf(e, q, -lambda_p * p_old), p_old);
    q = fmaf(gamma, fmaf(e, p_old, -lambda_q * q), q);
}

// b += gamma (e - lambda_b b)
SOCIALREC_HD float bias_element(float b, float e, float gamma, float lambda_b) {
    return b + gamma * (e - lambda_b * b);
}

// 1/2 e^2 + lambda/2 (|p|^2 + |q|^2) [+ lambda_b/2 (b_u^2 + b_i^2)]
SOCIALREC_HD double mf_term(float e, float norms, float lambda, bool biased, float b_u, float b_i,
                            float lambda_b) {
    double term = 0.5 * double(e) * e + 0.5 * double(lambda) * norms;
    if (biased) term += 0.5f * lambda_b * (b_u * b_u + b_i * b_i);
    return term;
}

// ---------------------------------------------------------------------------------------------------------
// The logistic pair step (logistic_pair.hpp LogisticPairStep): SoRec's rating and link terms, SocialMF's
// rating term, TrustMF's four terms. Observation (row a of A, row b of B, target c), weights w_d, w_p:
//   w_d 1/2 (c - g(x))^2 + w_p lambda/2 (|A_a|^2 + |B_b|^2),   x = offset + A_a . B_b,
//   A_a += gamma (d B_b - w_p lambda A_a),  B_b += gamma (d A_a - w_p lambda B_b),  d = w_d e g(x) (1 - g(x)).
// ---------------------------------------------------------------------------------------------------------
SOCIALREC_HD float logistic(float x) { return 1.0f / (1.0f + expf(-x)); }

struct LogisticCoef {
    float e;  // c - g(x)
    float d;  // w_d e g'(x): the coefficient of pair_element
};

SOCIALREC_HD LogisticCoef logistic_coef(float target, float dot, float offset, float data_weight) {
    const float g = logistic(offset + dot);
    const float e = target - g;
    return {e, data_weight * e * g * (1.0f - g)};
}

SOCIALREC_HD double logistic_term(float e, float norms, float data_weight, float penalty_weight, float lambda) {
    return 0.5 * double(data_weight) * double(e) * double(e) +
           0.5 * double(penalty_weight) * double(lambda) * double(norms);
}

// The bias penalty of a biased logistic side (logistic_pair.hpp, Biased): w_p lambda_b/2 (b_a^2 + b_b^2), the
// biases' step being bias_element(b, d, gamma, w_p lambda_b) with the pair step's coefficient d.
SOCIALREC_HD double logistic_bias_term(float penalty_weight, float bias_lambda, float b_a, float b_b) {
    return 0.5 * double(penalty_weight) * double(bias_lambda) * (double(b_a) * double(b_a) + double(b_b) * double(b_b));
}

// ---------------------------------------------------------------------------------------------------------
// SoReg SR2 edge step (soreg.hpp SoRegEdgeStep), edge (u, f) with w = beta Sim(u, f):
//   d = U_u - U_f,  U_u -= gamma w d,  U_f += gamma w d;   term w/2 |d|^2.
// Element-wise: no reduction is needed before the update (only for the term).
// ---------------------------------------------------------------------------------------------------------
// Updates u and f in place; returns d (the caller accumulates d^2 for the term).
SOCIALREC_HD float difference_element(float& u, float& f, float step) {
    const float d = u - f;
    u = fmaf(-step, d, u);
    f = fmaf(step, d, f);
    return d;
}

SOCIALREC_HD double difference_term(float weight, float squared_norm) { return 0.5 * double(weight) * squared_norm; }

// ---------------------------------------------------------------------------------------------------------
// The mean-pull user step: SocialMF's user term (social_mf.hpp SocialMFUserStep) and SoReg's SR1 term
// (soreg.hpp SoRegUserStep), user u with neighbours v and weights w_v summing to 1 (SoReg: Sim / sum Sim):
//   D = U_u - sum_v w_v U_v;  U_u -= gamma lambda D;  U_v += gamma lambda w_v D;   term lambda/2 |D|^2.
// Column f of D depends on column f of the rows only, so a kernel may finish one slice of columns (compute
// D's slice, update U_u's and every U_v's slice) before the next: the result is that of the CPU's
// whole-row order.
// ---------------------------------------------------------------------------------------------------------
SOCIALREC_HD float mean_pull_accumulate(float d, float weight, float neighbour) { return fmaf(-weight, neighbour, d); }
SOCIALREC_HD float mean_pull_own(float own, float d, float step) { return fmaf(-step, d, own); }
SOCIALREC_HD float mean_pull_neighbour(float neighbour, float d, float step, float weight) {
    return fmaf(step * weight, d, neighbour);
}
SOCIALREC_HD double mean_pull_term(float lambda, float squared_norm) { return 0.5 * double(lambda) * squared_norm; }

// ---------------------------------------------------------------------------------------------------------
// SVD++'s user-grouped step (svdpp.hpp UserGroupStep, TrustAware = false). For user u with n ratings:
//   z = n^-1/2 sum_j y_j (fixed for the group), g = 0; for each rating (u, i, r):
//     e = r - (mu + b_u + b_i + (p . q + z . q)),  g += e q,  p += gamma (e q - lambda p),
//     q += gamma (e (p_old + z) - lambda q),  b += gamma (e - lambda_b b),
//     term 1/2 e^2 + lambda/2 (|p|^2 + |q|^2) + lambda_b/2 (b_u^2 + b_i^2);
//   then each y_j, j in I_u: y = (y + gamma n^-1/2 g) / (1 + gamma n lambda), term n lambda/2 |y|^2.
// ---------------------------------------------------------------------------------------------------------
SOCIALREC_HD float inverse_sqrt_count(std::int64_t n) { return float(1.0 / sqrt(double(n))); }

SOCIALREC_HD float svdpp_error(float r, float mu, float b_u, float b_i, float dot_pq, float dot_zq) {
    return r - (mu + b_u + b_i + (dot_pq + dot_zq));
}

SOCIALREC_HD void svdpp_element(float& p, float& q, float& g, float z, float e, float gamma, float lambda_p,
                                float lambda_q) {
    const float pj = p, qj = q;
    g += e * qj;
    p = pj + gamma * (e * qj - lambda_p * pj);
    q = qj + gamma * (e * (pj + z) - lambda_q * qj);
}

SOCIALREC_HD double svdpp_term(float e, float lambda_p, float norm_p, float lambda_q, float norm_q, float lambda_bu,
                               float b_u, float lambda_bi, float b_i) {
    return 0.5 * double(e) * double(e) + 0.5 * double(lambda_p) * double(norm_p) +
           0.5 * double(lambda_q) * double(norm_q) + 0.5 * double(lambda_bu) * double(b_u) * double(b_u) +
           0.5 * double(lambda_bi) * double(b_i) * double(b_i);
}

// The proximal group step of y: 1 / (1 + gamma n lambda), and y <- (y + gamma (s g)) * shrink.
SOCIALREC_HD float proximal_shrink(float gamma, std::int64_t n, float lambda) {
    return 1.0f / (1.0f + gamma * float(n) * lambda);
}
SOCIALREC_HD float proximal_element(float y, float g, float gamma, float s, float shrink) {
    return (y + gamma * (s * g)) * shrink;
}
SOCIALREC_HD double group_penalty_term(std::int64_t n, float lambda, float squared_norm) {
    return 0.5 * double(n) * double(lambda) * double(squared_norm);
}

// TrustSVD's additions (svdpp.hpp UserGroupStep with TrustAware, trustsvd.hpp TrustLinkStep):
//   z += |T_u|^-1/2 sum_v w_v; the penalties weighted by |I_u|^-1/2 (p_u, b_u), |U_i|^-1/2 (q_i, b_i, y_i) and
//   |T+_v|^-1/2 (w_v); after the y step each trustee's w_v = (w_v + (gamma |T_u|^-1/2) g) / (1 + gamma n lam_w).
SOCIALREC_HD float trust_w_element(float w, float g, float gamma_s, float shrink) { return (w + g * gamma_s) * shrink; }

// The link step of TrustSVD, edge u -> v with value t: e = t - w_v . p_u, then pair_element(p, w, lambda_t e,
// gamma, lambda_t |T_u|^-1/2, lambda |T+_v|^-1/2); term lambda_t/2 e^2 + lam_p/2 |p|^2 + lam_w/2 |w|^2.
SOCIALREC_HD double trust_link_term(float lambda_t, float e, float lambda_p, float norm_p, float lambda_w,
                                    float norm_w) {
    return 0.5 * double(lambda_t) * double(e) * double(e) + 0.5 * double(lambda_p) * double(norm_p) +
           0.5 * double(lambda_w) * double(norm_w);
}

// ---------------------------------------------------------------------------------------------------------
// RSTE's user-grouped step (rste.hpp RSTEUserStep). User u, a_u = alpha (or 1 without out-links):
//   N = sum_v S_uv U_v (fixed for the group), grad = 0; per rating (u, i, r~): z = a_u U_u + (1 - alpha) N,
//   x = b + z . V_i, e and d = e g (1 - g) as logistic_coef (weight 1),
//   U_u += gamma (d a_u V_i - lambda U_u),  V_i += gamma (d z - lambda V_i),  grad += d V_i (old),
//   term 1/2 e^2 + lambda/2 (|U_u|^2 + |V_i|^2); after the group U_v += gamma (1 - alpha) S_uv grad.
// ---------------------------------------------------------------------------------------------------------
SOCIALREC_HD float rste_blend(float own, float u, float rest, float neighbours) { return own * u + rest * neighbours; }

SOCIALREC_HD void rste_element(float& u, float& v, float& grad, float z, float d, float own, float gamma,
                               float lambda) {
    const float uj = u, vj = v;
    u = uj + gamma * (d * own * vj - lambda * uj);
    v = vj + gamma * (d * z - lambda * vj);
    grad += d * vj;
}

SOCIALREC_HD float rste_neighbour(float neighbour, float grad, float step) { return fmaf(step, grad, neighbour); }

// ---------------------------------------------------------------------------------------------------------
// BPR (bpr.hpp bpr_pair_step) and SBPR (sbpr.hpp sbpr_step). Score x_ui = b_i + p_u . q_i.
// ---------------------------------------------------------------------------------------------------------
// -ln g(x) = ln(1 + e^-x), without overflow for either sign of x.
SOCIALREC_HD double neg_log_sigmoid(double x) { return fmax(-x, 0.0) + log1p(exp(-fabs(x))); }

// BPR: x = p . (q_i - q_j) + (b_i - b_j) (dot_diff = p . (q_i - q_j)); e = g(-x).
SOCIALREC_HD float bpr_coef(float dot_diff, float b_i, float b_j, float* x_out) {
    const float x = dot_diff + (b_i - b_j);
    *x_out = x;
    return 1.0f / (1.0f + expf(x));
}

SOCIALREC_HD void bpr_element(float& p, float& qi, float& qj, float e, float gamma, float lambda) {
    const float pf = p, qif = qi, qjf = qj;
    p = pf + gamma * (e * (qif - qjf) - lambda * pf);
    qi = qif + gamma * (e * pf - lambda * qif);
    qj = qjf + gamma * (-e * pf - lambda * qjf);
}

SOCIALREC_HD double bpr_term(float x, float norms, float lambda, float b_i, float b_j, float lambda_b) {
    return neg_log_sigmoid(double(x)) + 0.5 * double(lambda) * double(norms) +
           0.5 * double(lambda_b) * (double(b_i) * b_i + double(b_j) * b_j);
}

// SBPR: a = (p . (q_i - q_k) + (b_i - b_k)) / (1 + s),  c = p . (q_k - q_j) + (b_k - b_j),
//       x = x_ui - x_uj,  e1 = alpha g(-a) / (1 + s),  e2 = alpha g(-c),  e3 = (1 - alpha) g(-x)
//       (alpha: social_weight, sbpr.hpp; q_k and b_k decay by alpha lambda, alpha lambda_b).
struct SBPRCoef {
    float a, c, x, e1, e2, e3, alpha;
};

SOCIALREC_HD SBPRCoef sbpr_coef(float x_ik, float x_kj, float b_i, float b_k, float b_j, std::int32_t s,
                                float alpha) {
    const float scale = 1.0f / (1.0f + float(s));
    const float a = (x_ik + (b_i - b_k)) * scale;
    const float c = x_kj + (b_k - b_j);
    const float x = x_ik + x_kj + (b_i - b_j);
    const float e3 = alpha < 1.0f ? (1.0f - alpha) / (1.0f + expf(x)) : 0.0f;
    return {a, c, x, alpha * scale / (1.0f + expf(a)), alpha / (1.0f + expf(c)), e3, alpha};
}

SOCIALREC_HD void sbpr_element(float& p, float& qi, float& qk, float& qj, const SBPRCoef& k, float gamma,
                               float lambda) {
    const float pf = p, qif = qi, qkf = qk, qjf = qj;
    p = pf + gamma * (k.e1 * (qif - qkf) + k.e2 * (qkf - qjf) + k.e3 * (qif - qjf) - lambda * pf);
    qi = qif + gamma * ((k.e1 + k.e3) * pf - lambda * qif);
    qk = qkf + gamma * ((k.e2 - k.e1) * pf - k.alpha * lambda * qkf);
    qj = qjf + gamma * (-(k.e2 + k.e3) * pf - lambda * qjf);
}

// norms: |p_u|^2 + |q_i|^2 + |q_j|^2; norm_k: |q_k|^2.
SOCIALREC_HD double sbpr_term(const SBPRCoef& k, float norms, float norm_k, float lambda, float b_i, float b_k,
                              float b_j, float lambda_b) {
    const double w = double(k.alpha);
    double term = w * (neg_log_sigmoid(double(k.a)) + neg_log_sigmoid(double(k.c)) +
                       0.5 * double(lambda) * double(norm_k) + 0.5 * double(lambda_b) * double(b_k) * b_k);
    if (w < 1) term += (1 - w) * neg_log_sigmoid(double(k.x));
    return term + 0.5 * double(lambda) * double(norms) +
           0.5 * double(lambda_b) * (double(b_i) * b_i + double(b_j) * b_j);
}

// ---------------------------------------------------------------------------------------------------------
// Sampling on the device (BPR, SBPR): a counter-based stream per sample, so that any warp can draw any
// sample with no shared state. Sample s of an epoch draws from SplitMix64 seeded with output s + 1 of
// SplitMix64(key), key = stream_seed(seed, epoch, kSamplePass, 0) (rng.hpp; computed on the host). The draws
// follow sampling.hpp and sbpr.hpp's SBPRStep::draw: r = below(n_pool) picks the positive pair; a user with
// social items (and an item outside P_u and SP_u) draws t = below(|SP_u|) and then j outside P_u and SP_u;
// other users draw j outside P_u (rejection sampling against the sorted CSR rows, binary search).
// ---------------------------------------------------------------------------------------------------------
constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

using hd::mix64;  // SplitMix64's finaliser (rng.hpp splitmix64_mix; rounding.hpp)

SOCIALREC_HD std::uint64_t mul_high(std::uint64_t a, std::uint64_t b) {
#if defined(__CUDA_ARCH__)
    return __umul64hi(a, b);
#else
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(a) * b) >> 64);
#endif
}

struct CounterStream {
    std::uint64_t state;
    SOCIALREC_HD std::uint64_t next() {
        state += kGolden;
        return mix64(state);
    }
    // Uniform in [0, n): the high word of next() * n, as rng.hpp SplitMix64::below.
    SOCIALREC_HD std::uint64_t below(std::uint64_t n) { return mul_high(next(), n); }
};

SOCIALREC_HD CounterStream sample_stream(std::uint64_t key, std::uint64_t sample) {
    return {mix64(key + (sample + 1) * kGolden)};
}

using socialrec::sorted_contains;  // cpp/include/socialrec/sorted_search.hpp (host and device)

struct RankingSample {
    std::int32_t user, item, social, negative;  // social = -1: BPR's triple
    std::int32_t count;                          // s_uk
};

// The interactions the sampler reads (device or host pointers alike).
struct SamplerData {
    const std::int64_t* indptr;         // n_users + 1, each user's consumed items sorted
    const std::int32_t* indices;
    const std::int32_t* pool_users;     // n_pool positive pairs
    const std::int32_t* pool_items;
    std::int64_t n_pool;
    std::int32_t n_items;
    const std::int64_t* social_indptr;  // null for BPR
    const std::int32_t* social_items;
    const std::int32_t* social_counts;
};

// Entries of the sorted row a[0 .. n) that are <= j (an upper bound by bisection).
SOCIALREC_HD std::int64_t count_at_most(const std::int32_t* a, std::int64_t n, std::int32_t j) {
    std::int64_t lo = 0, hi = n;
    while (lo < hi) {
        const std::int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] <= j)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

// The m-th (from 0) item of [0, n_items) in neither sorted row a nor b (disjoint, no repeats), m < the number of
// such items: the smallest j with j + 1 - |a <= j| - |b <= j| > m, by bisection on j.
SOCIALREC_HD std::int32_t nth_outside(std::int64_t m, std::int32_t n_items, const std::int32_t* a, std::int64_t na,
                                      const std::int32_t* b, std::int64_t nb) {
    std::int32_t lo = 0, hi = n_items - 1;
    while (lo < hi) {
        const std::int32_t mid = lo + (hi - lo) / 2;
        if (std::int64_t(mid) + 1 - count_at_most(a, na, mid) - count_at_most(b, nb, mid) > m)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

// Rejections before draw_outside picks its item exactly (a user who consumed nearly every item); far above what
// a practical catalogue needs, so the draws stay those of sampling.hpp's rejection loop.
constexpr int kMaxRejections = 1 << 16;

// A uniform item outside the sorted rows a and b (disjoint, no repeats), or -1 when there is none (a user who
// has consumed every item: issue 25, item 8 -- the rejection loop alone would never end). Rejection sampling as
// sampling.hpp; after kMaxRejections tries the item is picked by rank among the free ones (still uniform).
SOCIALREC_HD std::int32_t draw_outside(std::int32_t n_items, const std::int32_t* a, std::int64_t na,
                                       const std::int32_t* b, std::int64_t nb, CounterStream& gen) {
    const std::int64_t free = std::int64_t(n_items) - na - nb;
    if (free <= 0) return -1;
    for (int tries = 0; tries < kMaxRejections; ++tries) {
        const auto j = static_cast<std::int32_t>(gen.below(std::uint64_t(n_items)));
        if (!sorted_contains(a, na, j) && !sorted_contains(b, nb, j)) return j;
    }
    return nth_outside(static_cast<std::int64_t>(gen.below(std::uint64_t(free))), n_items, a, na, b, nb);
}

// True when pool user u has consumed every item, so that no negative can be drawn for it (ranking_pass refuses
// such a pool before any update).
SOCIALREC_HD bool pool_user_saturated(const std::int64_t* indptr, std::int32_t u, std::int32_t n_items) {
    return indptr[std::int64_t(u) + 1] - indptr[u] >= n_items;
}

SOCIALREC_HD RankingSample draw_sample(const SamplerData& d, CounterStream& gen) {
    const auto r = static_cast<std::int64_t>(gen.below(std::uint64_t(d.n_pool)));
    const std::int32_t u = d.pool_users[r], i = d.pool_items[r];
    const std::int64_t own_begin = d.indptr[u];
    const std::int64_t own_size = d.indptr[std::int64_t(u) + 1] - own_begin;
    const std::int32_t* own = d.indices + own_begin;
    if (d.social_indptr != nullptr) {
        const std::int64_t begin = d.social_indptr[u];
        const std::int64_t size = d.social_indptr[std::int64_t(u) + 1] - begin;
        if (size > 0 && own_size + size < d.n_items) {
            const auto t = static_cast<std::int64_t>(gen.below(std::uint64_t(size)));
            const std::int32_t j = draw_outside(d.n_items, own, own_size, d.social_items + begin, size, gen);
            return {u, i, d.social_items[begin + t], j, d.social_counts[begin + t]};
        }
    }
    return {u, i, -1, draw_outside(d.n_items, own, own_size, nullptr, 0, gen), 0};
}

}  // namespace socialrec::cuda::step
