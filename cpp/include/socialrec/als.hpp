// Weighted alternating least squares (WRMF) for implicit feedback: the row solves shared by ALS and SocialALS.
//
// Hu, Koren, Volinsky, "Collaborative filtering for implicit feedback datasets", ICDM 2008, eq. (3):
//   minimise  sum_{u,i} c_ui (p_ui - x_u.y_i)^2 + lambda (sum_u |x_u|^2 + sum_i |y_i|^2)
//   p_ui = 1 and c_ui = 1 + alpha r_ui on stored entries; p_ui = 0 and c_ui = 1 everywhere else.
// With the other side Y fixed, row u minimises a quadratic whose normal equations are (eq. 4)
//   A_u x_u = b_u,   A_u = Y'Y + sum_{i in R(u)} alpha r_ui y_i y_i' + lambda I,
//                    b_u = sum_{i in R(u)} (1 + alpha r_ui) y_i.
// The Gramian Y'Y is computed once per half-step, so a row costs O(k^2 + |R(u)| k) per product with A_u.
// A model may add shift_u I to A_u and a vector to b_u (SocialALS's graph term); see RowTerm below.
//
// Solvers: conjugate gradient warm-started from the current row, cg_steps steps (Takacs, Pilaszy, Tikk,
// "Applications of the conjugate gradient method for implicit feedback collaborative filtering", RecSys 2011,
// Alg. 2-3), or the exact solution by Cholesky factorisation of A_u.
//
// The objective for free: the row's share of the objective is f(x) = x'A x - 2 b'x + sum_{i in R(u)} c_ui,
// and with the residual r = b - A x that CG maintains, f = sum c_ui - x.(b + r) costs O(k) (Cholesky
// computes r explicitly). Summing f over the item rows of the second half-step gives the whole objective
// except lambda |X|^2, which the epoch adds.
//
// Determinism: rows are independent given the fixed side, and the Gramian is summed over a fixed set of
// chunks (a function of the row count only), so every thread count gives the same bits.
// Mirrored by socialrec/reference/als.py.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "socialrec/isa.hpp"
#include "socialrec/parallel.hpp"
#include "socialrec/types.hpp"
#include "socialrec/vec.hpp"

namespace socialrec {

// Rows of a sparse matrix in CSR form (int64 offsets, int32 column indices, float32 values): the
// interactions r_ui of each user (or of each item, for the transpose), or a similarity graph.
struct CsrRows {
    const std::int64_t* indptr;  // rows + 1
    const std::int32_t* indices;
    const float* values;
    std::int64_t rows;
};

struct ALSSolver {
    double alpha;           // confidence slope: c = 1 + alpha r
    double regularization;  // lambda
    std::int32_t cg_steps;  // conjugate-gradient steps per row (ignored by Cholesky)
    bool cholesky;          // exact solve instead of CG
};

// The rows of the Gramian's fixed chunks: rows are cut into min(64, ceil(n/256)) chunks, chunk c holding rows
// [gramian_chunk_begin(n, c), gramian_chunk_begin(n, c + 1)). A function of n only (never of the threads), so
// a blocked fit (socialrec/distributed) can compute each chunk where its rows live and add the partial sums
// in the same order.
inline std::int64_t gramian_chunks(std::int64_t n) {
    return std::max<std::int64_t>(1, std::min<std::int64_t>(64, (n + 255) / 256));
}
inline std::int64_t gramian_chunk_begin(std::int64_t n, std::int64_t c) { return n * c / gramian_chunks(n); }

}  // namespace socialrec

SOCIALREC_KERNELS_BEGIN

// P += sum_{i in [begin, end)} y_i y_i' (k x k, both triangles): one chunk's partial Gramian.
template <class T, class Dim>
void gramian_chunk(const T* Y, std::int64_t begin, std::int64_t end, Dim dim, T* P) {
    const int k = dim.size();
    std::int64_t i = begin;
    // Four rank-1 updates at a time: each row of P is loaded and stored once per four rows of Y.
    for (; i + 4 <= end; i += 4) {
        const T *y0 = Y + i * k, *y1 = y0 + k, *y2 = y1 + k, *y3 = y2 + k;
        for (int j = 0; j < k; ++j) {
            const T a0 = y0[j], a1 = y1[j], a2 = y2[j], a3 = y3[j];
            T* __restrict row = P + std::int64_t(j) * k;
#pragma omp simd
            for (int l = 0; l < dim.size(); ++l) row[l] += a0 * y0[l] + a1 * y1[l] + a2 * y2[l] + a3 * y3[l];
        }
    }
    for (; i < end; ++i) {
        const T* y = Y + i * k;
        for (int j = 0; j < k; ++j) axpy(y[j], y, P + std::int64_t(j) * k, dim);
    }
}

// The Gramian G = Y'Y (k x k, both triangles) of the n x k rows Y: the chunks' partial sums (gramian_chunks)
// added in chunk order, so the result does not depend on the threads.
template <class T, class Dim>
void gramian(const T* Y, std::int64_t n, Dim dim, T* G, int threads) {
    const int k = dim.size();
    const std::int64_t kk = std::int64_t(k) * k;
    const std::int64_t chunks = gramian_chunks(n);
    std::vector<T> partial(chunks * kk, T(0));
#pragma omp parallel num_threads(threads)
    {
#pragma omp for schedule(dynamic, 1)
        for (std::int64_t c = 0; c < chunks; ++c)
            gramian_chunk(Y, gramian_chunk_begin(n, c), gramian_chunk_begin(n, c + 1), dim, partial.data() + c * kk);
#pragma omp for schedule(static)
        for (std::int64_t e = 0; e < kk; ++e) {
            T acc = 0;
            for (std::int64_t c = 0; c < chunks; ++c) acc += partial[c * kk + e];
            G[e] = acc;
        }
    }
}

// out = G v for a symmetric k x k G, as a sum of G's rows (columns) scaled by v: contiguous loads only.
template <class T>
inline void symmetric_product(const T* G, const T* __restrict v, T* __restrict out, DynamicDim dim) {
    for (int j = 0; j < dim.size(); ++j) out[j] = 0;
    for (int l = 0; l < dim.size(); ++l) axpy(v[l], G + std::int64_t(l) * dim.size(), out, dim);
}

// Fixed k: the sum lives in registers, in two interleaved accumulators (even and odd rows of G) so that two
// independent FMA chains hide the FMA latency; this product is most of the cost of a CG step.
template <class T, int K>
inline void symmetric_product(const T* G, const T* __restrict v, T* __restrict out, FixedDim<K>) {
    T even[K], odd[K];
    for (int j = 0; j < K; ++j) even[j] = odd[j] = 0;
    for (int l = 0; l + 1 < K; l += 2) {
        const T a = v[l], b = v[l + 1];
        const T* __restrict g0 = G + std::int64_t(l) * K;
        const T* __restrict g1 = g0 + K;
#pragma omp simd
        for (int j = 0; j < K; ++j) {
            even[j] += a * g0[j];
            odd[j] += b * g1[j];
        }
    }
    if constexpr (K % 2 == 1) {
        const T* __restrict g = G + std::int64_t(K - 1) * K;
        for (int j = 0; j < K; ++j) even[j] += v[K - 1] * g[j];
    }
#pragma omp simd
    for (int j = 0; j < K; ++j) out[j] = even[j] + odd[j];
}

// A dot product whose horizontal sum is a tree over one register's lanes: the plain `omp simd` reduction of
// vec.hpp ends in a serial lane-by-lane sum, which costs as much as the multiply-adds at these sizes.
template <class T, class Dim>
inline T row_dot(const T* __restrict a, const T* __restrict b, Dim dim) {
    constexpr int W = 64 / int(sizeof(T));  // lanes of a 512-bit register (two registers with AVX2)
    if constexpr (std::is_same_v<Dim, DynamicDim>) {
        return dot(a, b, dim);
    } else if constexpr (Dim::size() % W != 0) {
        return dot(a, b, dim);
    } else {
        T acc[W];
        for (int j = 0; j < W; ++j) acc[j] = 0;
        for (int c = 0; c < Dim::size(); c += W) {
#pragma omp simd
            for (int j = 0; j < W; ++j) acc[j] += a[c + j] * b[c + j];
        }
        for (int w = W / 2; w >= 1; w /= 2) {
#pragma omp simd
            for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
        }
        return acc[0];
    }
}

// What a model adds to one row's normal equations: A_u += shift(u) I, b_u += extra (add_rhs).
// Plain WRMF adds nothing.
struct NoRowTerm {
    static constexpr bool enabled = false;
    template <class T>
    T shift(std::int64_t) const { return T(0); }
    template <class T, class Dim>
    void add_rhs(std::int64_t, T*, Dim) const {}
};

// One row's data and the products with its matrix A = G + shift I + sum_e alpha r_e y_e y_e'.
template <class T, class Dim>
struct RowSystem {
    const T* G;
    const T* Y;  // the fixed side
    const std::int32_t* idx;
    const float* val;
    std::int64_t n;  // stored entries of the row
    T alpha, shift;
    Dim dim;

    const T* y(std::int64_t e) const { return Y + std::int64_t(idx[e]) * dim.size(); }

    // out = A v
    void apply(const T* __restrict v, T* __restrict out) const {
        symmetric_product(G, v, out, dim);
        axpy(shift, v, out, dim);
        for (std::int64_t e = 0; e < n; ++e) {
            const T* ye = y(e);
            axpy(alpha * T(val[e]) * row_dot(ye, v, dim), ye, out, dim);
        }
    }

    // b = sum_e (1 + alpha r_e) y_e; returns sum_e c_e (the row's constant term of the objective).
    double rhs(T* __restrict b) const {
        double confidence = 0;
        for (int j = 0; j < dim.size(); ++j) b[j] = 0;
        for (std::int64_t e = 0; e < n; ++e) {
            const T c = T(1) + alpha * T(val[e]);
            axpy(c, y(e), b, dim);
            confidence += double(c);
        }
        return confidence;
    }
};

// Per-thread scratch vectors of one half-step.
template <class T>
struct RowScratch {
    std::vector<T> b, r, p, Ap, A, L;
    RowScratch(int k, bool cholesky)
        : b(k), r(k), p(k), Ap(k), A(cholesky ? std::size_t(k) * k : 0), L(cholesky ? std::size_t(k) * k : 0) {}
};

// Takacs et al. 2011, Alg. 3: `steps` CG steps on A x = b from the current x (x updated in place).
// Stops early when |r|^2 < 1e-20 (converged) or p'Ap <= 0 (no descent direction left; NaN included).
// Returns the residual r = b - A x (in s.r) through the CG recurrence.
template <class T, class Dim>
void cg_solve(const RowSystem<T, Dim>& sys, T* __restrict x, RowScratch<T>& s, int steps) {
    const Dim dim = sys.dim;
    T *__restrict b = s.b.data(), *__restrict r = s.r.data(), *__restrict p = s.p.data(), *__restrict Ap = s.Ap.data();
    sys.apply(x, Ap);
    for (int j = 0; j < dim.size(); ++j) r[j] = b[j] - Ap[j];
    for (int j = 0; j < dim.size(); ++j) p[j] = r[j];
    T rs = row_dot(r, r, dim);
    for (int step = 0; step < steps; ++step) {
        if (double(rs) < 1e-20) break;
        sys.apply(p, Ap);
        const T pAp = row_dot(p, Ap, dim);
        if (!(pAp > T(0))) break;
        const T a = rs / pAp;
        axpy(a, p, x, dim);
        axpy(-a, Ap, r, dim);
        const T rs_new = row_dot(r, r, dim);
        const T beta = rs_new / rs;
#pragma omp simd
        for (int j = 0; j < dim.size(); ++j) p[j] = r[j] + beta * p[j];
        rs = rs_new;
    }
}

// Exact solve: A assembled densely, factored A = L L' (lower, row-major), then two triangular solves.
// The residual r = b - A x is computed from A afterwards (for the objective). A non-positive pivot (only
// possible through rounding, A being positive definite for lambda > 0) yields NaN, which the epoch reports.
template <class T, class Dim>
void cholesky_solve(const RowSystem<T, Dim>& sys, T* __restrict x, RowScratch<T>& s) {
    const Dim dim = sys.dim;
    const int k = dim.size();
    T *__restrict A = s.A.data(), *__restrict L = s.L.data(), *__restrict b = s.b.data();
    for (std::int64_t e = 0; e < std::int64_t(k) * k; ++e) A[e] = sys.G[e];
    for (int j = 0; j < k; ++j) A[std::int64_t(j) * k + j] += sys.shift;
    for (std::int64_t e = 0; e < sys.n; ++e) {
        const T* ye = sys.y(e);
        const T w = sys.alpha * T(sys.val[e]);
        for (int j = 0; j < k; ++j) axpy(w * ye[j], ye, A + std::int64_t(j) * k, dim);
    }
    // Cholesky-Banachiewicz, row by row: L[i][j] = (A[i][j] - L[i][:j].L[j][:j]) / L[j][j].
    for (int i = 0; i < k; ++i) {
        T* Li = L + std::int64_t(i) * k;
        for (int j = 0; j <= i; ++j) {
            const T* Lj = L + std::int64_t(j) * k;
            const T v = A[std::int64_t(i) * k + j] - dot(Li, Lj, DynamicDim{j});
            Li[j] = (i == j) ? std::sqrt(v) : v / Lj[j];
        }
    }
    // L z = b (z in x), then L' x = z by columns of L' = rows of L.
    for (int i = 0; i < k; ++i) {
        const T* Li = L + std::int64_t(i) * k;
        x[i] = (b[i] - dot(Li, x, DynamicDim{i})) / Li[i];
    }
    for (int i = k - 1; i >= 0; --i) {
        const T* Li = L + std::int64_t(i) * k;
        x[i] /= Li[i];
        axpy(-x[i], Li, x, DynamicDim{i});
    }
    T* __restrict r = s.r.data();
    symmetric_product(A, x, r, dim);
    for (int j = 0; j < k; ++j) r[j] = b[j] - r[j];
}

// Threads for solving `rows` (a parallel region costs more than it saves below a few million flops per
// thread); the result does not depend on the count either way.
template <class Dim>
int solve_threads(const CsrRows& rows, Dim dim, const ALSSolver& solver, const PassSettings& settings) {
    const int k = dim.size();
    const double products = solver.cholesky ? k / 3.0 + 1 : solver.cg_steps + 1.0;  // A-products per row
    const double flops = products * (double(rows.rows) * k * k + 2.0 * double(rows.indptr[rows.rows]) * k);
    return int(std::min<double>(resolve_threads(settings.threads), 1 + flops / 4e6));
}

// Solves every row of X (rows.rows x k) against the fixed rows Y that `rows` indexes, whose whole side has
// the Gramian G. Returns sum_rows f(x_row) (see the header comment) when want_loss, else 0. Each row depends
// on G, its own Y rows and the term only, so any subset of rows gives the bits of the whole half-step (the
// blocked fits of socialrec/distributed solve one block of rows with it).
// The rows are run in batches so that Ctrl-C is seen between batches.
template <class T, class Dim, class Term>
double als_solve_rows(const CsrRows& rows, T* X, const T* Y, const T* G, Dim dim, const ALSSolver& solver,
                      const Term& term, bool want_loss, const PassSettings& settings) {
    const int k = dim.size();
    const int threads = solve_threads(rows, dim, solver, settings);
    std::vector<double> row_loss(want_loss ? rows.rows : 0, 0.0);
    const T alpha = T(solver.alpha), lambda = T(solver.regularization);

    // Each thread's scratch (k x k with Cholesky) is allocated here, outside the parallel region: a
    // std::bad_alloc inside it would end the process instead of reaching Python as MemoryError.
    std::vector<RowScratch<T>> scratches;
    scratches.reserve(std::size_t(threads));
    for (int t = 0; t < threads; ++t) scratches.emplace_back(k, solver.cholesky);

    constexpr std::int64_t batch = 1 << 14;
    for (std::int64_t begin = 0; begin < rows.rows; begin += batch) {
        const std::int64_t end = std::min(rows.rows, begin + batch);
#pragma omp parallel num_threads(threads)
        {
            RowScratch<T>& scratch = scratches[std::size_t(thread_id())];
#pragma omp for schedule(dynamic, 16)
            for (std::int64_t u = begin; u < end; ++u) {
                const std::int64_t first = rows.indptr[u];
                RowSystem<T, Dim> sys{G, Y, rows.indices + first, rows.values + first,
                                      rows.indptr[u + 1] - first, alpha, lambda, dim};
                if (Term::enabled) sys.shift = lambda + term.template shift<T>(u);
                const double confidence = sys.rhs(scratch.b.data());
                if (Term::enabled) term.add_rhs(u, scratch.b.data(), dim);
                T* x = X + u * k;
                if (solver.cholesky)
                    cholesky_solve(sys, x, scratch);
                else
                    cg_solve(sys, x, scratch, solver.cg_steps);
                if (want_loss) {
                    double xb = 0;
                    for (int j = 0; j < k; ++j) xb += double(x[j]) * (double(scratch.b[j]) + double(scratch.r[j]));
                    row_loss[u] = confidence - xb;
                }
            }
        }
        if (settings.should_stop()) throw Interrupted();
    }
    double total = 0;
    for (double v : row_loss) total += v;
    return total;
}

// One half-step: the Gramian of the whole fixed side Y (n_fixed x k), then every row of X solved against it.
template <class T, class Dim, class Term>
double als_half_step(const CsrRows& rows, T* X, const T* Y, std::int64_t n_fixed, Dim dim, const ALSSolver& solver,
                     const Term& term, bool want_loss, const PassSettings& settings) {
    const int k = dim.size();
    const int gramian_threads =
        int(std::min<double>(solve_threads(rows, dim, solver, settings), 1 + double(n_fixed) * k * k / 4e6));
    std::vector<T> G(std::size_t(k) * k);
    gramian(Y, n_fixed, dim, G.data(), gramian_threads);
    return als_solve_rows(rows, X, Y, G.data(), dim, solver, term, want_loss, settings);
}

// sum_rows |x_row|^2 (in double, rows in order).
template <class T, class Dim>
double squared_frobenius(const T* X, std::int64_t n, Dim dim) {
    double total = 0;
    for (std::int64_t u = 0; u < n; ++u) {
        const T* x = X + u * dim.size();
        for (int j = 0; j < dim.size(); ++j) total += double(x[j]) * double(x[j]);
    }
    return total;
}

SOCIALREC_KERNELS_END
