// One ALS / SocialALS row update, written once for the CUDA kernel (a warp or a block per row, cuda/als.cu)
// and for its host-side check (SerialTeam, `host_als_half_step`). The math is cpp/include/socialrec/als.hpp's
// (and models/social_als.hpp's graph term), step for step:
//
//   A = G + shift I + sum_{e in row} alpha r_e y_e y_e',   shift = lambda (+ beta s_u for SocialALS),
//   b = sum_e (1 + alpha r_e) y_e                          (+ beta sum_f S_uf x_f(previous)),
//   x <- `steps` conjugate-gradient steps on A x = b from the current x (Takacs, Pilaszy, Tikk, RecSys 2011,
//        Alg. 3), stopping early when r'r < 1e-20 or p'Ap <= 0 (NaN included), exactly as cg_solve does;
//   row loss = sum_e c_e - x.(b + r)  (the row's share of the objective; r the CG residual), in double.
//
// The team's vectors (x, b, r, p, Ap: k floats each) live in memory every member can read (shared memory on
// the device): each member writes only its own elements j = rank + m * size, and reads all of v in A v.
// Only the order of the floating-point sums differs from the CPU kernel (float32 throughout, as there).
//
// Storage: the factor matrices (the solved rows X, the fixed side Y, SocialALS's snapshot of X) are arrays
// of T, float or a half type (dtype="float16" on CUDA: __half in the kernel; any type with a conversion to
// and from float). Every read widens to float and only the final store of a row rounds back to T, so a half
// run computes exactly what the float32 code computes on the widened values, rounded once at the end.
#pragma once
#include <cstdint>

#include "hd_team.hpp"

namespace socialrec::cuda::hd {

// One row's system. G is the k x k Gramian of the fixed side (symmetric, row-major, float), Y the fixed side.
template <class T>
struct AlsRow {
    const float* G = nullptr;
    const T* Y = nullptr;
    const std::int32_t* idx = nullptr;  // the row's stored entries: columns (rows of Y) and values r_e
    const float* val = nullptr;
    std::int64_t n = 0;
    float alpha = 0.0f, shift = 0.0f;
    int k = 0;
};

// A row of the social graph (SocialALS): neighbours f and weights S_uf.
struct GraphRow {
    const std::int32_t* idx = nullptr;
    const float* val = nullptr;
    std::int64_t n = 0;
};

// Scratch vectors of one team, k floats each.
struct AlsVectors {
    float *x, *b, *r, *p, *Ap;
};

// out = A v (out's own elements). v must be complete and visible to the team.
SOCIALREC_HD_TEMPLATE
template <class Team, class T>
SOCIALREC_HD void als_apply(const Team& t, const AlsRow<T>& s, const float* v, float* out) {
    const int k = s.k;
    for (int j = t.rank(); j < k; j += t.size()) {
        float acc = 0.0f;
        for (int l = 0; l < k; ++l) acc += s.G[std::int64_t(l) * k + j] * v[l];  // G symmetric: column j
        out[j] = acc + s.shift * v[j];
    }
    // Stored entries, four at a time so that a team's four reductions overlap.
    std::int64_t e = 0;
    for (; e + 4 <= s.n; e += 4) {
        const T* y0 = s.Y + std::int64_t(s.idx[e]) * k;
        const T* y1 = s.Y + std::int64_t(s.idx[e + 1]) * k;
        const T* y2 = s.Y + std::int64_t(s.idx[e + 2]) * k;
        const T* y3 = s.Y + std::int64_t(s.idx[e + 3]) * k;
        float d0 = 0.0f, d1 = 0.0f, d2 = 0.0f, d3 = 0.0f;
        for (int j = t.rank(); j < k; j += t.size()) {
            const float vj = v[j];
            d0 += float(y0[j]) * vj;
            d1 += float(y1[j]) * vj;
            d2 += float(y2[j]) * vj;
            d3 += float(y3[j]) * vj;
        }
        t.sum4(d0, d1, d2, d3);
        const float w0 = s.alpha * s.val[e] * d0, w1 = s.alpha * s.val[e + 1] * d1;
        const float w2 = s.alpha * s.val[e + 2] * d2, w3 = s.alpha * s.val[e + 3] * d3;
        for (int j = t.rank(); j < k; j += t.size()) {
            float o = out[j];
            o += w0 * float(y0[j]);
            o += w1 * float(y1[j]);
            o += w2 * float(y2[j]);
            o += w3 * float(y3[j]);
            out[j] = o;
        }
    }
    for (; e < s.n; ++e) {
        const T* y = s.Y + std::int64_t(s.idx[e]) * k;
        float d = 0.0f;
        for (int j = t.rank(); j < k; j += t.size()) d += float(y[j]) * v[j];
        d = t.sum(d);
        const float w = s.alpha * s.val[e] * d;
        for (int j = t.rank(); j < k; j += t.size()) out[j] += w * float(y[j]);
    }
}

// b = sum_e (1 + alpha r_e) y_e (own elements); returns sum_e c_e in double (the same on every member).
SOCIALREC_HD_TEMPLATE
template <class Team, class T>
SOCIALREC_HD double als_rhs(const Team& t, const AlsRow<T>& s, float* b) {
    const int k = s.k;
    for (int j = t.rank(); j < k; j += t.size()) b[j] = 0.0f;
    double confidence = 0.0;
    for (std::int64_t e = 0; e < s.n; ++e) {
        const float c = 1.0f + s.alpha * s.val[e];
        const T* y = s.Y + std::int64_t(s.idx[e]) * k;
        for (int j = t.rank(); j < k; j += t.size()) b[j] += c * float(y[j]);
        confidence += double(c);
    }
    return confidence;
}

// SocialALS: beta s_u (s_u = sum_f S_uf, summed in graph order in float, as GraphLaplacianTerm::shift).
SOCIALREC_HD float graph_shift(const GraphRow& g, float beta) {
    float degree = 0.0f;
    for (std::int64_t e = 0; e < g.n; ++e) degree += g.val[e];
    return beta * degree;
}

// SocialALS: b += beta sum_f S_uf x_f(previous) (own elements).
SOCIALREC_HD_TEMPLATE
template <class Team, class T>
SOCIALREC_HD void graph_rhs(const Team& t, const GraphRow& g, const T* previous, float beta, int k, float* b) {
    for (std::int64_t e = 0; e < g.n; ++e) {
        const float w = beta * g.val[e];
        const T* xf = previous + std::int64_t(g.idx[e]) * k;
        for (int j = t.rank(); j < k; j += t.size()) b[j] += w * float(xf[j]);
    }
}

// cg_solve of als.hpp: `steps` CG steps on A x = b from v.x (complete and visible on entry); v.x and v.r
// hold the new row and its residual on return (own elements).
SOCIALREC_HD_TEMPLATE
template <class Team, class T>
SOCIALREC_HD void als_cg(const Team& t, const AlsRow<T>& s, const AlsVectors& v, int steps) {
    const int k = s.k;
    als_apply(t, s, v.x, v.Ap);
    float part = 0.0f;
    for (int j = t.rank(); j < k; j += t.size()) {
        const float rj = v.b[j] - v.Ap[j];
        v.r[j] = rj;
        v.p[j] = rj;
        part += rj * rj;
    }
    float rs = t.sum(part);
    t.sync();  // p complete
    for (int step = 0; step < steps; ++step) {
        if (double(rs) < 1e-20) break;
        als_apply(t, s, v.p, v.Ap);
        part = 0.0f;
        for (int j = t.rank(); j < k; j += t.size()) part += v.p[j] * v.Ap[j];
        const float pAp = t.sum(part);
        if (!(pAp > 0.0f)) break;
        const float a = rs / pAp;
        part = 0.0f;
        for (int j = t.rank(); j < k; j += t.size()) {
            v.x[j] += a * v.p[j];
            const float rj = v.r[j] - a * v.Ap[j];
            v.r[j] = rj;
            part += rj * rj;
        }
        const float rs_new = t.sum(part);
        const float beta = rs_new / rs;
        t.sync();  // every member is done reading p
        for (int j = t.rank(); j < k; j += t.size()) v.p[j] = v.r[j] + beta * v.p[j];
        rs = rs_new;
        t.sync();  // p complete
    }
}

// The whole update of one row x_row of X (global): load, right-hand side, the social term when `social`
// (graph: the row's neighbours, previous: X before the half-step), CG, store.
// Returns the row's loss term (sum c - x.(b + r), from the float row before it is stored), the same on every
// member.
SOCIALREC_HD_TEMPLATE
template <class Team, class T>
SOCIALREC_HD double als_update_row(const Team& t, AlsRow<T> s, bool social, const GraphRow& graph, const T* previous,
                                   float beta, T* x_row, const AlsVectors& v, int steps) {
    const int k = s.k;
    for (int j = t.rank(); j < k; j += t.size()) v.x[j] = float(x_row[j]);
    const double confidence = als_rhs(t, s, v.b);
    if (social) {
        s.shift += graph_shift(graph, beta);
        graph_rhs(t, graph, previous, beta, k, v.b);
    }
    t.sync();  // x complete
    als_cg(t, s, v, steps);
    double xb = 0.0;
    for (int j = t.rank(); j < k; j += t.size()) {
        x_row[j] = T(v.x[j]);  // the one rounding to the storage type
        xb += double(v.x[j]) * (double(v.b[j]) + double(v.r[j]));
    }
    xb = t.sum(xb);
    t.sync();  // the vectors may be reused for the next row
    return confidence - xb;
}

}  // namespace socialrec::cuda::hd
